package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/fixtures"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// The crash test runs this test binary as the ingest process it kills.
func TestMain(m *testing.M) {
	if args := os.Getenv("QVMETER_INGEST_CHILD"); args != "" {
		var child childArgs
		if err := json.Unmarshal([]byte(args), &child); err != nil {
			panic(err)
		}
		if err := child.run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if estateDir != "" {
		os.RemoveAll(estateDir)
	}
	os.Exit(code)
}

// childArgs is what the crash test and the benchmark pass to a child
// process: an ingest, or (Mode "duckdb-copy") DuckDB's own CSV-to-Parquet.
type childArgs struct {
	Mode       string
	Data       string
	Paths      []string
	ChunkBytes int64
	Rebuild    bool
	Compact    bool
}

func (c childArgs) run() error {
	if c.Mode == "duckdb-copy" {
		return duckdbCopy(c.Paths[0], filepath.Join(c.Data, "duckdb.parquet"))
	}
	defer ingest.LimitMemory()() // as qvmeter ingest does
	_, err := ingest.Run(context.Background(), ingest.Options{Data: c.Data, Paths: c.Paths, ChunkBytes: c.ChunkBytes, Rebuild: c.Rebuild, Compact: c.Compact})
	return err
}

var fixedNow = func() time.Time { return time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) }

func run(t *testing.T, data string, paths ...string) *ingest.Summary {
	t.Helper()
	sum, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: paths, Now: fixedNow, ChunkBytes: 256 << 10})
	require.NoError(t, err)
	return sum
}

// readDataset returns every stored session, in a stable order, as the
// catalog lists them.
func readDataset(t *testing.T, dir string) []dataset.SessionRow {
	t.Helper()
	rows := readCommitted[dataset.SessionRow](t, dir, dataset.KindSessions)
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.SourceFile != b.SourceFile {
			return a.SourceFile < b.SourceFile
		}
		return a.SourceLine < b.SourceLine
	})
	return rows
}

func readRejects(t *testing.T, dir string) []dataset.RejectRow {
	t.Helper()
	return readCommitted[dataset.RejectRow](t, dir, dataset.KindRejects)
}

// readCommitted reads the rows of every committed file of one kind.
func readCommitted[T any](t *testing.T, dir, kind string) []T {
	t.Helper()
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	var rows []T
	for _, f := range cat.Files {
		if f.Kind != kind {
			continue
		}
		part, err := parquet.ReadFile[T](filepath.Join(dir, f.Path))
		require.NoError(t, err)
		require.Len(t, part, int(f.Rows))
		rows = append(rows, part...)
	}
	return rows
}

// The small messy estate the tests share, generated once per test binary.
var (
	estateDir   string
	estateTruth *fixtures.Truth
)

func genEstate(t *testing.T) (string, *fixtures.Truth) {
	t.Helper()
	if estateTruth == nil {
		dir, err := os.MkdirTemp("", "qvmeter-estate-")
		require.NoError(t, err)
		truth, err := fixtures.Generate(context.Background(), fixtures.Options{Out: dir, Servers: 2, Days: 20, Seed: 7, Size: 4 << 20, Mess: true})
		require.NoError(t, err)
		estateDir, estateTruth = dir, truth
	}
	return estateDir, estateTruth
}

// Every generated session is stored once, and exactly the planted corrupt
// lines are rejected, with their reasons.
func TestIngestGeneratedEstate(t *testing.T) {
	logs, truth := genEstate(t)
	data := t.TempDir()
	sum := run(t, data, logs)
	require.Equal(t, truth.Sessions, sum.RowsStored)
	require.Zero(t, sum.Duplicates)
	require.Equal(t, int64(len(truth.CorruptLines)), sum.Rejects)
	require.Len(t, readDataset(t, data), int(truth.Sessions))

	var got, want []string
	for _, r := range readRejects(t, data) {
		got = append(got, fmt.Sprintf("%s:%d %s", r.SourceFile, r.SourceLine, r.Reason))
	}
	for _, c := range truth.CorruptLines {
		want = append(want, fmt.Sprintf("%s:%d %s", c.File, c.Line, c.Reason))
	}
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got)
	require.NotEmpty(t, truth.PartialLines)
	require.Positive(t, sum.PartialBytes, "the planted partial last lines are held back")
}

// A file that grows between runs: the second run reads only the new lines,
// and the dataset equals one run over the whole file.
func TestGrownFile(t *testing.T) {
	logs, _ := genEstate(t)
	src := largestLog(t, logs)
	whole, err := os.ReadFile(src)
	require.NoError(t, err)
	cut := bytes.IndexByte(whole[len(whole)/2:], '\n') + len(whole)/2 + 1

	dir := t.TempDir()
	path := filepath.Join(dir, filepath.Base(src))
	require.NoError(t, os.WriteFile(path, whole[:cut], 0o644))
	data := t.TempDir()
	first := run(t, data, dir)
	require.Equal(t, 1, first.FilesNew)

	require.NoError(t, os.WriteFile(path, whole, 0o644))
	second := run(t, data, dir)
	require.Equal(t, 1, second.FilesGrown)
	require.Equal(t, int64(len(whole)-cut), second.BytesRead, "only the new bytes are read")
	require.Zero(t, second.Duplicates)

	clean := t.TempDir()
	run(t, clean, path)
	require.Equal(t, readDataset(t, clean), readDataset(t, data))

	third := run(t, data, dir)
	require.Equal(t, 1, third.FilesUnchanged)
	require.Zero(t, third.BytesRead)
}

// A rotated file (new content, here shorter) is read from the start; what
// was stored from the old content stays.
func TestRotatedFile(t *testing.T) {
	logs, _ := genEstate(t)
	files := sessionLogs(t, logs)
	dir := t.TempDir()
	path := filepath.Join(dir, "Sessions_QVS01_2024-02-01.log")
	copyFile(t, files[len(files)/2], path)
	data := t.TempDir()
	first := run(t, data, dir)

	smaller := files[0]
	copyFile(t, smaller, path)
	info, err := os.Stat(smaller)
	require.NoError(t, err)
	second := run(t, data, dir)
	require.Equal(t, 1, second.FilesRotated)
	require.Equal(t, info.Size(), second.BytesRead, "read from the start")
	require.Len(t, readDataset(t, data), int(first.RowsStored+second.RowsStored))
	require.Positive(t, second.RowsStored)
}

// Two copies of one file (a backup folder) store each session once.
func TestCopiesStoredOnce(t *testing.T) {
	logs, _ := genEstate(t)
	src := largestLog(t, logs)
	dir := t.TempDir()
	copyFile(t, src, filepath.Join(dir, "live", filepath.Base(src)))
	copyFile(t, src, filepath.Join(dir, "backup", "2024", filepath.Base(src)))
	data := t.TempDir()
	sum := run(t, data, dir)
	require.Equal(t, 2, sum.FilesNew)
	require.Equal(t, sum.RowsStored, sum.Duplicates)

	again := t.TempDir()
	copyFile(t, src, filepath.Join(again, "third-copy", filepath.Base(src)))
	later := run(t, data, again)
	require.Zero(t, later.RowsStored, "a copy found in a later run is recognised too")
	require.Equal(t, sum.RowsStored, later.Duplicates)
}

// A last line the server was still writing is held back, then stored once,
// whole, when the next run finds it finished.
func TestPartialLastLineCompleted(t *testing.T) {
	logs, _ := genEstate(t)
	whole, err := os.ReadFile(largestLog(t, logs))
	require.NoError(t, err)
	whole = whole[:bytes.LastIndexByte(whole, '\n')+1]
	lastStart := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1
	lastLine := whole[lastStart : len(whole)-2]

	dir := t.TempDir()
	path := filepath.Join(dir, "Sessions_QVS01_2024-02-02.log")
	require.NoError(t, os.WriteFile(path, whole[:lastStart+len(lastLine)/2], 0o644))
	data := t.TempDir()
	first := run(t, data, dir)
	require.Equal(t, int64(len(lastLine)/2), first.PartialBytes)
	require.Zero(t, first.Rejects)

	require.NoError(t, os.WriteFile(path, whole, 0o644))
	second := run(t, data, dir)
	require.Equal(t, int64(1), second.RowsStored)
	require.Zero(t, second.PartialBytes)

	rows := readDataset(t, data)
	last := rows[len(rows)-1]
	fields := strings.Split(string(lastLine), "\t")
	require.Equal(t, *last.ClientAddress, fieldByHeader(t, whole, fields, "Client Address"), "stored whole")
	require.Equal(t, last.SourceLine, int64(bytes.Count(whole, []byte{'\n'})))
}

// A second writer on the same data folder stops at once with a clear error.
func TestSecondWriterRefused(t *testing.T) {
	data := t.TempDir()
	unlock, err := dataset.Lock(context.Background(), data, 0)
	require.NoError(t, err)
	_, err = ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{t.TempDir()}})
	var locked *dataset.ErrLocked
	require.ErrorAs(t, err, &locked)
	require.Contains(t, err.Error(), fmt.Sprintf("pid %d", os.Getpid()))
	unlock()
	_, err = ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{t.TempDir()}})
	require.NoError(t, err, "released")
}

// A path that cannot be read is reported by name; the others are ingested.
func TestUnreadablePathSkipped(t *testing.T) {
	logs, _ := genEstate(t)
	src := largestLog(t, logs)
	missing := filepath.Join(t.TempDir(), "gone")
	data := t.TempDir()
	sum := run(t, data, missing, src)
	require.Len(t, sum.Unreadable, 1)
	require.Contains(t, sum.Unreadable[0], missing)
	require.Equal(t, 1, sum.FilesNew)
	require.Positive(t, sum.RowsStored)
}

// A write error fails the run and leaves the dataset exactly as it was.
func TestWriteErrorLeavesDataset(t *testing.T) {
	logs, _ := genEstate(t)
	files := sessionLogs(t, logs)
	data := t.TempDir()
	run(t, data, files[0])
	before, err := os.ReadFile(filepath.Join(data, dataset.CatalogFile))
	require.NoError(t, err)
	rows := readDataset(t, data)

	// Occupy the names the next run's files would be written under.
	for w := range 2 {
		for seq := 1; seq <= 8; seq++ {
			name := fmt.Sprintf(".part-%08d-w%d-%03d.parquet%s", 2, w, seq, dataset.TmpSuffix)
			require.NoError(t, os.MkdirAll(filepath.Join(data, dataset.SessionsDir, "month=2024-02", name, "x"), 0o755))
		}
	}
	_, err = ingest.Run(context.Background(), ingest.Options{Data: data, Paths: files[1:], Now: fixedNow})
	require.Error(t, err)
	after, err := os.ReadFile(filepath.Join(data, dataset.CatalogFile))
	require.NoError(t, err)
	require.Equal(t, before, after, "catalog unchanged")
	require.Equal(t, rows, readDataset(t, data), "stored rows unchanged")
	require.NoError(t, filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		require.False(t, !d.IsDir() && strings.HasSuffix(path, dataset.TmpSuffix), "temporary file left: %s", path)
		return err
	}))
}

// Killed with SIGKILL at random moments, ingest leaves a dataset that the
// next run completes to exactly what an uninterrupted run produces. Kill
// moments are drawn over the time a whole child run takes, and the test
// goes on until at least 20 kills have interrupted a run.
func TestCrashAtAnyMoment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ingest dozens of times")
	}
	logs, _ := genEstate(t)
	clean := t.TempDir()
	sum := run(t, clean, logs)
	require.Greater(t, sum.BytesRead, int64(2<<20), "a multi-megabyte input")
	want := readDataset(t, clean)

	child := func(data string) *exec.Cmd {
		args, err := json.Marshal(childArgs{Data: data, Paths: []string{logs}, ChunkBytes: 256 << 10})
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "QVMETER_INGEST_CHILD="+string(args))
		return cmd
	}
	started := time.Now()
	require.NoError(t, child(t.TempDir()).Run())
	childTime := time.Since(started)

	rng := rand.New(rand.NewPCG(1, 2))
	interrupted := 0
	for round := 0; interrupted < 20; round++ {
		require.Less(t, round, 200, "too few kills landed inside a run")
		data := t.TempDir()
		// Up to three killed runs in a row before one may finish.
		for range rng.IntN(3) + 1 {
			cmd := child(data)
			require.NoError(t, cmd.Start())
			time.Sleep(time.Duration(rng.Int64N(int64(childTime))))
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			if err := cmd.Wait(); err != nil {
				interrupted++
			}
		}
		sum, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{logs}, Now: fixedNow})
		require.NoError(t, err, "round %d", round)
		require.Equal(t, want, readDataset(t, data), "round %d: after kills, the dataset equals a clean run's", round)
		require.Zero(t, sum.Duplicates, "round %d: nothing was stored twice", round)
	}
	t.Logf("%d kills interrupted a run over %d bytes (a whole run takes %v)", interrupted, sum.BytesRead, childTime)
}

// A rebuild killed with SIGKILL at random moments leaves the dataset it was
// replacing, whole: the old files are removed only after the new catalog is
// committed, and the next run finishes what a kill after the commit left.
func TestRebuildKilledKeepsDataset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a rebuild several times")
	}
	logs, _ := genEstate(t)
	data := t.TempDir()
	run(t, data, logs)
	want := readDataset(t, data)
	args, err := json.Marshal(childArgs{Data: data, Paths: []string{logs}, ChunkBytes: 256 << 10, Rebuild: true})
	require.NoError(t, err)
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "QVMETER_INGEST_CHILD="+string(args))
		return cmd
	}
	started := time.Now()
	require.NoError(t, child().Run())
	childTime := time.Since(started)
	require.Equal(t, want, readDataset(t, data), "a rebuild with the same zones stores the same rows")

	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 6 {
		cmd := child()
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(rng.Int64N(int64(childTime))))
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		require.Equal(t, want, readDataset(t, data), "round %d: the committed dataset is whole after the kill", round)
		sum := run(t, data, logs)
		require.Zero(t, sum.RowsStored, "round %d", round)
		require.Equal(t, want, readDataset(t, data), "round %d: and after the next run", round)
		require.NoError(t, filepath.WalkDir(filepath.Join(data, dataset.SessionsDir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(data, path)
				require.True(t, committedFile(t, data, filepath.ToSlash(rel)), "round %d: %s is left over", round, rel)
			}
			return err
		}))
	}
}

// committedFile tells whether the catalog lists a data file.
func committedFile(t *testing.T, data, rel string) bool {
	t.Helper()
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	for _, f := range cat.Files {
		if f.Path == rel {
			return true
		}
	}
	return false
}

// A large file is decoded in chunks on several workers with the same rows
// as in one piece; when its header changes mid-file (a restart after an
// upgrade from 12.50 to a 28-column version), the chunks after the change
// were decoded with the wrong layout, so the run is redone with the file
// whole, with the same rows again.
func TestSplitFiles(t *testing.T) {
	logs, _ := genEstate(t)
	join := func(files []string, keepHeader bool) []byte {
		var out bytes.Buffer
		for i, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			data = data[:bytes.LastIndexByte(data, '\n')+1]
			if i > 0 || !keepHeader {
				data = data[bytes.IndexByte(data, '\n')+1:]
			}
			out.Write(data)
		}
		return out.Bytes()
	}
	prod, err := filepath.Glob(filepath.Join(logs, "Sessions_QVS-PROD-01_*.log"))
	require.NoError(t, err)
	ny, err := filepath.Glob(filepath.Join(logs, "Sessions_QVS_NY-02_*.log"))
	require.NoError(t, err)
	sort.Strings(prod)
	sort.Strings(ny)
	for _, tt := range []struct {
		name    string
		data    []byte
		retried bool
	}{
		{"one layout", join(prod, true), false},
		{"29 then 28 columns", append(join(prod, true), join(ny, true)...), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "Sessions_QVS-MIX_2024.log")
			require.NoError(t, os.WriteFile(path, tt.data, 0o644))
			require.Greater(t, len(tt.data), 4*300<<10)

			whole := t.TempDir()
			wholeSum, err := ingest.Run(context.Background(), ingest.Options{Data: whole, Paths: []string{path}, Now: fixedNow, ChunkBytes: 1 << 40})
			require.NoError(t, err)
			before := ingest.LayoutRetries()
			split := t.TempDir()
			sum, err := ingest.Run(context.Background(), ingest.Options{Data: split, Paths: []string{path}, Now: fixedNow, ChunkBytes: 300 << 10})
			require.NoError(t, err)
			require.Equal(t, tt.retried, ingest.LayoutRetries() > before)
			require.Equal(t, wholeSum.Rejects, sum.Rejects)
			require.Equal(t, wholeSum.RowsStored, sum.RowsStored)
			require.Equal(t, readDataset(t, whole), readDataset(t, split))
		})
	}
}

func sessionLogs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "Sessions_*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sort.Strings(files)
	return files
}

func largestLog(t *testing.T, dir string) string {
	t.Helper()
	var best string
	var size int64
	for _, f := range sessionLogs(t, dir) {
		info, err := os.Stat(f)
		require.NoError(t, err)
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		if info.Size() > size && bytes.HasSuffix(data, []byte("\n")) && bytes.Count(data, []byte("Exe Type")) == 1 {
			best, size = f, info.Size()
		}
	}
	return best
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, data, 0o644))
}

func fieldByHeader(t *testing.T, file []byte, fields []string, name string) string {
	t.Helper()
	header := strings.Split(strings.TrimPrefix(string(file[:bytes.IndexByte(file, '\r')]), "\ufeff"), "\t")
	for i, h := range header {
		if h == name {
			return fields[i]
		}
	}
	t.Fatalf("no column %q", name)
	return ""
}

func readCommittedFile(t *testing.T, path string) []dataset.SessionRow {
	t.Helper()
	rows, err := parquet.ReadFile[dataset.SessionRow](path)
	require.NoError(t, err)
	return rows
}
