package metering

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// TestScenarios runs the files under testdata/scenarios, one or more per
// rule of docs/licensing.md. Commands:
//
//	license             input: a licence file (TOML); prints "ok" or the error
//	sessions            input: one session a line, key=value (see parseSession)
//	reconstruct as-of=T [tables=a,b]   replays and prints the state tables
//	simulate as-of=T [tables=a,b]
//	reset               forgets the licence and the sessions
//
// Run with -rewrite to regenerate the expected output.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		var sc scenario
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return sc.run(t, d)
		})
	})
}

type scenario struct {
	license *License
	rows    []dataset.SessionRow
}

func (sc *scenario) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "reset":
		*sc = scenario{}
		return ""
	case "license":
		lic, err := ParseLicense("license.toml", []byte(d.Input))
		if err != nil {
			return "error: " + err.Error()
		}
		sc.license = lic
		return "ok"
	case "sessions":
		for i, line := range strings.Split(d.Input, "\n") {
			if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			row, err := parseSession(line, len(sc.rows)+1)
			if err != nil {
				d.Fatalf(t, "line %d: %v", i+1, err)
			}
			sc.rows = append(sc.rows, row)
		}
		return fmt.Sprintf("%d sessions", len(sc.rows))
	case "reconstruct", "simulate":
		var asOf, tables string
		d.ScanArgs(t, "as-of", &asOf)
		if d.HasArg("tables") {
			d.ScanArgs(t, "tables", &tables)
		}
		cfg := Config{AsOf: mustTime(t, asOf), License: sc.license}
		if d.Cmd == "simulate" {
			cfg.Mode = Simulate
		}
		st, err := ReplayRows(cfg, sc.rows)
		if err != nil {
			return "error: " + err.Error()
		}
		return formatState(st, tables)
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

// parseSession reads one session line: key=value words, values may be
// double-quoted. Keys: user (required), doc (Sales.qvw), start (required,
// RFC 3339 with a zone, or without seconds: 2024-03-01T09:00Z), end (start +
// 10m) or dur (a Go duration), cal (the raw CAL Type text, "Named User"),
// count (CAL Usage Count), server (A), exe (12.50.20200.0), client (the
// Client Machine Identification, pc-<user>; client="" for an empty one),
// type (Ajax), addr (the Client Address, absent by default), implausible (the
// decoder's reason, parse.Implausible*).
func parseSession(line string, n int) (dataset.SessionRow, error) {
	fields, err := splitKeyValues(line)
	if err != nil {
		return dataset.SessionRow{}, err
	}
	get := func(key, def string) string {
		if v, ok := fields[key]; ok {
			return v
		}
		return def
	}
	if fields["user"] == "" || fields["start"] == "" {
		return dataset.SessionRow{}, fmt.Errorf("user and start are required")
	}
	start, err := parseTime(fields["start"])
	if err != nil {
		return dataset.SessionRow{}, err
	}
	end := start.Add(10 * time.Minute)
	if v, ok := fields["end"]; ok {
		if end, err = parseTime(v); err != nil {
			return dataset.SessionRow{}, err
		}
	}
	if v, ok := fields["dur"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return dataset.SessionRow{}, err
		}
		end = start.Add(d)
	}
	user, doc := fields["user"], get("doc", "Sales.qvw")
	calText, exe := get("cal", "Named User"), get("exe", "12.50.20200.0")
	client, clientType := get("client", "pc-"+user), get("type", "Ajax")
	row := dataset.SessionRow{SessionStart: start.UnixMilli(), SessionEnd: end.UnixMilli(), DurationMS: end.Sub(start).Milliseconds(),
		AuthenticatedUser: &user, UserKey: parse.UserKey(user, "", ""), Document: &doc, DocumentKey: parse.DocumentKey(doc),
		Server: get("server", "A"), ExeVersion: &exe, CALType: &calText, CALClass: parse.ClassifyCAL([]byte(calText)).String(),
		ClientMachineID: &client, ClientType: &clientType, SourceFile: "Sessions_" + get("server", "A") + ".log", SourceLine: int64(n + 1)}
	if v, ok := fields["addr"]; ok {
		row.ClientAddress = &v
	}
	if v, ok := fields["count"]; ok {
		c, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return dataset.SessionRow{}, err
		}
		row.CALUsageCount = &c
	}
	if v, ok := fields["implausible"]; ok {
		row.Implausible = &v
	}
	return row, nil
}

func splitKeyValues(line string) (map[string]string, error) {
	out := map[string]string{}
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		key, rest, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("want key=value at %q", line)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			closing := strings.Index(rest[1:], `"`)
			if closing < 0 {
				return nil, fmt.Errorf("unclosed quote at %q", rest)
			}
			value, line = rest[1:1+closing], rest[2+closing:]
		} else {
			value, line, _ = strings.Cut(rest, " ")
		}
		out[key] = value
	}
	return out, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

func mustTime(t *testing.T, s string) time.Time {
	tm, err := parseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// formatState prints the non-empty tables (or those named in tables) as
// aligned text. Columns that are empty in every row of a table are left out.
func formatState(st *State, tables string) string {
	all := []struct {
		name string
		rows any
	}{
		{"holders", st.Holders}, {"capacity", st.Capacity}, {"months", st.Months}, {"concurrency", st.Concurrency},
		{"usage_cals", st.Usage}, {"anomalies", st.Anomalies}, {"denials", st.Denials},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sessions=%d excluded=%d later=%d", st.Info.Sessions, st.Info.Excluded, st.Info.Later)
	if st.Info.Mode == Simulate {
		fmt.Fprintf(&b, " same_as_logged=%d other_than_logged=%d", st.Info.SimulatedSameAsLogged, st.Info.SimulatedOtherThanLogged)
	}
	b.WriteString("\n")
	for _, table := range all {
		rows := reflect.ValueOf(table.rows)
		if (tables != "" && !strings.Contains(","+tables+",", ","+table.name+",")) || rows.Len() == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", table.name)
		writeTable(&b, rows)
	}
	return b.String()
}

func writeTable(b *strings.Builder, rows reflect.Value) {
	typ := rows.Type().Elem()
	cells := make([][]string, rows.Len())
	var columns []int
	for f := range typ.NumField() {
		used := false
		for r := range cells {
			text := formatCell(rows.Index(r).Field(f), typ.Field(f).Tag.Get("parquet"))
			cells[r] = append(cells[r], text)
			used = used || (text != "" && text != "0" && text != "false")
		}
		if used {
			columns = append(columns, f)
		}
	}
	w := tabwriter.NewWriter(b, 0, 0, 1, ' ', 0)
	header := make([]string, len(columns))
	for i, f := range columns {
		header[i] = strings.Split(typ.Field(f).Tag.Get("parquet"), ",")[0]
	}
	fmt.Fprintln(w, "  "+strings.Join(header, "\t"))
	for _, row := range cells {
		line := make([]string, len(columns))
		for i, f := range columns {
			line[i] = row[f]
		}
		fmt.Fprintln(w, "  "+strings.Join(line, "\t"))
	}
	w.Flush()
}

func formatCell(v reflect.Value, tag string) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch {
	case strings.Contains(tag, "timestamp("):
		return time.UnixMilli(v.Int()).UTC().Format("2006-01-02T15:04:05Z")
	case v.Kind() == reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	case v.Kind() == reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', 2, 64)
	case v.Kind() == reflect.String && v.String() == "":
		return ""
	}
	return fmt.Sprint(v.Interface())
}
