package parse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/stretchr/testify/require"
)

const samples = "../fixtures/samples"

// decoded is everything a decoder produced from one input.
type decoded struct {
	rows    []map[string]any
	rejects []Reject
	stats   Stats
	offset  int64
}

// decode runs a decoder over data and turns every row into a map from
// column name to a plain Go value (nil for null, time.Time for times).
func decode(t testing.TB, data []byte, cfg Config) decoded {
	t.Helper()
	d := NewDecoder(bytes.NewReader(data), cfg)
	var out decoded
	for d.Next() {
		out.rows = append(out.rows, recordRows(d.Record())...)
		for _, r := range d.Rejects() {
			r.ParseError = &ParseError{File: r.File, Line: r.Line, Column: r.Column, Err: r.Err}
			out.rejects = append(out.rejects, r)
		}
	}
	require.NoError(t, d.Err())
	out.stats, out.offset = d.Stats(), d.Offset()
	return out
}

func decodeSample(t testing.TB, name string) decoded {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samples, name))
	require.NoError(t, err)
	return decode(t, data, Config{File: name, Server: "QVS"})
}

func recordRows(rec arrow.Record) []map[string]any {
	rows := make([]map[string]any, rec.NumRows())
	for i := range rows {
		rows[i] = map[string]any{}
	}
	for c, f := range rec.Schema().Fields() {
		col := rec.Column(c)
		for i := range rows {
			rows[i][f.Name] = value(col, i)
		}
	}
	return rows
}

func value(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.Dictionary:
		return a.Dictionary().(*array.String).Value(a.GetValueIndex(i))
	case *array.String:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Timestamp:
		return time.UnixMilli(int64(a.Value(i))).UTC()
	}
	panic("unexpected column type " + col.DataType().String())
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// The one real 12.50 line in the spec must read to exactly the values the
// spec gives: QTSEL\ghd, 13:36:01 +02:00 for 16 s, ended 13:36:17,
// Analyzer Capacity, 6 minutes.
func TestRealAnalyzerCapacityLine(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-REAL_2021-04-12.log")
	require.Empty(t, out.rejects)
	require.Len(t, out.rows, 1)
	require.Equal(t, map[string]any{
		"exe_type":             "RLS64",
		"exe_version":          "12.50.20200.0",
		"server_started":       utc("2021-04-12T11:29:42Z"),
		"session_end":          utc("2021-04-12T11:36:17Z"),
		"document":             "C:/ProgramData/QlikTech/Documents/retail store performance.qvw",
		"document_timestamp":   utc("2019-02-20T09:35:22Z"),
		"qlikview_user":        "",
		"exit_reason":          "Socket closed by client",
		"session_id":           "315dcfab-7448-4f4b-8209-ef34742b1abe",
		"session_start":        utc("2021-04-12T11:36:01Z"),
		"cpu_seconds":          0.0,
		"bytes_received":       int64(10228),
		"bytes_sent":           int64(1303493),
		"calls":                int64(31),
		"selections":           int64(2),
		"authenticated_user":   `QTSEL\ghd`,
		"identifying_user":     "",
		"client_machine_id":    "1718e2e6-5b1c-4b9e-87a9-d9200f55e37a",
		"serial_number":        "",
		"client_type":          "Ajax",
		"client_build_version": "QvWS 12.50.20200.0 browser.msie illa/5.0 (windows nt 10.0",
		"secure_protocol":      "On",
		"tunnel_protocol":      "",
		"server_port":          int64(4747),
		"client_address":       "fe80::df3:cd38:b86f:50bd",
		"client_port":          int64(58495),
		"cal_type":             "Analyzer Capacity",
		"cal_usage_count":      int64(6),
		"server":               "QVS",
		"source_file":          "Sessions_QVS-REAL_2021-04-12.log",
		"source_line":          int64(2),
		"user_key":             `qtsel\ghd`,
		"document_key":         "c:/programdata/qliktech/documents/retail store performance.qvw",
		"cal_class":            "analyzer_capacity",
		"exit_class":           "client_close",
		"duration_ms":          int64(16000),
		"user":                 `QTSEL\ghd`,
		"implausible":          nil,
	}, out.rows[0])
	require.Equal(t, out.rows[0]["session_end"].(time.Time).Sub(out.rows[0]["session_start"].(time.Time)), 16*time.Second,
		"start + duration = Timestamp holds for the real line")
}

// Columns are found by header name, never by position: 28 columns with no
// Session ID, and 29 with Session ID last, after Exit Reason, or first.
func TestLayoutsByHeaderName(t *testing.T) {
	tests := []struct {
		name, file string
		sessionID  any
		user       string
	}{
		{"28 columns, QlikView 11.20, no Session ID", "Sessions_QVS-OLD_2018-06-01.log", nil, `corp\alice`},
		{"29 columns, Session ID after Exit Reason (Qlik help)", "Sessions_QVS-HELP_2023-01-05.log", "11111111-2222-4333-8444-555555555555", `corp\alice`},
		{"29 columns, Session ID first", "Sessions_QVS-FIRST_2023-01-05.log", "11111111-2222-4333-8444-555555555555", `corp\alice`},
		{"29 columns, Session ID last (the real line)", "Sessions_QVS-REAL_2021-04-12.log", "315dcfab-7448-4f4b-8209-ef34742b1abe", `qtsel\ghd`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := decodeSample(t, tt.file)
			require.Empty(t, out.rejects)
			row := out.rows[0]
			require.Equal(t, tt.sessionID, row["session_id"])
			require.Equal(t, tt.user, row["user_key"])
			require.Equal(t, "RLS64", row["exe_type"])
			require.Equal(t, "Ajax", row["client_type"])
			require.NotNil(t, row["cal_usage_count"])
		})
	}
}

// The 28-column file has LF line endings and no BOM; the others CRLF and a
// BOM. Neither may leak into a value.
func TestLineEndingsAndBOM(t *testing.T) {
	for _, file := range []string{"Sessions_QVS-OLD_2018-06-01.log", "Sessions_QVS-HELP_2023-01-05.log"} {
		out := decodeSample(t, file)
		require.Empty(t, out.rejects, file)
		for _, row := range out.rows {
			require.Equal(t, "RLS64", row["exe_type"], "BOM kept out of the first field")
			require.Equal(t, int64(0), row["cal_usage_count"], "CR kept out of the last field")
		}
	}
	crlf := decodeSample(t, "Sessions_QVS-HELP_2023-01-05.log")
	data, err := os.ReadFile(filepath.Join(samples, "Sessions_QVS-HELP_2023-01-05.log"))
	require.NoError(t, err)
	lf := decode(t, bytes.ReplaceAll(bytes.TrimPrefix(data, bom), []byte("\r\n"), []byte("\n")), Config{File: "Sessions_QVS-HELP_2023-01-05.log", Server: "QVS"})
	require.Equal(t, crlf.rows, lf.rows, "CRLF and LF give the same rows")
}

// A header repeated mid-file after a restart (with a BOM before it, as a
// restarted server writes one) rebuilds the column map, here from 28 to 29
// columns; the offsets change from +0100 to +0200 at the DST change.
func TestRepeatedHeaderAndDST(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-RESTART_2023-03-26.log")
	require.Empty(t, out.rejects)
	require.Equal(t, int64(2), out.stats.Headers)
	require.Len(t, out.rows, 3)
	require.Nil(t, out.rows[0]["session_id"], "before the restart: 28 columns")
	require.Equal(t, "11111111-2222-4333-8444-555555555555", out.rows[2]["session_id"], "after: 29")
	require.Equal(t, "analyzer_capacity", out.rows[2]["cal_class"])
	require.Equal(t, int64(12), out.rows[2]["cal_usage_count"])
	require.Equal(t, int64(5), out.rows[2]["source_line"], "the repeated header is line 4")

	acrossDST := out.rows[1]
	require.Equal(t, utc("2023-03-26T00:45:00Z"), acrossDST["session_start"])
	require.Equal(t, utc("2023-03-26T01:15:00Z"), acrossDST["session_end"], "03:15+0200 is 30 minutes after 01:45+0100")
	require.Equal(t, int64(30*60*1000), acrossDST["duration_ms"])
}

// Session Duration: hours over 24, d.hh:mm:ss, QlikView 12's fraction of a
// day, and Timestamp − Session Start when it cannot be read.
func TestDurations(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-DURATION_2023-03-01.log")
	require.Empty(t, out.rejects)
	want := []int64{
		26 * 3600 * 1000,   // 26:00:00
		(49 * 3600) * 1000, // 2.01:00:00
		1062720,            // 0.0123 days
		7 * 60 * 1000,      // n/a → 08:07 − 08:00
	}
	for i, w := range want {
		require.Equal(t, w, out.rows[i]["duration_ms"], "row %d", i)
	}
	require.Equal(t, int64(1), out.stats.DayClockDurations)
	require.Equal(t, int64(1), out.stats.DayFractions)
	require.Equal(t, int64(1), out.stats.DerivedDurations, "n/a is unreadable")
	require.Equal(t, int64(0), out.stats.DurationFallbacks, "no duration is empty")
}

// Empty numeric fields and -1 are null, not zero. Anonymous sessions are
// keyed on the client id; Identifying User is used when Authenticated User
// is empty. UNC paths become document keys with '/'. The QlikView 11
// "2006-01-02 15:04:05" form without offset is UTC when no zone is given,
// and counted.
func TestNullsKeysAndOffsetlessTimes(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-NULLS_2023-03-01.log")
	require.Empty(t, out.rejects)
	anon, legacy := out.rows[0], out.rows[1]
	for _, col := range []string{"cpu_seconds", "bytes_received", "bytes_sent", "calls", "selections", "server_port", "client_port", "cal_usage_count"} {
		require.Nil(t, anon[col], col)
	}
	require.Equal(t, "0a1b2c3d-0000-4000-8000-000000000001", anon["user_key"])
	require.Equal(t, "//fileserver/qv/finance.qvw", anon["document_key"])
	require.Equal(t, `\\fileserver\QV\Finance.QVW`, anon["document"])
	require.Equal(t, "session", anon["cal_class"])
	require.Equal(t, "idle_timeout", anon["exit_class"])

	require.Equal(t, `corp\carol`, legacy["user_key"])
	require.Equal(t, utc("2015-03-02T08:00:00Z"), legacy["session_start"])
	require.Equal(t, utc("2015-03-02T09:30:00Z"), legacy["session_end"])
	require.Nil(t, legacy["server_started"])
	require.Nil(t, legacy["document_timestamp"])
	require.Equal(t, "usage", legacy["cal_class"])
	require.Equal(t, int64(2), out.stats.OffsetlessTimes)

	inBerlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(samples, "Sessions_QVS-NULLS_2023-03-01.log"))
	require.NoError(t, err)
	zoned := decode(t, data, Config{File: "x", Location: inBerlin})
	require.Equal(t, utc("2015-03-02T07:00:00Z"), zoned.rows[1]["session_start"], "a zone given for offset-less times applies")
}

// Header names match case-insensitively with white space folded; an unknown
// column is ignored and counted.
func TestHeaderNamesFolded(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-HEADERCASE_2023-04-01.log")
	require.Empty(t, out.rejects)
	require.Equal(t, int64(1), out.stats.UnknownColumns)
	row := out.rows[0]
	require.Equal(t, "RLS64", row["exe_type"], "EXE TYPE")
	require.Equal(t, "", row["identifying_user"], "Identifying  user")
	require.Equal(t, "Named User", row["cal_type"], "Cal Type")
	require.Equal(t, "named", row["cal_class"])
}

// A line that cannot be placed in time (two of Timestamp, Session Start and
// Session Duration unreadable) becomes a reject with file, line, column,
// reason and raw text, and decoding goes on. Invalid UTF-8 is kept
// (replaced) and counted. The last line, still being written, is held back:
// the offset is just after the last complete line.
func TestBadLines(t *testing.T) {
	const file = "Sessions_QVS-BAD_2023-04-02.log"
	data, err := os.ReadFile(filepath.Join(samples, file))
	require.NoError(t, err)
	out := decodeSample(t, file)

	type got struct {
		line   int64
		column string
		reason string
	}
	var rejects []got
	for _, r := range out.rejects {
		rejects = append(rejects, got{r.Line, r.Column, r.Reason()})
		require.Equal(t, file, r.File)
		require.NotEmpty(t, r.Raw)
		require.True(t, strings.HasPrefix(r.Error(), file+":"), r.Error())
	}
	require.Equal(t, []got{
		{3, "", "field_count"},
		{4, "Timestamp", "bad_timestamp"},
		{5, "Session Start", "bad_session_start"},
	}, rejects)
	require.ErrorIs(t, out.rejects[1], ErrTimestamp)
	var pe *ParseError
	require.True(t, errors.As(out.rejects[2].ParseError, &pe))

	require.Len(t, out.rows, 3)
	require.Equal(t, []any{int64(2), int64(6), int64(7)}, []any{out.rows[0]["source_line"], out.rows[1]["source_line"], out.rows[2]["source_line"]})
	require.Equal(t, "CORP\\d\uFFFDnis", out.rows[1]["authenticated_user"])
	require.Equal(t, int64(1), out.stats.InvalidUTF8)

	require.Equal(t, int64(57), out.stats.PartialBytes)
	require.Equal(t, int64(len(data)-57), out.offset)
	require.Equal(t, byte('\n'), data[out.offset-1])
}

// Resuming: decoding the rest of a file from a checkpoint, with the header
// and line number carried over, gives the rows an uninterrupted decode
// gives.
func TestResumeFromOffset(t *testing.T) {
	const file = "Sessions_QVS-RESTART_2023-03-26.log"
	data, err := os.ReadFile(filepath.Join(samples, file))
	require.NoError(t, err)
	whole := decode(t, data, Config{File: file, Server: "QVS"})

	first := NewDecoder(bytes.NewReader(data[:bytes.Index(data, []byte("\n"))+1]), Config{File: file, Server: "QVS"})
	for first.Next() {
	}
	rest := decode(t, data[first.Offset():], Config{File: file, Server: "QVS", Header: first.Header(), FirstLine: first.Line() + 1})
	require.Equal(t, whole.rows, rest.rows)
}

// Every complete line is a row, a reject, a header or a blank line, and a
// record never exceeds the batch size.
func TestBatchesAndLineAccounting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samples, "Sessions_QVS-BAD_2023-04-02.log"))
	require.NoError(t, err)
	lines := bytes.Split(data, []byte("\r\n"))
	header, body := lines[0], lines[1:len(lines)-1]
	var big bytes.Buffer
	big.Write(header)
	big.WriteString("\r\n")
	for range 1000 {
		for _, l := range body {
			big.Write(l)
			big.WriteString("\r\n")
		}
		big.WriteString("\r\n")
	}
	d := NewDecoder(bytes.NewReader(big.Bytes()), Config{File: "big", BatchSize: 100})
	rows := 0
	for d.Next() {
		require.LessOrEqual(t, d.Record().NumRows(), int64(100))
		require.LessOrEqual(t, len(d.Rejects()), 100)
		rows += int(d.Record().NumRows())
	}
	s := d.Stats()
	require.Equal(t, int64(3000), s.Rows)
	require.Equal(t, int64(rows), s.Rows)
	require.Equal(t, int64(3000), s.Rejects)
	require.Equal(t, int64(1000), s.BlankLines)
	require.Equal(t, s.Lines, s.Rows+s.Rejects+s.Headers+s.BlankLines)
	require.Equal(t, int64(big.Len()), d.Offset())
}

// A line longer than MaxLineBytes is rejected and skipped without holding it
// in memory; the lines after it are decoded. Resuming inside it is exact.
func TestLineTooLong(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samples, "Sessions_QVS-HELP_2023-01-05.log"))
	require.NoError(t, err)
	header, row, _ := bytes.Cut(data, []byte("\r\n"))
	var in bytes.Buffer
	in.Write(header)
	in.WriteString("\r\n")
	in.Write(bytes.Repeat([]byte("x"), 3*MaxLineBytes))
	in.WriteString("\r\n")
	in.Write(row)
	out := decode(t, in.Bytes(), Config{File: "long"})
	require.Len(t, out.rejects, 1)
	require.Equal(t, "line_too_long", out.rejects[0].Reason())
	require.Equal(t, int64(2), out.rejects[0].Line)
	require.Len(t, out.rows, 1)
	require.Equal(t, int64(3), out.rows[0]["source_line"])

	// Cut inside the long line, as a checkpoint taken while the server
	// was writing it: the line is not rejected yet, Offset stays before it,
	// and the resumed decoder rejects it once.
	cut := len(header) + 2 + 2*MaxLineBytes
	first := NewDecoder(bytes.NewReader(in.Bytes()[:cut]), Config{File: "long"})
	for first.Next() {
		require.Empty(t, first.Rejects())
	}
	require.Equal(t, int64(len(header)+2), first.Offset())
	require.Equal(t, int64(cut)-first.Offset(), first.Stats().PartialBytes)
	rest := decode(t, in.Bytes()[first.Offset():], Config{File: "long", Header: first.Header(), FirstLine: first.Line() + 1})
	require.Equal(t, out.rows, rest.rows)
	require.Equal(t, out.rejects, rest.rejects)
}

// Split cuts a file at line starts with the right first line numbers, and
// decoding the chunks gives the rows of decoding the whole file: with a
// header (each chunk gets it as Config.Header), and without one (each chunk
// gets the empty header a checkpoint of a header-less file stores).
func TestSplitMatchesWholeFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samples, "Sessions_QVS-BAD_2023-04-02.log"))
	require.NoError(t, err)
	header, body, _ := bytes.Cut(data, []byte("\r\n"))
	body = body[:bytes.LastIndexByte(body, '\n')+1]
	tests := []struct {
		name        string
		header      []byte // the file's first line, if any
		chunkHeader []byte // Config.Header of every chunk
	}{
		{"with a header", append(header, "\r\n"...), header},
		{"header-less", nil, []byte("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var big bytes.Buffer
			big.Write(tt.header)
			for big.Len() < 3*readBufferBytes {
				big.Write(body)
			}
			whole := decode(t, big.Bytes(), Config{File: "f"})
			require.NotEmpty(t, whole.rows)

			chunks, err := Split(bytes.NewReader(big.Bytes()), 0, int64(big.Len()), 1, 3)
			require.NoError(t, err)
			require.Len(t, chunks, 3)
			var rows []map[string]any
			var rejects []Reject
			for i, c := range chunks {
				require.Equal(t, int64(bytes.Count(big.Bytes()[:c.Start], []byte{'\n'}))+1, c.FirstLine)
				if i > 0 {
					require.Equal(t, byte('\n'), big.Bytes()[c.Start-1])
				}
				part := decode(t, big.Bytes()[c.Start:c.End], Config{File: "f", Header: tt.chunkHeader, FirstLine: c.FirstLine})
				rows = append(rows, part.rows...)
				rejects = append(rejects, part.rejects...)
			}
			require.Equal(t, whole.rows, rows)
			require.Equal(t, whole.rejects, rejects)
		})
	}
}
