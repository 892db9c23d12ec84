package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/fixtures"
)

// BenchmarkScale is the scale benchmark: the nightly job's two
// heavy steps, ingest and meter, on one server's log of 1 GiB and of
// 3 GiB (the same generator, three times the history), each step run as
// this test binary turned into the command (TestMain) in a child process,
// so that the peak RSS reported is that step's alone. The logs are
// generated once into $QVMETER_BENCH_DIR (make bench sets it) and reused.
//
// The goal is flat memory: ingest within 128 MiB and meter within 256 MiB
// at both sizes. Each sub-benchmark reports its peak RSS (MiB-peak-RSS),
// meter also the replay's rate (sessions/s); scripts/bench.sh prints them
// next to their goals (BenchmarkIngest measures the dataset's size).
//
//	QVMETER_BENCH_DIR=.bench go test ./cmd/qvmeter -run '^$' -bench BenchmarkScale -benchtime 1x
func BenchmarkScale(b *testing.B) {
	dir := os.Getenv("QVMETER_BENCH_DIR")
	if dir == "" {
		b.Skip("set QVMETER_BENCH_DIR (make bench does) for the 1 and 3 GiB scale benchmark")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, size := range []struct {
		name  string
		bytes int64
		seed  uint64
	}{{"1GiB", 1 << 30, 1}, {"3GiB", 3 << 30, 2}} {
		log, err := fixtures.JoinedLog(context.Background(), dir, size.bytes, size.seed)
		if err != nil {
			b.Fatal(err)
		}
		info, err := os.Stat(log)
		if err != nil {
			b.Fatal(err)
		}
		data := filepath.Join(b.TempDir(), "data")
		b.Run("ingest-"+size.name, func(b *testing.B) {
			b.SetBytes(info.Size())
			var rss int64
			for range b.N {
				if err := os.RemoveAll(data); err != nil {
					b.Fatal(err)
				}
				_, rss = childRun(b, "ingest", "--data", data, log)
			}
			b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
		})
		b.Run("meter-"+size.name, func(b *testing.B) {
			var rss, sessions int64
			var replay time.Duration
			for range b.N {
				var out []byte
				out, rss = childRun(b, "meter", "--data", data, "--as-of", "2040-01-01")
				sessions, replay = replayed(b, out)
			}
			b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
			b.ReportMetric(float64(sessions)/replay.Seconds(), "sessions/s")
		})
	}
}

// childRun runs the command in a child process and returns its standard
// output and peak RSS in bytes.
func childRun(b *testing.B, args ...string) ([]byte, int64) {
	b.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCommand)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("qvmeter %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
}

var replayedLine = regexp.MustCompile(`(\d+) sessions replayed in (\S+) `)

// replayed reads the session count and replay time meter prints.
func replayed(b *testing.B, out []byte) (int64, time.Duration) {
	m := replayedLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("meter printed no replay figures:\n%s", out)
	}
	n, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	d, err := time.ParseDuration(string(m[2]))
	if err != nil {
		b.Fatal(fmt.Errorf("replay time %q: %w", m[2], err))
	}
	return n, d
}
