package ingest

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

// sessionWriter encodes pages itself: what parquet-go reads back must be
// every value of the parser's records, null where they are null, across
// several pages, row groups and batch dictionaries; and duration_ms's page
// index must hold each page's maximum (metering's reorder horizon).
func TestSessionWriterRoundTrip(t *testing.T) {
	const n = rowsPerRowGroup + 3*rowsPerPage + 123
	var log strings.Builder
	log.WriteString(strings.Join(headerNames(), "\t") + "\n")
	for i := range n {
		blank := func(every int, v string) string {
			if i%every == 0 {
				return ""
			}
			return v
		}
		fields := []string{
			"RLS64", "12.50.20200.0", "20240104T030027.000+0100",
			fmt.Sprintf("202402%02dT%02d%02d%02d.000+0100", 1+i/40000, i/3600%24, i/60%60, i%60),
			blank(11, fmt.Sprintf(`D:\Apps\doc %d.qvw`, i%37)), blank(13, "20240131T051553.000+0100"),
			blank(3, fmt.Sprintf("QV%d", i%5)), "Socket closed by client",
			fmt.Sprintf("202402%02dT%02d%02d%02d.000+0100", 1+i/40000, i/3600%24, i/60%60, i%60),
			fmt.Sprintf("00:%02d:%02d", i%60, i%59), blank(17, fmt.Sprintf("%d.%06d", i%9, i)),
			blank(19, fmt.Sprint(i*7)), fmt.Sprint(i * 13), blank(5, fmt.Sprint(i%180)), fmt.Sprint(i % 90),
			blank(4, fmt.Sprintf(`CORP\user%d`, i*7919%20011)), blank(2, fmt.Sprintf("id%d", i%700)),
			blank(9, fmt.Sprintf("%08x-aaaa-bbbb-cccc-%012x", i%30011, i%30011)), "", "Ajax", "QvWS 12.50",
			"On", "", "4747", blank(23, fmt.Sprintf("10.0.%d.%d", i/256%256, i%256)), fmt.Sprint(49152 + i%16000),
			[]string{"Named User", "Session", "Usage", ""}[i%4], blank(29, fmt.Sprint(i%4)),
			blank(31, fmt.Sprintf("%08x-1111-2222-3333-%012x", i, i)),
		}
		log.WriteString(strings.Join(fields, "\t") + "\n")
	}
	d := parse.NewDecoder(strings.NewReader(log.String()), parse.Config{File: "f.log", Server: "S", BatchSize: 20000})
	var buf bytes.Buffer
	w := newSessionWriter(&buf)
	var records []arrow.Record
	var keys [][]uint64
	for d.Next() {
		rec := d.Record()
		rec.Retain()
		defer rec.Release()
		require.Empty(t, d.Rejects())
		keep := make([]int32, rec.NumRows())
		k := make([]uint64, rec.NumRows())
		for i := range keep {
			keep[i], k[i] = int32(i), uint64(i)*0x9E3779B97F4A7C15
		}
		// In two calls, as when a record's rows fall in two months.
		half := len(keep) / 2
		require.NoError(t, w.write(rec, keep[:half], k))
		require.NoError(t, w.write(rec, keep[half:], k))
		records, keys = append(records, rec), append(keys, k)
	}
	require.NoError(t, d.Err())
	require.NoError(t, w.close())

	rows, err := parquet.Read[dataset.SessionRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, rows, n)
	at := 0
	for r, rec := range records {
		for row := range int(rec.NumRows()) {
			got := reflect.ValueOf(rows[at])
			for f, c := range sessionColumns {
				field := got.Field(f)
				if c.arrow < 0 {
					require.Equal(t, int64(keys[r][row]), field.Int(), "row %d session_key", at)
					continue
				}
				col := rec.Column(c.arrow)
				if field.Kind() == reflect.Pointer {
					require.Equal(t, col.IsNull(row), field.IsNil(), "row %d %s: null", at, c.path[0])
					if field.IsNil() {
						continue
					}
					field = field.Elem()
				}
				require.Equal(t, arrowValue(col, row), field.Interface(), "row %d %s", at, c.path[0])
			}
			at++
		}
	}

	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Greater(t, len(f.RowGroups()), 1)
	leaf, _ := f.Schema().Lookup("duration_ms")
	first := 0
	for _, rg := range f.RowGroups() {
		index, err := rg.ColumnChunks()[leaf.ColumnIndex].ColumnIndex()
		require.NoError(t, err)
		require.Greater(t, index.NumPages(), 1)
		for p := range index.NumPages() {
			var want int64
			for _, row := range rows[first+p*rowsPerPage : min(first+(p+1)*rowsPerPage, first+int(rg.NumRows()))] {
				want = max(want, row.DurationMS)
			}
			require.Equal(t, want, index.MaxValue(p).Int64(), "page %d of a row group", p)
		}
		first += int(rg.NumRows())
	}
}

// arrowValue is a row's value of a column of parse.Schema, as the Go type
// of its dataset.SessionRow field.
func arrowValue(col arrow.Array, row int) any {
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(row)
	case *array.Timestamp:
		return int64(a.Value(row))
	case *array.Float64:
		return a.Value(row)
	}
	return parse.StringAt(col, row)
}

func headerNames() []string {
	return []string{"Exe Type", "Exe Version", "Server Started", "Timestamp", "Document", "Document Timestamp",
		"QlikView User", "Exit Reason", "Session Start", "Session Duration", "CPU Spent (s)", "Bytes Received",
		"Bytes Sent", "Calls", "Selections", "Authenticated User", "Identifying User", "Client Machine Identification",
		"Serial Number", "Client Type", "Client Build Version", "Secure Protocol", "Tunnel Protocol", "Server Port",
		"Client Address", "Client Port", "CAL Type", "CAL Usage Count", "Session ID"}
}
