package metering

import "slices"

// The dictionaries the dataset reader interns into, by index.
const (
	dictUsers = iota
	dictDocuments
	dictServers
	dictExeVersions
	dictCALTexts
	dictSourceFiles
	dictTexts // client machines, client types and cal_class texts: the reader's own
	numDicts
)

// dictionaryOf is the dictionary a string column is interned in, -1 for the
// user spellings (kept as texts, not interned).
func dictionaryOf(column int) int {
	switch column {
	case colUser:
		return dictUsers
	case colDocument:
		return dictDocuments
	case colServer:
		return dictServers
	case colExeVersion:
		return dictExeVersions
	case colCALType:
		return dictCALTexts
	case colSourceFile:
		return dictSourceFiles
	case colAuthenticated, colIdentifying:
		return -1
	}
	return dictTexts
}

// interner interns row groups on the decoding goroutine, into copies of the
// engine's dictionaries: it hands each row group over with the names it
// added, which the engine appends to its own dictionaries in the same
// order, so that both assign the same ids without sharing memory.
type interner struct {
	dicts   [numDicts]*Dict
	shipped [numDicts]int // names already handed over
	display []string      // per user: the spelling kept (first in sort order)
	looked  []bool        // per user: spellings read for a row group with the user
	mapping []uint32      // one dictionary's ids
	seen    []bool        // one spelling dictionary's entries already looked at
}

// newInterner copies the dictionaries it interns into (dict* order).
func newInterner(dicts [numDicts]*Dict) *interner {
	in := &interner{}
	for i, d := range dicts {
		in.dicts[i] = d.clone()
		in.shipped[i] = d.Len()
	}
	return in
}

// internColumn interns a decoded string column into dictionary d, each
// dictionary entry once.
func (in *interner) internColumn(rg *decodedRowGroup, c, d int) {
	s, dict := &rg.strs[c-numInt64Columns], in.dicts[d]
	in.mapping = in.mapping[:0]
	for i := range s.ends {
		in.mapping = append(in.mapping, dict.IDBytes(s.text(i)))
	}
	null := dict.ID("")
	ids := rg.ids[c-numInt64Columns][:0]
	for _, index := range s.index {
		if index < 0 {
			ids = append(ids, null)
		} else {
			ids = append(ids, in.mapping[index])
		}
	}
	rg.ids[c-numInt64Columns] = ids
}

// handOver gives the row group the names interned since the previous one.
func (in *interner) handOver(rg *decodedRowGroup) {
	for d, dict := range in.dicts {
		rg.names[d] = append(rg.names[d][:0], dict.names[in.shipped[d]:]...)
		in.shipped[d] = dict.Len()
	}
}

// lacksSpelling reports whether one of the users has not been looked up
// yet: only then are a row group's spelling columns read, so a user's
// spelling comes from the first row group the user appears in. (A user
// keyed on a spelling has it in every row; an anonymous one in none.)
func (in *interner) lacksSpelling(users []uint32) bool {
	for _, u := range users {
		if int(u) >= len(in.looked) || !in.looked[u] {
			return true
		}
	}
	return false
}

// internSpellings collects the spellings (Authenticated, else Identifying
// User) that change what a user is displayed as; each dictionary entry is
// looked at once per row group.
func (in *interner) internSpellings(rg *decodedRowGroup) {
	users := rg.ids[colUser-numInt64Columns]
	authenticated, identifying := &rg.strs[colAuthenticated-numInt64Columns], &rg.strs[colIdentifying-numInt64Columns]
	in.seen = slices.Grow(in.seen[:0], len(authenticated.ends)+len(identifying.ends))[:len(authenticated.ends)+len(identifying.ends)]
	clear(in.seen)
	for i, u := range users {
		column, entry := authenticated, authenticated.index[i]
		seen := int(entry)
		if entry < 0 {
			column, entry = identifying, identifying.index[i]
			seen = len(authenticated.ends) + int(entry)
		}
		for int(u) >= len(in.looked) {
			in.looked = append(in.looked, false)
		}
		in.looked[u] = true
		if entry < 0 || in.seen[seen] {
			continue
		}
		in.seen[seen] = true
		spelling := column.text(int(entry))
		for int(u) >= len(in.display) {
			in.display = append(in.display, "")
		}
		if len(spelling) > 0 && (in.display[u] == "" || string(spelling) < in.display[u]) {
			in.display[u] = string(spelling)
			rg.spellings = append(rg.spellings, userSpelling{u, in.display[u]})
		}
	}
}
