package parse

import (
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// FuzzDecoder feeds arbitrary bytes to the decoder. Invariants: no panic;
// every complete line is a row, a reject, a header or a blank line; the
// bytes after the last line break are held back, and Offset points just
// after that line break; every record is internally consistent.
func FuzzDecoder(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(samples, "*.log"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(2))
	}
	f.Add([]byte("\xef\xbb\xbf\r\n\t\t\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, batch uint8) {
		d := NewDecoder(bytes.NewReader(data), Config{File: "fuzz", BatchSize: int(batch%8) + 1})
		var rows, rejects int64
		for d.Next() {
			rec := d.Record()
			for i, col := range rec.Columns() {
				if int64(col.Len()) != rec.NumRows() {
					t.Fatalf("column %d has %d values, record %d rows", i, col.Len(), rec.NumRows())
				}
			}
			for _, r := range d.Rejects() {
				if r.File != "fuzz" || r.Line < 1 || r.Reason() == "other" {
					t.Fatalf("bad reject %+v", r)
				}
			}
			rows += rec.NumRows()
			rejects += int64(len(d.Rejects()))
		}
		if d.Err() != nil {
			t.Fatal(d.Err())
		}
		s := d.Stats()
		if s.Rows != rows || s.Rejects != rejects {
			t.Fatalf("stats %+v, saw %d rows and %d rejects", s, rows, rejects)
		}
		if got, want := s.Lines, int64(bytes.Count(data, []byte{'\n'})); got != want {
			t.Fatalf("%d lines accounted, input has %d", got, want)
		}
		if s.Lines != s.Rows+s.Rejects+s.Headers+s.BlankLines {
			t.Fatalf("lines do not add up: %+v", s)
		}
		wantOffset := int64(bytes.LastIndexByte(data, '\n') + 1)
		if d.Offset() != wantOffset || s.PartialBytes != int64(len(data))-wantOffset {
			t.Fatalf("offset %d partial %d, want %d and %d", d.Offset(), s.PartialBytes, wantOffset, int64(len(data))-wantOffset)
		}
	})
}

// FuzzResume checks that resuming is exact: for any input and any cut
// point, decoding the prefix and then the rest from the prefix decoder's
// Offset, Line and Header (the header passed through a string, as a
// checkpoint stores it) gives the rows and rejects of decoding the whole
// input. The seeds are the samples with and without their header line.
func FuzzResume(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(samples, "Sessions_*"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint16(len(data)/2))
		f.Add(data[bytes.IndexByte(data, '\n')+1:], uint16(len(data)/3))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		at := int(cut) % (len(data) + 1)
		cfg := Config{File: "fuzz", Server: "QVS", BatchSize: 3}
		whole := resumeOutput(t, data, cfg)

		first := NewDecoder(bytes.NewReader(data[:at]), cfg)
		prefix := collect(t, first)
		if first.Offset() > int64(at) {
			t.Fatalf("offset %d beyond the %d bytes read", first.Offset(), at)
		}
		cfg.Header = []byte(string(first.Header()))
		cfg.FirstLine = first.Line() + 1
		rest := resumeOutput(t, data[first.Offset():], cfg)

		got := append(prefix, rest...)
		if len(got) != len(whole) {
			t.Fatalf("cut at %d: %d rows and rejects resumed, %d whole", at, len(got), len(whole))
		}
		for i := range whole {
			if !reflect.DeepEqual(got[i], whole[i]) {
				t.Fatalf("cut at %d, item %d:\nresumed %v\nwhole   %v", at, i, got[i], whole[i])
			}
		}
	})
}

// resumeOutput decodes data and returns its rows and rejects in line order.
func resumeOutput(t *testing.T, data []byte, cfg Config) []map[string]any {
	return collect(t, NewDecoder(bytes.NewReader(data), cfg))
}

// collect drains a decoder into one map per row or reject, in line order.
func collect(t *testing.T, d *Decoder) []map[string]any {
	var out []map[string]any
	for d.Next() {
		rows := recordRows(d.Record())
		for _, r := range d.Rejects() {
			rows = append(rows, map[string]any{"reject_line": r.Line, "column": r.Column, "error": r.Err.Error(), "raw": r.Raw})
		}
		slices.SortStableFunc(rows, func(a, b map[string]any) int { return cmp.Compare(lineOf(a), lineOf(b)) })
		out = append(out, rows...)
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	return out
}

func lineOf(item map[string]any) int64 {
	if l, ok := item["source_line"].(int64); ok {
		return l
	}
	return item["reject_line"].(int64)
}
