package qms

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Licence types of a Record.
const (
	Named    = "named"    // an assigned Named User CAL
	Document = "document" // a Document CAL: one user on one document
	Lease    = "lease"    // a named CAL borrowed by QlikView Desktop on a machine
	Session  = "session"  // a Session CAL in use
	Usage    = "usage"    // a Usage CAL in use
)

// Sources of a Record.
const (
	SourceQMS  = "qms"     // qvmeter qms pull
	SourcePGO  = "pgo-xml" // CalData.pgo.xml, BorrowedCalData.pgo.xml
	SourceCSV  = "csv"
	SourceJSON = "json"
)

// LeaseDays is how long a licence lease is valid after it was taken (or
// last renewed) [doc].
const LeaseDays = 30

// Record is one CAL the server's own state holds: a row of a snapshot
// (DIR/qms/date=YYYY-MM-DD/cals.parquet).
type Record struct {
	Server   string `parquet:"server,dict"`
	ServerID string `parquet:"server_id,dict"`
	CALType  string `parquet:"cal_type,dict"`
	User     string `parquet:"user"`
	// UserKey is User lower-cased, as the dataset's user_key.
	UserKey string `parquet:"user_key"`
	// Document is the document as the QMS names it (its path relative to
	// the server's document folder), for document CALs.
	Document string `parquet:"document,dict"`
	// DocumentKey is Document with / and lower-cased, as the dataset's
	// document_key ends.
	DocumentKey      string `parquet:"document_key,dict"`
	DocumentID       string `parquet:"document_id,dict"`
	DocumentFolderID string `parquet:"document_folder_id,dict"`
	// DocumentDeleted: the QMS lists the document as an orphan (its file
	// is gone) but still holds its CALs.
	DocumentDeleted  bool       `parquet:"document_deleted"`
	LastUsed         *time.Time `parquet:"last_used,optional,timestamp(millisecond)"`
	QuarantinedUntil *time.Time `parquet:"quarantined_until,optional,timestamp(millisecond)"`
	// Removed: taken away by an administrator, held until QuarantinedUntil.
	Removed  bool       `parquet:"removed"`
	Machine  string     `parquet:"machine"`
	LeasedAt *time.Time `parquet:"leased_at,optional,timestamp(millisecond)"`
	Source   string     `parquet:"source,dict"`
	TakenAt  time.Time  `parquet:"taken_at,timestamp(millisecond)"`
}

// normalize fills the keys from the names.
func (r *Record) normalize() {
	r.UserKey = strings.ToLower(strings.TrimSpace(r.User))
	r.DocumentKey = documentKey(r.Document)
}

// documentKey folds a document name the way the dataset's document_key
// does: \ turned into /, lower-cased, no leading /.
func documentKey(name string) string {
	return strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(name, `\`, "/")), "/")
}

// documentName is the name the QMS shows for a document node: its path
// relative to the document folder.
func documentName(n DocumentNode) string {
	if n.RelativePath == "" {
		return n.Name
	}
	rel := strings.ReplaceAll(n.RelativePath, `\`, "/")
	if strings.HasSuffix(strings.ToLower(rel), strings.ToLower(n.Name)) {
		return rel // some versions put the file name in RelativePath too
	}
	return path.Join(rel, n.Name)
}

// dateTimeLayouts are the ways WCF writes an xs:dateTime: with or without
// fraction, with Z, an offset, or no zone (a DateTime of unspecified kind,
// taken as UTC).
var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.9999999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// ParseTime reads a contract or export time; "" and DateTime.MinValue
// (0001-01-01…) are nil: never.
func ParseTime(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0001-01-01") {
		return nil, nil
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC().Truncate(time.Millisecond)
			return &t, nil
		}
	}
	return nil, fmt.Errorf("time %q: want an xs:dateTime such as 2024-03-01T09:30:00Z", s)
}

// calRecord turns a contract CAL into a Record.
func calRecord(server ServiceInfo, calType string, c CAL, takenAt time.Time) (Record, error) {
	r := Record{Server: server.Name, ServerID: server.ID, CALType: calType, User: c.UserName, Machine: c.MachineID,
		Source: SourceQMS, TakenAt: takenAt}
	var err error
	if r.LastUsed, err = ParseTime(c.LastUsed); err != nil {
		return r, fmt.Errorf("%s CAL of %s: LastUsed: %w", calType, c.UserName, err)
	}
	if r.QuarantinedUntil, err = ParseTime(c.QuarantinedUntil); err != nil {
		return r, fmt.Errorf("%s CAL of %s: QuarantinedUntil: %w", calType, c.UserName, err)
	}
	if r.LeasedAt, err = ParseTime(c.LeasedAt); err != nil {
		return r, fmt.Errorf("%s CAL of %s: LeasedAt: %w", calType, c.UserName, err)
	}
	r.normalize()
	return r, nil
}
