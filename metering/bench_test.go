package metering

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

// benchSessions is the size of the benchmark's estate: the issue asks for
// at least 10 million sessions; 12 million split evenly over 12 months.
const benchSessions = 12_000_000

// BenchmarkReplay replays a synthetic dataset of benchSessions sessions
// (12 months, 20,000 users, 300 documents, 4 servers, every CAL type)
// from Parquet, reconstruct mode. The dataset is written once, as ingest
// writes it (zstd, dictionary strings, 64 Ki rows per row group, rows in
// file order rather than end order), to $QVMETER_BENCH_DIR or the temp
// folder, and reused by later runs.
//
//	go test ./metering -run '^$' -bench BenchmarkReplay -benchtime 3x
func BenchmarkReplay(b *testing.B) {
	dir := benchDataset(b)
	ds, err := dataset.ListFiles(dir)
	require.NoError(b, err)
	var bytes int64
	for _, m := range ds.Months {
		for _, f := range m.Files {
			info, err := os.Stat(f)
			require.NoError(b, err)
			bytes += info.Size()
		}
	}
	cfg := Config{AsOf: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b.SetBytes(bytes)
	b.ReportAllocs()
	var sessions int64
	cpu := cpuTime(b)
	for b.Loop() {
		st, err := Replay(context.Background(), ds, cfg)
		require.NoError(b, err)
		sessions = st.Info.Sessions
	}
	cpu = cpuTime(b) - cpu
	require.EqualValues(b, benchSessions, sessions)
	b.ReportMetric(float64(sessions)*float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	// On a shared machine the wall-clock rate depends on the other load;
	// the rate per CPU-second (both goroutines) much less.
	if cpu > 0 {
		b.ReportMetric(float64(sessions)*float64(b.N)/cpu.Seconds(), "sessions/cpu-s")
	}
}

// benchDataset returns the benchmark's data folder, writing it if needed.
func benchDataset(b *testing.B) string {
	root := os.Getenv("QVMETER_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, "qvmeter-bench-replay-v3-"+strconv.Itoa(benchSessions))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	require.NoError(b, os.RemoveAll(dir))
	b.Logf("writing %d sessions to %s (once)", benchSessions, dir)
	writeBenchDataset(b, dir)
	require.NoError(b, os.WriteFile(done, nil, 0o644))
	return dir
}

func writeBenchDataset(b *testing.B, dir string) {
	const (
		months    = 12
		users     = 20_000
		documents = 300
		servers   = 4
		chunk     = 64 * 1024
	)
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int, format string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(format, i)
		}
		return out
	}
	userNames, machines := text(users, `CORP\User%05d`), text(users, "%08x-5b1c-4b9e-87a9-d9200f55e37a")
	userKeys := make([]string, users)
	for i, name := range userNames {
		userKeys[i] = "corp\\user" + name[len(`CORP\User`):]
	}
	docPaths := text(documents, `C:\ProgramData\QlikTech\Documents\App %03d.qvw`)
	docKeys := make([]string, documents)
	for i, p := range docPaths {
		docKeys[i] = parse.DocumentKey(p)
	}
	serverNames := text(servers, "QVS-NODE-%02d")
	calTexts := []string{"Named User", "Document", "Session", "Usage", "Professional", "Analyzer", "Analyzer Capacity"}
	calClasses := []string{"named", "document", "session", "usage", "professional", "analyzer", "analyzer_capacity"}
	exe, ajax := "12.50.20200.0", "Ajax"
	counts := []int64{6, 12, 18, 24, 30, 36, 42, 48} // 6 × active units, within what the duration allows
	perMonth := benchSessions / months
	rows := make([]dataset.SessionRow, chunk)
	for m := range months {
		from := time.Date(2024, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		until := time.Date(2024, time.Month(m+2), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		folder := filepath.Join(dir, dataset.SessionsDir, fmt.Sprintf("month=2024-%02d", m+1))
		require.NoError(b, os.MkdirAll(folder, 0o755))
		f, err := os.Create(filepath.Join(folder, "part-00000.parquet"))
		require.NoError(b, err)
		w := parquet.NewGenericWriter[dataset.SessionRow](f, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(64*1024))
		for written := 0; written < perMonth; {
			n := min(chunk, perMonth-written)
			for i := range n {
				u, c := rng.IntN(users), rng.IntN(len(calTexts))
				duration := 10_000 + rng.Int64N(2*hourMS)
				end := from + duration + rng.Int64N(until-from-duration)
				r := dataset.SessionRow{SessionStart: end - duration, SessionEnd: end, DurationMS: duration,
					AuthenticatedUser: &userNames[u], UserKey: userKeys[u], Document: &docPaths[u%documents], DocumentKey: docKeys[u%documents],
					Server: serverNames[rng.IntN(servers)], ClientMachineID: &machines[u], ClientType: &ajax, ExeVersion: &exe,
					CALType: &calTexts[c], CALClass: calClasses[c], SourceFile: "Sessions_QVS-NODE-01_2024-01-01.log", SourceLine: int64(written + i + 2)}
				if calClasses[c] == "analyzer_capacity" {
					units := min(int64(len(counts)), ceilDiv(duration, capacityUnit*minuteMS))
					r.CALUsageCount = &counts[rng.Int64N(units)]
				}
				rows[i] = r
			}
			_, err := w.Write(rows[:n])
			require.NoError(b, err)
			written += n
		}
		require.NoError(b, w.Close())
		require.NoError(b, f.Close())
	}
}
