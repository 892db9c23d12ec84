package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qvmeter/qvmeter/dataset"
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

// BenchmarkNightlyCommit is a nightly run over 10,000 logs already read
// that finds one new log: it reads that log and commits. The catalog's
// bytes written per op (catalog-B/op: a delta, or now and then a new base)
// should follow the one log, not the 10,000 (docs/dataset.md, "The
// catalog is a base and deltas"); B/op and allocs/op are the run's.
func BenchmarkNightlyCommit(b *testing.B) {
	const files = 10000
	dir, extra := b.TempDir(), b.TempDir()
	text := logText(columns29, true, sessions(3))
	for i := range files {
		path := filepath.Join(dir, fmt.Sprintf("Sessions_QVS%03d_2024-%02d-%02d.log", i%100, 1+i/100%12, 1+i%28))
		if i >= 1200 {
			path = filepath.Join(dir, fmt.Sprintf("Sessions_QVS%05d_2024-02-01.log", i))
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	data := b.TempDir()
	if _, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{dir, extra}}); err != nil {
		b.Fatal(err)
	}
	var written int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if err := os.WriteFile(filepath.Join(extra, fmt.Sprintf("Sessions_NEW_2025-01-%02d_%06d.log", 1+i%28, i)), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{dir, extra}})
		if err != nil {
			b.Fatal(err)
		}
		if sum.FilesNew != 1 {
			b.Fatalf("%d new, want 1", sum.FilesNew)
		}
		written += committedBytes(b, data, sum.DatasetVersion)
	}
	b.ReportMetric(float64(written)/float64(b.N), "catalog-B/op")
}

// committedBytes is the size of the catalog file the commit of version
// wrote: its delta, or a new catalog.json.
func committedBytes(b *testing.B, data string, version int64) int64 {
	info, err := os.Stat(filepath.Join(data, "catalog.d", fmt.Sprintf("%d.json", version)))
	if err != nil {
		if info, err = os.Stat(filepath.Join(data, dataset.CatalogFile)); err != nil {
			b.Fatal(err)
		}
	}
	return info.Size()
}
