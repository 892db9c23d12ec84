package ingest_test

import (
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// smallFilesDataset stores the estate one log a run, as nightly runs do,
// with automatic compaction off: a month of many small files, and a
// rejects file per run that rejected lines.
func smallFilesDataset(t *testing.T) string {
	t.Helper()
	logs, _ := genEstate(t)
	data := t.TempDir()
	for _, log := range sessionLogs(t, logs) {
		runOpts(t, ingest.Options{Data: data, Paths: []string{log}, CompactAbove: -1})
	}
	return data
}

// filesOf counts the committed files of each partition (a month, or
// "rejects"), checking that each exists with the catalog's size.
func filesOf(t *testing.T, data string) map[string]int {
	t.Helper()
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	n := map[string]int{}
	for _, f := range cat.Files {
		info, err := os.Stat(filepath.Join(data, f.Path))
		require.NoError(t, err)
		require.Equal(t, f.Bytes, info.Size(), f.Path)
		if f.Kind == dataset.KindSessions {
			n[f.Month]++
		} else {
			n[f.Kind]++
		}
	}
	return n
}

// copyDir copies a data folder's committed files and catalog.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	cat, err := dataset.LoadCatalog(from)
	require.NoError(t, err)
	for _, f := range append(cat.Files, dataset.DataFile{Path: dataset.CatalogFile}) {
		copyFile(t, filepath.Join(from, f.Path), filepath.Join(to, f.Path))
	}
	return to
}

// sameRows says, through DuckDB, whether two data folders' committed files
// of one kind hold the same multiset of rows, every column compared.
func sameRows(t *testing.T, a, b, kind string) {
	t.Helper()
	list := func(dir string) string {
		cat, err := dataset.LoadCatalog(dir)
		require.NoError(t, err)
		var paths []string
		for _, f := range cat.Files {
			if f.Kind == kind {
				paths = append(paths, "'"+strings.ReplaceAll(filepath.Join(dir, f.Path), "'", "''")+"'")
			}
		}
		require.NotEmpty(t, paths)
		return "read_parquet([" + strings.Join(paths, ",") + "])"
	}
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer db.Close()
	var rowsA, rowsB, onlyA, onlyB int64
	require.NoError(t, db.QueryRow(`SELECT (SELECT count(*) FROM `+list(a)+`), (SELECT count(*) FROM `+list(b)+`),
		(SELECT count(*) FROM (SELECT * FROM `+list(a)+` EXCEPT ALL SELECT * FROM `+list(b)+`)),
		(SELECT count(*) FROM (SELECT * FROM `+list(b)+` EXCEPT ALL SELECT * FROM `+list(a)+`))`).Scan(&rowsA, &rowsB, &onlyA, &onlyB))
	require.Positive(t, rowsA)
	require.Equal(t, rowsA, rowsB, "%s rows", kind)
	require.Zero(t, onlyA, "%s rows only before", kind)
	require.Zero(t, onlyB, "%s rows only after", kind)
}

// Compaction merges each month's files, and the rejects files, into one,
// without changing a row: the same multiset of rows, every value alike
// (DuckDB EXCEPT ALL both ways), in the order readers took them, and the
// catalog's rows and bytes those of the new files. A run after it stores
// nothing again.
func TestCompactKeepsEveryRow(t *testing.T) {
	data := smallFilesDataset(t)
	before := filesOf(t, data)
	require.Greater(t, before["2024-02"], 10, "many small files: %v", before)
	require.Greater(t, before["rejects"], 1, "%v", before)
	old := copyDir(t, data)
	wantRows := readDataset(t, data)

	sum := runOpts(t, ingest.Options{Data: data, Compact: true})
	require.NotEmpty(t, sum.Compacted)
	for part, n := range filesOf(t, data) {
		require.Equal(t, 1, n, "files of %s after --compact", part)
	}
	sameRows(t, old, data, dataset.KindSessions)
	sameRows(t, old, data, dataset.KindRejects)
	require.Equal(t, wantRows, readDataset(t, data))
	for _, c := range sum.Compacted {
		if c.Kind == dataset.KindSessions {
			require.Equal(t, before[c.Month], c.Files)
		}
	}
	oldFiles, err := dataset.ListFiles(old)
	require.NoError(t, err)
	newFiles, err := dataset.ListFiles(data)
	require.NoError(t, err)
	var oldOrder, newOrder []dataset.SessionRow
	for _, f := range oldFiles.SessionFiles() {
		oldOrder = append(oldOrder, readCommittedFile(t, f)...)
	}
	for _, f := range newFiles.SessionFiles() {
		newOrder = append(newOrder, readCommittedFile(t, f)...)
	}
	require.Equal(t, oldOrder, newOrder, "the rows in the order readers take them")
	unknown, err := dataset.UnknownFiles(data, mustCatalog(t, data))
	require.NoError(t, err)
	require.Empty(t, unknown)

	logs, _ := genEstate(t)
	again := runOpts(t, ingest.Options{Data: data, Paths: []string{logs}})
	require.Zero(t, again.RowsStored, "the compacted files' keys are the stored ones")
	require.Empty(t, again.Compacted)
}

// A month is compacted by a plain run once it has more than CompactAbove
// files, and not before.
func TestCompactionAboveThreshold(t *testing.T) {
	data := smallFilesDataset(t)
	files := filesOf(t, data)["2024-02"]
	logs, _ := genEstate(t)
	sum := runOpts(t, ingest.Options{Data: data, Paths: []string{logs}, CompactAbove: files})
	require.Empty(t, sum.Compacted, "%d files are not more than %d", files, files)
	sum = runOpts(t, ingest.Options{Data: data, Paths: []string{logs}, CompactAbove: files - 1})
	require.NotEmpty(t, sum.Compacted)
	require.Equal(t, 1, filesOf(t, data)["2024-02"])
}

func mustCatalog(t *testing.T, data string) *dataset.Catalog {
	t.Helper()
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	return cat
}

// A compaction killed with SIGKILL at random moments leaves the old files
// or the new ones, whole: the rows are those before, and the next run
// finishes or discards what the kill left, with no file left over.
func TestCompactionKilledKeepsEveryRow(t *testing.T) {
	if testing.Short() {
		t.Skip("compacts several times")
	}
	template := smallFilesDataset(t)
	want := readDataset(t, template)
	child := func(data string) *exec.Cmd {
		args, err := json.Marshal(childArgs{Data: data, Compact: true})
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "QVMETER_INGEST_CHILD="+string(args))
		return cmd
	}
	timed := copyDir(t, template)
	started := time.Now()
	require.NoError(t, child(timed).Run())
	childTime := time.Since(started)

	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 8 {
		data := copyDir(t, template)
		cmd := child(data)
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(rng.Int64N(int64(childTime))))
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		require.Equal(t, want, readDataset(t, data), "round %d: the committed rows after the kill", round)
		sum := runOpts(t, ingest.Options{Data: data, Compact: true})
		require.Zero(t, sum.RowsStored)
		require.Equal(t, want, readDataset(t, data), "round %d: and after the next run", round)
		for part, n := range filesOf(t, data) {
			require.Equal(t, 1, n, "round %d: files of %s", round, part)
		}
		require.NoError(t, filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".parquet") || strings.HasSuffix(path, dataset.TmpSuffix) {
				rel, _ := filepath.Rel(data, path)
				require.True(t, committedFile(t, data, filepath.ToSlash(rel)), "round %d: %s is left over", round, rel)
			}
			return err
		}))
	}
}
