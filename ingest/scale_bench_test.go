package ingest_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/fixtures"
)

// measureChild runs an ingest (or DuckDB's COPY) of log into a new data
// folder in a child process, and returns its time and peak RSS.
func measureChild(b *testing.B, mode, log string) (time.Duration, int64) {
	data := filepath.Join(b.TempDir(), "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		b.Fatal(err)
	}
	args, _ := json.Marshal(childArgs{Mode: mode, Data: data, Paths: []string{log}})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "QVMETER_INGEST_CHILD="+string(args))
	cmd.Stderr = os.Stderr
	started := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v", mode, err)
	}
	elapsed := time.Since(started)
	return elapsed, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
}

// BenchmarkIngestScale is ingest's peak RSS at 1 GiB and 3 GiB of log
// (the generator's, four times the months at 3 GiB): the goal is 128 MiB,
// flat in the input's size. Each ingest runs in a child process with the
// memory limit qvmeter ingest sets (MemoryLimit). The 3 GiB log is
// generated once into QVMETER_BENCH_DIR.
func BenchmarkIngestScale(b *testing.B) {
	dir := os.Getenv("QVMETER_BENCH_DIR")
	if dir == "" {
		b.Skip("set QVMETER_BENCH_DIR (make bench does) for the ingest scale benchmark")
	}
	for _, size := range []struct {
		name  string
		bytes int64
		seed  uint64
	}{{"1GiB", 1 << 30, 1}, {"3GiB", 3 << 30, 2}} {
		b.Run(size.name, func(b *testing.B) {
			log, err := fixtures.JoinedLog(context.Background(), dir, size.bytes, size.seed)
			if err != nil {
				b.Fatal(err)
			}
			info, err := os.Stat(log)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(info.Size())
			var rss int64
			for range b.N {
				_, rss = measureChild(b, "ingest", log)
			}
			b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
		})
	}
}
