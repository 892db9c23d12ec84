package parse_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/qvmeter/qvmeter/fixtures"
	"github.com/qvmeter/qvmeter/parse"
)

// benchLogBytes is the size of the benchmark log: the issue's "at least
// 256 MiB with the 29-column layout". QVMETER_BENCH_MIB sets another size,
// for a quick comparison before and after a change on a busy machine.
func benchLogBytes(b *testing.B) int64 {
	mib := os.Getenv("QVMETER_BENCH_MIB")
	if mib == "" {
		return 256 << 20
	}
	n, err := strconv.ParseInt(mib, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("QVMETER_BENCH_MIB=%q: want a positive number of MiB", mib)
	}
	return n << 20
}

// benchLog returns the generated benchmark log, kept in
// $QVMETER_BENCH_DIR (or the temp folder) across runs.
func benchLog(b *testing.B) string {
	b.Helper()
	dir := os.Getenv("QVMETER_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "qvmeter-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path, err := fixtures.JoinedLog(context.Background(), dir, benchLogBytes(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkDecode measures decode-to-Arrow of a 256 MiB 29-column log (see
// benchLogBytes): on
// one core (GOMAXPROCS=1, so the garbage collector shares it too), split
// across two cores, and, for the ceiling, only reading the file.
func BenchmarkDecode(b *testing.B) {
	path := benchLog(b)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("read-only", func(b *testing.B) {
		b.SetBytes(info.Size())
		buf := make([]byte, 1<<20)
		for range b.N {
			f, _ := os.Open(path)
			io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
			f.Close()
		}
	})

	b.Run("one-core", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		b.SetBytes(info.Size())
		b.ReportAllocs()
		var rows int64
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range b.N {
			rows = decodeRange(b, path, parse.Chunk{End: info.Size(), FirstLine: 1}, nil)
		}
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows*int64(b.N)), "allocs/row")
		b.ReportMetric(float64(rows), "rows")
	})

	b.Run("two-cores", func(b *testing.B) {
		b.SetBytes(info.Size())
		b.ReportAllocs()
		header := fileHeader(b, path)
		var rows int64
		for range b.N {
			f, _ := os.Open(path)
			chunks, err := parse.Split(f, 0, info.Size(), 1, 2)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			counts := make([]int64, len(chunks))
			var wg sync.WaitGroup
			for i, c := range chunks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := header
					if i == 0 {
						h = nil
					}
					counts[i] = decodeRange(b, path, c, h)
				}()
			}
			wg.Wait()
			rows = 0
			for _, n := range counts {
				rows += n
			}
		}
		b.ReportMetric(float64(rows), "rows")
	})
}

// decodeRange decodes one chunk of a file and returns its row count.
func decodeRange(b *testing.B, path string, c parse.Chunk, header []byte) int64 {
	f, err := os.Open(path)
	if err != nil {
		b.Error(err)
		return 0
	}
	defer f.Close()
	d := parse.NewDecoder(io.NewSectionReader(f, c.Start, c.Size()), parse.Config{File: "bench", Server: "QVS-PROD-01", Header: header, FirstLine: c.FirstLine})
	var rows int64
	for d.Next() {
		rows += d.Record().NumRows()
	}
	if d.Err() != nil || d.Stats().Rejects > 0 {
		b.Errorf("decode: %v, %d rejects", d.Err(), d.Stats().Rejects)
	}
	return rows
}

func fileHeader(b *testing.B, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		b.Fatal(err)
	}
	return line
}
