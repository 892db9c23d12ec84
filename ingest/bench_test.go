package ingest_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/marcboeker/go-duckdb"
	"github.com/qvmeter/qvmeter/fixtures"
)

// duckdbCopy is the yardstick of the ingest benchmark: DuckDB's own
// CSV-to-Parquet conversion of a session log, as the issue states it.
func duckdbCopy(log, out string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`COPY (SELECT * FROM read_csv(?, delim='\t', header=true, timestampformat='%Y%m%dT%H%M%S.%g%z'))
		TO '`+strings.ReplaceAll(out, "'", "''")+`' (FORMAT parquet, COMPRESSION zstd)`, log)
	return err
}

// BenchmarkIngest ingests a generated 1 GiB log into a new dataset and, in
// the same run, converts it with DuckDB's COPY. Each runs in a child process
// so that its peak RSS is its own; both are reported with the ratio.
func BenchmarkIngest(b *testing.B) {
	dir := os.Getenv("QVMETER_BENCH_DIR")
	if dir == "" {
		b.Skip("set QVMETER_BENCH_DIR (make bench does) for the 1 GiB ingest benchmark")
	}
	log, err := fixtures.JoinedLog(context.Background(), dir, 1<<30, 1)
	if err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(log)
	if err != nil {
		b.Fatal(err)
	}
	measure := func(b *testing.B, mode string) (time.Duration, int64) {
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
	var ingestTime, duckTime time.Duration
	var ingestRSS, duckRSS int64
	b.Run("qvmeter-ingest", func(b *testing.B) {
		b.SetBytes(info.Size())
		for range b.N {
			ingestTime, ingestRSS = measure(b, "ingest")
		}
		b.ReportMetric(float64(ingestRSS)/(1<<20), "MiB-peak-RSS")
	})
	b.Run("duckdb-copy", func(b *testing.B) {
		b.SetBytes(info.Size())
		for range b.N {
			duckTime, duckRSS = measure(b, "duckdb-copy")
		}
		b.ReportMetric(float64(duckRSS)/(1<<20), "MiB-peak-RSS")
	})
	if ingestTime > 0 && duckTime > 0 {
		b.Logf("1 GiB log: qvmeter ingest %v (peak RSS %d MiB), DuckDB COPY %v (peak RSS %d MiB): ingest is %.2fx faster",
			ingestTime.Round(time.Millisecond), ingestRSS>>20, duckTime.Round(time.Millisecond), duckRSS>>20, float64(duckTime)/float64(ingestTime))
	}
}
