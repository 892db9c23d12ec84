package parse

import (
	"bytes"
	"os"
	"path/filepath"
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
