package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCSVNeutralizesFormulas pins the CSV writer's formula rule: a string
// cell a spreadsheet would run (=, +, -, @, a tab or a carriage return
// first) gets a leading ', numbers never do, --csv-raw (Options.RawCSV)
// writes every cell as it is, and JSON keeps the exact value.
func TestCSVNeutralizesFormulas(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"= starts a formula", `=HYPERLINK("http://x","click")`, `'=HYPERLINK("http://x","click")`},
		{"+ starts a formula", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"- starts a formula", "-2+3", "'-2+3"},
		{"@ starts a formula", "@SUM(A1)", "'@SUM(A1)"},
		{"a tab is skipped before a formula", "\t=1", "'\t=1"},
		{"a carriage return is skipped before a formula", "\r=1", "'\r=1"},
		{"a user name is left alone", `CORP\alice`, `CORP\alice`},
		{"an inner = is left alone", "a=b", "a=b"},
		{"empty is left alone", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := &Table{Report: "test", Columns: []Column{{"user", String, ""}, {"n", Int, ""}}, Rows: [][]any{{tc.value, int64(-5)}}}
			for _, raw := range []bool{false, true} {
				var out bytes.Buffer
				require.NoError(t, Options{RawCSV: raw}.Write(&out, table, FormatCSV))
				records, err := csv.NewReader(&out).ReadAll()
				require.NoError(t, err)
				want := tc.want
				if raw {
					want = tc.value
				}
				require.Equal(t, []string{want, "-5"}, records[1], "raw %v; a negative number stays a number", raw)
			}
			var out bytes.Buffer
			require.NoError(t, Write(&out, table, FormatJSON))
			var objects []map[string]any
			require.NoError(t, json.Unmarshal(out.Bytes(), &objects))
			require.Equal(t, tc.value, objects[0]["user"], "JSON keeps the exact value")
		})
	}
}

// TestTableShowsInvisibleCharacters pins that the table format (and the
// page, which shows cells the same way) makes zero-width and
// bidirectional characters visible, so that a look-alike name cannot pass
// for another, and escapes control characters.
func TestTableShowsInvisibleCharacters(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"a zero-width space", "CORP\\ad\u200bmin", "CORP\\ad<U+200B>min"},
		{"a zero-width joiner and non-joiner", "a\u200db\u200cc", "a<U+200D>b<U+200C>c"},
		{"a right-to-left override", "CORP\\\u202enimda", "CORP\\<U+202E>nimda"},
		{"bidirectional isolates and marks", "\u2066x\u2069\u200f", "<U+2066>x<U+2069><U+200F>"},
		{"a byte-order mark", "\ufeffCORP\\bob", "<U+FEFF>CORP\\bob"},
		{"a soft hyphen", "ad\u00admin", "ad<U+00AD>min"},
		{"a word joiner", "ad\u2060min", "ad<U+2060>min"},
		{"control characters are escaped", "a\tb\x1b[31m", `a\tb\x1b[31m`},
		{"accents and other scripts are shown as they are", "CORP\\Müller, 山田", "CORP\\Müller, 山田"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, cell(tc.value))
			require.Equal(t, tc.want, display(tc.value), "the page shows it alike")
		})
	}
}

// TestAbbreviate pins the charts' axis numbers: short enough for the
// axis of a phone's chart, 7-digit figures included.
func TestAbbreviate(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    float64
		want string
	}{
		{"zero", 0, "0"},
		{"below a thousand in full", 950, "950"},
		{"thousands", 20_000, "20k"},
		{"a fraction of a thousand", 2_500, "2.5k"},
		{"a 7-digit figure", 1_250_000, "1.25M"},
		{"millions", 7_500_000, "7.5M"},
		{"billions", 3e9, "3B"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, abbreviate(tc.v)) })
	}
	c := newChart("c", "label", "minutes", 3, 7_654_321)
	for _, g := range c.Grid {
		require.LessOrEqual(t, len(g.Label), 5, "axis label %q", g.Label)
	}
}

// TestPiecesBreakOnlyAtSeparators pins where the page may wrap an
// identifier: after a space, \, /, _, ., - or @, never inside a word.
func TestPiecesBreakOnlyAtSeparators(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"a domain user", `CORP\alice`, []string{`CORP\`, "alice"}},
		{"an e-mail address", "j.doe@corp.example", []string{"j.", "doe@", "corp.", "example"}},
		{"a path with spaces", "c:/docs/retail store.qvw", []string{"c:/", "docs/", "retail ", "store.", "qvw"}},
		{"an anomaly kind", "named_and_document", []string{"named_", "and_", "document"}},
		{"a hyphenated id", "2c6b2d1a-b502", []string{"2c6b2d1a-", "b502"}},
		{"a word alone", "administrator", []string{"administrator"}},
		{"a trailing separator stays on its piece", `CORP\`, []string{`CORP\`}},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, pieces(tc.in)) })
	}
}

// TestInformationalAnomaliesAreNoWarning pins that the summary's anomaly
// figure is a warning only when some anomaly is to be acted on.
func TestInformationalAnomaliesAreNoWarning(t *testing.T) {
	sum := record{"anomalies": int64(4), "rejects": int64(0), "denials": int64(0)}
	for _, tc := range []struct {
		name      string
		attention int
		warn      bool
	}{{"only informational ones: no warning", 0, false}, {"one to act on: a warning", 1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := facts(sum, nil, 30, tc.attention)
			last := f[len(f)-1]
			require.Equal(t, "Anomalies", last.Label)
			require.Equal(t, tc.warn, last.Warn)
		})
	}
	require.Equal(t, "info", anomalyClass("spans_month"))
	require.Equal(t, "", anomalyClass("pool_exceeded"))
}
