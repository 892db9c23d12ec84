package parse

import (
	"bytes"
)

// fieldKind says how a log field is converted.
type fieldKind uint8

const (
	kindIgnore       fieldKind = iota // an unknown column: skipped and counted
	kindDict                          // dictionary-encoded string
	kindString                        // plain string (Session ID)
	kindTime                          // time → timestamp[ms]
	kindInt                           // counter → int64, empty or -1 = null
	kindFloat                         // CPU seconds → float64
	kindDuration                      // Session Duration → duration_ms
	kindSessionEnd                    // Timestamp: parsed before the row is accepted
	kindSessionStart                  // Session Start: likewise
)

// logColumn is one column a session log can have.
type logColumn struct {
	header string // as QlikView writes it
	col    int    // output column; -1 for Session Duration (→ duration_ms)
	kind   fieldKind
}

// logColumns lists every known column in the 29-column order with Session
// ID last, as the one real 12.50 line has it. This order is also the
// fallback for a file that has no header at all.
var logColumns = [numLogColumns]logColumn{
	{"Exe Type", ColExeType, kindDict},
	{"Exe Version", ColExeVersion, kindDict},
	{"Server Started", ColServerStarted, kindTime},
	{"Timestamp", ColSessionEnd, kindSessionEnd},
	{"Document", ColDocument, kindDict},
	{"Document Timestamp", ColDocumentTimestamp, kindTime},
	{"QlikView User", ColQlikViewUser, kindDict},
	{"Exit Reason", ColExitReason, kindDict},
	{"Session Start", ColSessionStart, kindSessionStart},
	{"Session Duration", -1, kindDuration},
	{"CPU Spent (s)", ColCPUSeconds, kindFloat},
	{"Bytes Received", ColBytesReceived, kindInt},
	{"Bytes Sent", ColBytesSent, kindInt},
	{"Calls", ColCalls, kindInt},
	{"Selections", ColSelections, kindInt},
	{"Authenticated User", ColAuthenticatedUser, kindDict},
	{"Identifying User", ColIdentifyingUser, kindDict},
	{"Client Machine Identification", ColClientMachineID, kindString},
	{"Serial Number", ColSerialNumber, kindDict},
	{"Client Type", ColClientType, kindDict},
	{"Client Build Version", ColClientBuildVersion, kindDict},
	{"Secure Protocol", ColSecureProtocol, kindDict},
	{"Tunnel Protocol", ColTunnelProtocol, kindDict},
	{"Server Port", ColServerPort, kindInt},
	{"Client Address", ColClientAddress, kindString},
	{"Client Port", ColClientPort, kindInt},
	{"CAL Type", ColCALType, kindDict},
	{"CAL Usage Count", ColCALUsageCount, kindInt},
	{"Session ID", ColSessionID, kindString},
}

// numLogColumns is the number of columns a session log can have.
const numLogColumns = 29

// headerAliases are other spellings of a column's header, folded. A
// third-party reader of real files required Session ID spelled SessionId
// for a while ("Session Id" folds to the standard name already).
var headerAliases = map[string]string{
	"sessionid": "Session ID",
}

// logColumnByName maps a folded header name to its index in logColumns.
var logColumnByName = func() map[string]int {
	m := make(map[string]int, len(logColumns)+len(headerAliases))
	for i, c := range logColumns {
		m[foldHeader([]byte(c.header))] = i
	}
	for alias, name := range headerAliases {
		m[alias] = m[foldHeader([]byte(name))]
	}
	return m
}()

// foldHeader lower-cases a header name and folds runs of white space to one
// space, so that "Identifying User", "Identifying  user" and "CAL Type" vs
// "Cal Type" all match.
func foldHeader(b []byte) string { return string(appendFoldedHeader(nil, b)) }

func appendFoldedHeader(dst, b []byte) []byte {
	space := false
	for _, c := range bytes.TrimSpace(b) {
		switch {
		case c == ' ' || c == '\t' || c == '\u00a0':
			space = true
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// lookupColumn returns the index in logColumns of a header name. It does
// not allocate: it runs on every field of every line that may be a header.
func lookupColumn(name []byte) (int, bool) {
	var buf [64]byte
	idx, ok := logColumnByName[string(appendFoldedHeader(buf[:0], name))]
	return idx, ok
}

// field is one position of a line: what column it feeds and how.
type field struct {
	col  int
	kind fieldKind
}

// layout is the column-converter table built once from a header line: for
// each field position, the column it feeds. Columns the header lacks are
// listed in missing and are null in every row.
type layout struct {
	header  string  // the header line it was built from ("" for a default layout)
	fields  []field // one per field position
	pos     [numLogColumns]int
	unknown []string // header names that are not known columns
	missing []int    // output columns with no field
}

// newLayout builds the converter table for a header's field names.
func newLayout(header []byte, names [][]byte) *layout {
	l := &layout{header: string(header), fields: make([]field, len(names))}
	for i := range l.pos {
		l.pos[i] = -1
	}
	for i, name := range names {
		idx, ok := lookupColumn(name)
		if !ok || l.pos[idx] >= 0 {
			l.fields[i] = field{col: -1, kind: kindIgnore}
			l.unknown = append(l.unknown, string(name))
			continue
		}
		l.pos[idx] = i
		l.fields[i] = field{col: logColumns[idx].col, kind: logColumns[idx].kind}
	}
	for idx, c := range logColumns {
		// Timestamp and Session Start are stored whether read or derived.
		if l.pos[idx] < 0 && c.col >= 0 && c.kind != kindSessionEnd && c.kind != kindSessionStart {
			l.missing = append(l.missing, c.col)
		}
	}
	return l
}

// field returns the field of log column idx in a line's fields, or nil
// where the layout has no such column.
func (l *layout) field(fields [][]byte, idx int) []byte {
	if pos := l.pos[idx]; pos >= 0 {
		return fields[pos]
	}
	return nil
}

// isHeader tells whether the fields of a line are a header: the Timestamp
// and Session Start names are there, and most fields are known names.
func isHeader(names [][]byte) bool {
	known, hasTimestamp, hasStart := 0, false, false
	for _, name := range names {
		idx, ok := lookupColumn(name)
		if !ok {
			continue
		}
		known++
		switch logColumns[idx].col {
		case ColSessionEnd:
			hasTimestamp = true
		case ColSessionStart:
			hasStart = true
		}
	}
	return hasTimestamp && hasStart && 2*known >= len(names)
}

// The default layouts, for lines read where no header is in effect (a file
// without a header line): the 28 columns of QlikView 11 to 12.30, and
// those plus Session ID last. Each line is read with the one that fits its
// field count, so that decoding a header-less file from its start, from a
// checkpoint or from a chunk boundary reads every line alike.
var (
	defaultLayout28 = defaultLayout(len(logColumns) - 1)
	defaultLayout29 = defaultLayout(len(logColumns))
)

func defaultLayout(fieldCount int) *layout {
	names := make([][]byte, fieldCount)
	for i := range names {
		names[i] = []byte(logColumns[i].header)
	}
	return newLayout(nil, names)
}

// fit returns the fields of a line that layout l reads (l nil: no header
// in effect), the layout, and whether empty fields beyond the layout's were
// dropped. ok is false when the line has fewer fields than the layout, or
// extra fields that are not empty.
func fit(l *layout, fields [][]byte) (_ [][]byte, _ *layout, extra, ok bool) {
	if l == nil || l.header == "" {
		switch {
		case len(fields) >= len(defaultLayout29.fields):
			l = defaultLayout29
		case len(fields) == len(defaultLayout28.fields):
			l = defaultLayout28
		default:
			return fields, nil, false, false
		}
	}
	n := len(l.fields)
	if len(fields) < n {
		return fields, l, false, false
	}
	for _, f := range fields[n:] {
		if len(f) != 0 {
			return fields, l, false, false
		}
	}
	return fields[:n], l, len(fields) > n, true
}

// Header names of the columns the decoder looks at by position.
var (
	logSessionEnd   = logColumnByName["timestamp"]
	logSessionStart = logColumnByName["session start"]
	logDuration     = logColumnByName["session duration"]
	logAuthUser     = logColumnByName["authenticated user"]
	logIdentUser    = logColumnByName["identifying user"]
	logClientID     = logColumnByName["client machine identification"]
	logDocument     = logColumnByName["document"]
	logCALType      = logColumnByName["cal type"]
	logExitReason   = logColumnByName["exit reason"]
)

// HeaderLine returns a line as the decoder keeps a header (without BOM and
// line break: what Decoder.Header returns and Config.Header accepts) and
// whether the line is a session-log header at all.
func HeaderLine(line []byte) ([]byte, bool) {
	line = trimHeader(line)
	return line, isHeader(bytes.Split(line, []byte("\t")))
}

func trimHeader(line []byte) []byte {
	line, _ = trimLine(bytes.TrimSuffix(line, []byte("\n")))
	return line
}

// trimLine returns the content of a line read without its '\n': what
// follows its last NUL byte (a crash leaves a run of NULs where the end of
// the file was, and the server appends after it; nul tells whether there
// was one), without the BOMs before it (a restarted server writes one
// before its header) and the CRs after it. Trimming is idempotent, so that
// the header a decoder reports reads back as the same layout.
func trimLine(line []byte) (_ []byte, nul bool) {
	if bytes.IndexByte(line, 0) >= 0 {
		nul = true
		line = line[bytes.LastIndexByte(line, 0)+1:]
	}
	for bytes.HasPrefix(line, bom) {
		line = line[len(bom):]
	}
	n := len(line)
	for n > 0 && line[n-1] == '\r' {
		n--
	}
	return line[:n], nul
}
