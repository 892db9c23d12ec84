package parse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Split into more chunks than it counts at once (GOMAXPROCS) still gives
// chunks that cover the range, each at a line start with its line number.
func TestSplitIntoManyChunks(t *testing.T) {
	var text bytes.Buffer
	for i := 0; text.Len() < 12<<20; i++ {
		fmt.Fprintf(&text, "line %d %s\n", i, bytes.Repeat([]byte{'x'}, i%300))
	}
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, text.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := text.Bytes()
	const from = 100
	start := int64(bytes.IndexByte(data[from:], '\n') + from + 1)
	firstLine := int64(bytes.Count(data[:start], []byte{'\n'}) + 1)
	for _, n := range []int{1, 2, 9, 70} {
		chunks, err := Split(f, start, int64(len(data)), firstLine, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) < min(n, 2) || len(chunks) > n {
			t.Fatalf("n=%d: %d chunks", n, len(chunks))
		}
		at := start
		for i, c := range chunks {
			if c.Start != at || data[c.Start-1] != '\n' || c.End <= c.Start {
				t.Fatalf("n=%d: chunk %d [%d, %d) after %d", n, i, c.Start, c.End, at)
			}
			if want := int64(bytes.Count(data[:c.Start], []byte{'\n'}) + 1); c.FirstLine != want {
				t.Fatalf("n=%d: chunk %d starts at line %d, want %d", n, i, c.FirstLine, want)
			}
			at = c.End
		}
		if at != int64(len(data)) {
			t.Fatalf("n=%d: chunks end at %d of %d", n, at, len(data))
		}
	}
}
