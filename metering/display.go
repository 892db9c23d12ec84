package metering

import (
	"slices"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// Display names: a user is shown as the logs spell it, from the dataset's
// user column, which the decoder fills from the same field the user key
// came from (parse.UserDisplay: the first of Authenticated User and
// Identifying User that is not blank, else the Client Machine
// Identification). Rows written before that column (null there) are
// spelled by parse.UserDisplay from the two user fields. Where a user has several spellings (CORP\Anna, corp\anna), the
// first in sort order is kept (Dicts.SetUserDisplay).

// displayName is how a stored row spells its user.
func displayName(r *dataset.SessionRow) string {
	if user := deref(r.User); user != "" {
		return user
	}
	// An anonymous session has no spelling: its key is shown.
	return parse.UserDisplay(deref(r.AuthenticatedUser), deref(r.IdentifyingUser), "")
}

// optionalColumn tells whether a column of datasetColumns may be missing
// from a file: those added after the first datasets were written.
func optionalColumn(c int) bool { return c == colDisplay || c == colImplausible }

// needColumn tells whether the row group's string column c must be read:
// the spelling columns only while some user of it has no spelling yet
// (spellings), and the fallback's two only where the user column (read
// before them) is missing or null; client_address only where a client
// machine id (read before it) is empty, for ClientKey's fallback.
func (rg *decodedRowGroup) needColumn(c int, spellings bool) bool {
	switch c {
	case colDisplay:
		return spellings
	case colAuthenticated, colIdentifying:
		display := rg.strs[colDisplay-numInt64Columns].index
		return spellings && (len(display) == 0 || slices.Contains(display, -1))
	case colAddress: // read for ClientKey's fallback only
		return rg.strs[colMachine-numInt64Columns].hasEmpty()
	}
	return true
}

// internSpellings collects the spellings that change what a user is
// displayed as: per row the first non-empty of the user column and the
// fallback's two, each dictionary entry looked at once per row group.
func (in *interner) internSpellings(rg *decodedRowGroup) {
	users := rg.ids[colUser-numInt64Columns]
	columns := [...]*decodedStrings{&rg.strs[colDisplay-numInt64Columns],
		&rg.strs[colAuthenticated-numInt64Columns], &rg.strs[colIdentifying-numInt64Columns]}
	var offsets [len(columns)]int // of each column's entries in in.seen
	total := 0
	for k, column := range columns {
		offsets[k] = total
		total += len(column.ends)
	}
	in.seen = slices.Grow(in.seen[:0], total)[:total]
	clear(in.seen)
	for i, u := range users {
		in.lookedAt(u)
		for k, column := range columns {
			if len(column.index) == 0 || column.index[i] < 0 { // not read, or null
				continue
			}
			entry := int(column.index[i])
			spelling := column.text(entry)
			if len(spelling) == 0 {
				continue
			}
			if !in.seen[offsets[k]+entry] {
				in.seen[offsets[k]+entry] = true
				in.offerSpelling(rg, u, spelling)
			}
			break
		}
	}
}
