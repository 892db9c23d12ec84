package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qvmeter/qvmeter/ingest"
)

// BenchmarkUnchangedFiles is the cost of deciding "unchanged" by content:
// a run over 10,000 logs of 9 KiB that have not changed since the last
// run, each opened and compared by its first 4 KiB and the 4 KiB before
// its checkpoint. Bytes per op are the bytes those windows read.
func BenchmarkUnchangedFiles(b *testing.B) {
	const files = 10000
	dir := b.TempDir()
	text := logText(columns29, true, sessions(28))
	for i := range files {
		path := filepath.Join(dir, fmt.Sprintf("s%03d", i/100), fmt.Sprintf("Sessions_QVS%05d_2024-02-01.log", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	data := b.TempDir()
	if _, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{dir}}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(files * 8192)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sum, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{dir}})
		if err != nil {
			b.Fatal(err)
		}
		if sum.FilesUnchanged != files {
			b.Fatalf("%d unchanged, want %d", sum.FilesUnchanged, files)
		}
	}
}
