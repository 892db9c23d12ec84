package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

func zones(t *testing.T, rules ...string) parse.TimeZones {
	t.Helper()
	z, err := parse.ParseTimeZones(rules...)
	require.NoError(t, err)
	return z
}

// QlikView 11.x writes times without an offset in the server's local time.
// Without a zone they are taken as UTC and the server is warned about on
// every run; given a zone afterwards, --rebuild reads the old lines again
// into a new dataset version, and a session from an America/New_York server
// ending 2016-01-31 20:30:00 local is stored as 2016-02-01T01:30:00Z, in
// February's partition (issue 10, "Done when").
func TestOffsetlessTimesZoneAndRebuild(t *testing.T) {
	ss := []sess{
		{start: "2016-01-31 20:00:00", end: "2016-01-31 20:30:00", user: `CORP\ann`, doc: `D:\Docs\Budget.qvw`, client: "c1"},
		{start: "2016-01-29 08:58:02", end: "2016-01-29 09:10:00", user: `CORP\bob`, doc: `D:\Docs\Budget.qvw`, client: "c2"},
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "Sessions_QVS-OLD-1_2016-01-31.log")
	writeLog(t, old, logText(columns28, true, ss))
	modern := filepath.Join(dir, "Sessions_QVS-NEW_2024-02-01.log")
	writeLog(t, modern, logText(columns29, true, sessions(3)))
	data := t.TempDir()

	sum := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	require.Equal(t, dataset.NoZone, sum.Servers["QVS-OLD-1"].Zone)
	require.Equal(t, int64(4), sum.Servers["QVS-OLD-1"].Lenient["offsetless_times"], "Timestamp and Session Start of two lines")
	require.Zero(t, sum.Servers["QVS-NEW"].Lenient["offsetless_times"])
	require.Len(t, sum.Warnings, 1)
	require.Contains(t, sum.Warnings[0], "server QVS-OLD-1: 4 times without an offset were converted as UTC")
	again := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	require.Equal(t, 2, again.FilesUnchanged)
	require.Equal(t, sum.Warnings, again.Warnings, "warned on every run")

	ny := zones(t, "qvs-old-*=America/New_York")
	changed := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}, Zones: ny})
	require.Contains(t, changed.Warnings[0], "stored converted with UTC (no zone given), but its zone is now America/New_York: run qvmeter ingest --rebuild")

	before := readDataset(t, data)
	rebuilt := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}, Zones: ny, Rebuild: true})
	require.Empty(t, rebuilt.Warnings)
	require.Equal(t, &ingest.Rebuilt{PreviousVersion: 1, PreviousRows: 5, Missing: nil}, rebuilt.Rebuilt)
	require.Equal(t, "America/New_York", rebuilt.Servers["QVS-OLD-1"].Zone)
	require.Equal(t, 2, rebuilt.FilesNew)
	rows := readDataset(t, data)
	require.Len(t, rows, len(before), "nothing lost, nothing doubled")
	var ann *dataset.SessionRow
	for i := range rows {
		if rows[i].UserKey == `corp\ann` {
			ann = &rows[i]
		}
	}
	require.NotNil(t, ann)
	require.Equal(t, time.Date(2016, 2, 1, 1, 30, 0, 0, time.UTC), time.UnixMilli(ann.SessionEnd).UTC())
	require.Equal(t, []string{"2016-02"}, monthsOf(t, data, "QVS-OLD-1", `corp\ann`))

	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"America/New_York": 4}, cat.Quality["QVS-OLD-1"].OffsetlessByZone, "the rebuild's counts replace the old ones")
	leftovers, err := filepath.Glob(filepath.Join(data, dataset.SessionsDir, "*", "part-00000001-*.parquet"))
	require.NoError(t, err)
	require.Empty(t, leftovers, "the replaced version's files are removed once the rebuild is committed")
}

// monthsOf lists the month partitions that hold a user's sessions.
func monthsOf(t *testing.T, data, server, user string) []string {
	t.Helper()
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	var months []string
	for _, f := range cat.Files {
		if f.Kind != dataset.KindSessions {
			continue
		}
		for _, r := range readCommittedFile(t, filepath.Join(data, f.Path)) {
			if r.Server == server && r.UserKey == user {
				months = append(months, f.Month)
			}
		}
	}
	return months
}

// A rebuild never loses what only the dataset still has: the stored rows of
// logs no longer on disk are kept as they were, and the summary names them.
func TestRebuildKeepsRowsOfDeletedLogs(t *testing.T) {
	dir := t.TempDir()
	kept := filepath.Join(dir, "Sessions_QVS01_2024-02-01.log")
	deleted := filepath.Join(dir, "Sessions_QVS02_2024-02-01.log")
	writeLog(t, kept, logText(columns29, true, sessions(5)))
	writeLog(t, deleted, logText(columns29, true, sessions(7))+"not a session line\r\n")
	data := t.TempDir()
	runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	before := readDataset(t, data)
	require.Len(t, before, 12)
	require.NoError(t, os.Remove(deleted))

	sum := runOpts(t, ingest.Options{Data: data, Paths: nil, Rebuild: true})
	require.Equal(t, &ingest.Rebuilt{PreviousVersion: 1, PreviousRows: 12, Missing: []string{deleted}, KeptRows: 7, KeptRejects: 1}, sum.Rebuilt)
	require.Equal(t, 1, sum.FilesNew, "the catalog's sources are read again without naming them")
	require.Equal(t, identities(before), identities(readDataset(t, data)))
	require.Len(t, readRejects(t, data), 1)

	again := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}, Rebuild: true})
	require.Equal(t, int64(7), again.Rebuilt.KeptRows, "kept again, although the catalog dropped the deleted log's checkpoint")
	require.Equal(t, int64(1), again.Rebuilt.KeptRejects)
	require.Equal(t, identities(before), identities(readDataset(t, data)))
}

// A deleted catalog.json leaves data files no catalog lists: a plain run
// refuses them (it would overwrite or double them) and names --rebuild,
// which adopts them: their rows of logs no longer on disk are kept, the
// rest is read again, and the adopted files are replaced in one commit.
func TestRebuildAdoptsFilesOfALostCatalog(t *testing.T) {
	dir := t.TempDir()
	kept := filepath.Join(dir, "Sessions_QVS01_2024-02-01.log")
	deleted := filepath.Join(dir, "Sessions_QVS02_2024-02-01.log")
	writeLog(t, kept, logText(columns29, true, sessions(5)))
	writeLog(t, deleted, logText(columns29, true, sessions(7)))
	data := t.TempDir()
	runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	before := readDataset(t, data)
	require.NoError(t, os.Remove(deleted))
	require.NoError(t, os.Remove(filepath.Join(data, dataset.CatalogFile)))

	_, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{dir}})
	var unknown *dataset.ErrUnknownFiles
	require.ErrorAs(t, err, &unknown)
	require.ErrorContains(t, err, "qvmeter ingest --rebuild")

	sum := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}, Rebuild: true})
	require.Len(t, sum.Rebuilt.Adopted, len(unknown.Files))
	require.Equal(t, int64(7), sum.Rebuilt.KeptRows, "the deleted log's rows, from the adopted files")
	require.Equal(t, identities(before), identities(readDataset(t, data)))
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	left, err := dataset.UnknownFiles(data, cat)
	require.NoError(t, err)
	require.Empty(t, left, "the adopted files are replaced")
	again := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	require.Zero(t, again.RowsStored)
}
