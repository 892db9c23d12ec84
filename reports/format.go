package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/parquet-go/parquet-go"
	"github.com/rivo/uniseg"
)

// Output formats.
const (
	FormatTable   = "table"   // aligned columns for a terminal
	FormatCSV     = "csv"     // header row, RFC 3339 UTC times, nulls empty
	FormatJSON    = "json"    // array of objects keyed by column name, nulls null
	FormatParquet = "parquet" // one row group, columns named as in CSV
	FormatQMC     = "qmc"     // the idle users as DOMAIN\user;DOMAIN\user for the QMC
)

// Formats lists every output format.
var Formats = []string{FormatTable, FormatCSV, FormatJSON, FormatParquet, FormatQMC}

// Write writes t to w in the given format, with the default Options.
func Write(w io.Writer, t *Table, format string) error { return Options{}.Write(w, t, format) }

// Options change how a table is written.
type Options struct {
	// RawCSV writes CSV cells as they are. By default a string cell that a
	// spreadsheet would run as a formula is written with a leading ' (see
	// neutralize).
	RawCSV bool
}

// Write writes t to w in the given format.
func (o Options) Write(w io.Writer, t *Table, format string) error {
	switch format {
	case FormatTable:
		return writeTable(w, t)
	case FormatCSV:
		return writeCSV(w, t, o.RawCSV)
	case FormatJSON:
		return writeJSON(w, t)
	case FormatParquet:
		return writeParquet(w, t)
	case FormatQMC:
		return writeQMC(w, t)
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// text is a value as CSV writes it: times in RFC 3339 UTC (with fractional
// seconds only when there are some), numbers in full, nulls empty.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	panic(fmt.Sprintf("reports: value of type %T", v))
}

// formulaStarts are the first characters that make a spreadsheet (Excel,
// LibreOffice, Google Sheets) read a cell as a formula, or that it skips
// before looking for one: a user name such as =HYPERLINK(…) in a revoke list
// would otherwise run when an administrator opens it.
const formulaStarts = "=+-@\t\r"

// neutralize makes a string cell that a spreadsheet would run as a formula
// text by putting a ' before it, the mark spreadsheets themselves use for
// "this is text" (and hide). Numbers and times are never changed: only
// strings from the logs can carry a formula.
func neutralize(s string) string {
	if s != "" && strings.IndexByte(formulaStarts, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// writeCSV writes a header row and one record per row; unless raw, string
// cells are neutralized.
func writeCSV(w io.Writer, t *Table, raw bool) error {
	cw := csv.NewWriter(w)
	record := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		record[i] = c.Name
	}
	if err := cw.Write(record); err != nil {
		return err
	}
	for _, row := range t.Rows {
		for i, v := range row {
			record[i] = text(v)
			if t.Columns[i].Kind == String && !raw {
				record[i] = neutralize(record[i])
			}
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON writes one object per line, keys in column order.
func writeJSON(w io.Writer, t *Table) error {
	keys := make([][]byte, len(t.Columns))
	for i, c := range t.Columns {
		keys[i], _ = json.Marshal(c.Name)
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	for r, row := range t.Rows {
		if r > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n{")
		for i, v := range row {
			if i > 0 {
				buf.WriteString(",")
			}
			buf.Write(keys[i])
			buf.WriteString(":")
			if tm, ok := v.(time.Time); ok {
				v = text(tm)
			}
			value, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("column %s: %w", t.Columns[i].Name, err)
			}
			buf.Write(value)
		}
		buf.WriteString("}")
		if buf.Len() > 1<<16 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
			buf.Reset()
		}
	}
	if len(t.Rows) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// maxCell is the widest a table cell gets; longer values are cut with "…"
// (csv and json carry them whole).
const maxCell = 80

// cell is a value as the table format (and the HTML page) shows it to a
// person: times to the minute, booleans as yes/no, control characters
// escaped so that a value cannot drive the terminal, invisible ones shown
// (see visible), long values cut.
func cell(v any) string {
	var s string
	switch v := v.(type) {
	case time.Time:
		s = v.UTC().Format("2006-01-02 15:04")
	case bool:
		s = map[bool]string{true: "yes", false: "no"}[v]
	default:
		s = text(v)
	}
	s = visible(s)
	if uniseg.StringWidth(s) > maxCell {
		var b strings.Builder
		width := 0
		g := uniseg.NewGraphemes(s)
		for g.Next() && width+g.Width() < maxCell {
			b.WriteString(g.Str())
			width += g.Width()
		}
		s = b.String() + "…"
	}
	return s
}

// visible shows what a reader could not see or would be misled by:
// control characters escaped as in Go (\t, \x1b), and format characters
// (Unicode Cf: zero-width spaces and joiners, bidirectional controls, the
// byte-order mark, the soft hyphen) as <U+200B>, so that
// "CORP\u200badmin" cannot pass for CORP\admin nor a right-to-left
// override reverse a name.
func visible(s string) string {
	if strings.IndexFunc(s, invisible) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		case unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func invisible(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

func pad(s string, width int, right bool) string {
	fill := strings.Repeat(" ", max(0, width-uniseg.StringWidth(s)))
	if right {
		return fill + s
	}
	return s + fill
}

func writeTable(w io.Writer, t *Table) error {
	var buf bytes.Buffer
	line := func(cells []string, widths []int, right func(int) bool) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(pad(c, widths[i], right(i)))
		}
		buf.WriteString(strings.TrimRight(b.String(), " "))
		buf.WriteString("\n")
	}
	numeric := func(i int) bool { return t.Columns[i].Kind == Int || t.Columns[i].Kind == Float }
	if t.Vertical {
		widths := []int{0, 0}
		for _, c := range t.Columns {
			widths[0] = max(widths[0], len(c.Name))
		}
		for r, row := range t.Rows {
			if r > 0 {
				buf.WriteString("\n")
			}
			for i, v := range row {
				line([]string{t.Columns[i].Name, cell(v)}, widths, func(int) bool { return false })
			}
		}
	} else {
		cells := make([][]string, 0, len(t.Rows)+2)
		header, rule := make([]string, len(t.Columns)), make([]string, len(t.Columns))
		widths := make([]int, len(t.Columns))
		for i, c := range t.Columns {
			header[i], widths[i] = c.Name, len(c.Name)
		}
		for _, row := range t.Rows {
			out := make([]string, len(row))
			for i, v := range row {
				out[i] = cell(v)
				widths[i] = max(widths[i], uniseg.StringWidth(out[i]))
			}
			cells = append(cells, out)
		}
		for i := range rule {
			rule[i] = strings.Repeat("-", widths[i])
		}
		line(header, widths, numeric)
		line(rule, widths, numeric)
		for _, out := range cells {
			line(out, widths, numeric)
		}
		if len(t.Rows) == 0 {
			buf.WriteString("(no rows)\n")
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeParquet writes t as one Parquet file: strings, 64-bit integers,
// doubles, booleans and TIMESTAMP(MILLIS, UTC), every column optional.
func writeParquet(w io.Writer, t *Table) error {
	group := parquet.Group{}
	for _, c := range t.Columns {
		var node parquet.Node
		switch c.Kind {
		case String:
			node = parquet.String()
		case Int:
			node = parquet.Int(64)
		case Float:
			node = parquet.Leaf(parquet.DoubleType)
		case Bool:
			node = parquet.Leaf(parquet.BooleanType)
		case Time:
			node = parquet.Timestamp(parquet.Millisecond)
		}
		group[c.Name] = parquet.Optional(parquet.Compressed(node, &parquet.Zstd))
	}
	schema := parquet.NewSchema(strings.ReplaceAll(t.Report, "-", "_"), group)
	// Leaves are in the schema's (name) order: index maps each to its column.
	index := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		leaf, _ := schema.Lookup(c.Name)
		index[leaf.ColumnIndex] = i
	}
	pw := parquet.NewWriter(w, schema, parquet.CreatedBy("qvmeter", "", ""))
	rows := make([]parquet.Row, 0, len(t.Rows))
	for _, row := range t.Rows {
		out := make(parquet.Row, len(index))
		for leaf, i := range index {
			switch v := row[i].(type) {
			case nil:
				out[leaf] = parquet.NullValue().Level(0, 0, leaf)
			case time.Time:
				out[leaf] = parquet.Int64Value(v.UnixMilli()).Level(0, 1, leaf)
			default:
				out[leaf] = parquet.ValueOf(v).Level(0, 1, leaf)
			}
		}
		rows = append(rows, out)
	}
	if _, err := pw.WriteRows(rows); err != nil {
		return err
	}
	return pw.Close()
}

// writeQMC writes the distinct users of the table's idle rows (every row
// when it has no idle column) as the semicolon-separated list the QMC's
// user fields accept. A user name the QMC would split or misread (one with
// a ';' or a control character) is refused rather than written.
func writeQMC(w io.Writer, t *Table) error {
	user := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == "user" })
	if user < 0 {
		return fmt.Errorf("format qmc: report %s has no user column", t.Report)
	}
	idle := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == "idle" })
	var users, unsafe []string
	for _, row := range t.Rows {
		name, _ := row[user].(string)
		if name == "" || (idle >= 0 && row[idle] != true) {
			continue
		}
		if strings.ContainsRune(name, ';') || strings.IndexFunc(name, unicode.IsControl) >= 0 {
			unsafe = append(unsafe, strconv.Quote(name))
			continue
		}
		users = append(users, name)
	}
	if len(unsafe) > 0 {
		slices.Sort(unsafe)
		return errors.New("format qmc: the QMC would split or misread these user names, remove them by hand: " + strings.Join(slices.Compact(unsafe), ", "))
	}
	slices.Sort(users)
	_, err := fmt.Fprintln(w, strings.Join(slices.Compact(users), ";"))
	return err
}
