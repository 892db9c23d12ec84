package dataset_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
)

var day0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// session is a stored session of a server, from start to end (hours
// after day0).
func session(server string, start, end float64) dataset.SessionRow {
	s := day0.Add(time.Duration(start * float64(time.Hour))).UnixMilli()
	e := day0.Add(time.Duration(end * float64(time.Hour))).UnixMilli()
	return dataset.SessionRow{Server: server, SessionStart: s, SessionEnd: e, DurationMS: e - s}
}

// writeTemp writes rows as a data file of the next commit, under its
// temporary name, and returns its entry.
func writeTemp(t *testing.T, dir, rel string, rows []dataset.SessionRow) dataset.DataFile {
	t.Helper()
	final := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(final), 0o755))
	require.NoError(t, parquet.WriteFile(dataset.TempName(final), rows))
	return dataset.DataFile{Path: rel, Kind: dataset.KindSessions, Month: "2024-03", Rows: int64(len(rows))}
}

// commitRows commits rows as one more data file of the folder.
func commitRows(t *testing.T, dir string, sources map[string]*dataset.Checkpoint, rows ...dataset.SessionRow) *dataset.Catalog {
	t.Helper()
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.NoError(t, dataset.Recover(dir, cat))
	version := cat.Version + 1
	f := writeTemp(t, dir, fmt.Sprintf("sessions/month=2024-03/part-%08d.parquet", version), rows)
	next := &dataset.Catalog{Version: version, Files: append(cat.Files, f), Sources: sources}
	require.NoError(t, dataset.Commit(dir, next, []dataset.DataFile{f}))
	return next
}

// catalog.json stores each distinct header once, however many logs share
// it, and reads catalogs written before the headers table.
func TestCatalogInternsHeaders(t *testing.T) {
	dir := t.TempDir()
	header := strings.Repeat("Exe Type\tExe Version\tServer Started\t", 20)
	sources := map[string]*dataset.Checkpoint{}
	for i := range 500 {
		sources[filepath.Join(dir, fmt.Sprintf("Sessions_QVS_%03d.log", i))] = &dataset.Checkpoint{Server: "QVS", Header: header + fmt.Sprint(i%2)}
	}
	for path := range sources {
		require.NoError(t, os.WriteFile(path, nil, 0o644)) // the logs exist
	}
	commitRows(t, dir, sources, session("QVS", 1, 2))
	raw, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
	require.NoError(t, err)
	for i := range 2 {
		quoted, err := json.Marshal(header + fmt.Sprint(i))
		require.NoError(t, err)
		require.Equal(t, 1, strings.Count(string(raw), string(quoted)), "one copy of each header")
	}
	require.Less(t, len(raw), 500*len(header)/2, "not a copy per log")
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.Equal(t, sources, cat.Sources)

	older := `{"version":1,"files":[],"sources":{"/logs/a.log":{"server":"A","header":"H1"}}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, dataset.CatalogFile), []byte(older), 0o644))
	cat, err = dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.Equal(t, "H1", cat.Sources["/logs/a.log"].Header)
}

// A deleted log's checkpoint is dropped; one in a folder that is gone
// (an unmounted share) is kept.
func TestCommitDropsCheckpointsOfDeletedLogs(t *testing.T) {
	dir, logs := t.TempDir(), t.TempDir()
	kept, deleted := filepath.Join(logs, "Sessions_A_1.log"), filepath.Join(logs, "Sessions_A_2.log")
	unmounted := filepath.Join(logs, "gone", "Sessions_B_1.log")
	require.NoError(t, os.WriteFile(kept, nil, 0o644))
	cat := commitRows(t, dir, map[string]*dataset.Checkpoint{kept: {Server: "A"}, deleted: {Server: "A"}, unmounted: {Server: "B"}}, session("A", 1, 2))
	require.Contains(t, cat.Sources, kept)
	require.Contains(t, cat.Sources, unmounted)
	require.NotContains(t, cat.Sources, deleted)
}

// The commit order: a commit record first, then the data files, then the
// catalog. A crash after the record is completed by the next writer; a
// crash before it leaves the dataset as it was.
func TestCrashedCommitIsCompletedOrUndone(t *testing.T) {
	for name, tc := range map[string]struct {
		record, renamed bool
		wantVersion     int64
	}{
		"died writing its files":         {wantVersion: 1},
		"died after the commit record":   {record: true, wantVersion: 2},
		"died while renaming into place": {record: true, renamed: true, wantVersion: 2},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			first := commitRows(t, dir, nil, session("A", 1, 2))
			f := writeTemp(t, dir, "sessions/month=2024-03/part-00000002.parquet", []dataset.SessionRow{session("A", 3, 4)})
			next := &dataset.Catalog{Version: 2, Files: append(first.Files, f), Sources: map[string]*dataset.Checkpoint{}}
			if tc.record {
				raw, err := json.Marshal(next)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, ".catalog-next.json"), raw, 0o644))
			}
			if tc.renamed {
				final := filepath.Join(dir, filepath.FromSlash(f.Path))
				require.NoError(t, os.Rename(dataset.TempName(final), final))
			}
			// Readers meanwhile: catalog.json names only files that exist.
			files, err := dataset.ListFiles(dir)
			require.NoError(t, err)
			require.Len(t, files.SessionFiles(), 1)

			cat, err := dataset.LoadCatalog(dir)
			require.NoError(t, err)
			require.NoError(t, dataset.Recover(dir, cat))
			require.Equal(t, tc.wantVersion, cat.Version)
			onDisk, err := dataset.LoadCatalog(dir)
			require.NoError(t, err)
			require.Equal(t, tc.wantVersion, onDisk.Version)
			files, err = dataset.ListFiles(dir)
			require.NoError(t, err)
			require.Len(t, files.SessionFiles(), int(tc.wantVersion))
			require.NoFileExists(t, filepath.Join(dir, ".catalog-next.json"))
			unknown, err := dataset.UnknownFiles(dir, cat)
			require.NoError(t, err)
			require.Empty(t, unknown)
		})
	}
}

// Data files the catalog does not list (catalog.json deleted) stop the
// next writer, naming ingest --rebuild, before it overwrites them.
func TestUnknownDataFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	commitRows(t, dir, nil, session("A", 1, 2))
	commitRows(t, dir, nil, session("A", 3, 4))
	require.NoError(t, os.Remove(filepath.Join(dir, dataset.CatalogFile)))
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	err = dataset.Recover(dir, cat)
	var unknown *dataset.ErrUnknownFiles
	require.ErrorAs(t, err, &unknown)
	require.Len(t, unknown.Files, 2)
	require.ErrorContains(t, err, "qvmeter ingest --rebuild")
	require.ErrorContains(t, err, "sessions/month=2024-03/part-00000001.parquet")
}

// Each server's newest session end and when its logs grew are kept.
func TestCommitKeepsServerFreshness(t *testing.T) {
	dir, logs := t.TempDir(), t.TempDir()
	log := filepath.Join(logs, "Sessions_A_1.log")
	require.NoError(t, os.WriteFile(log, nil, 0o644))
	grew := day0.Add(50 * time.Hour)
	commitRows(t, dir, map[string]*dataset.Checkpoint{log: {Server: "A", ModTime: grew}}, session("A", 1, 2), session("B", 1, 30), session("A", 3, 48))
	commitRows(t, dir, nil, session("B", 2, 3)) // older than B's newest
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.Equal(t, map[string]*dataset.ServerInfo{
		"A": {LastSessionEnd: day0.Add(48 * time.Hour), LogsGrew: grew},
		"B": {LastSessionEnd: day0.Add(30 * time.Hour)},
	}, cat.Servers)
}

// A server is silent when its silence exceeds its longest gap of the last
// eight weeks and two days, or a fixed limit.
func TestServerSilences(t *testing.T) {
	dir := t.TempDir()
	var rows []dataset.SessionRow
	for d := range 26 { // A: every day; B: every day, but a 5-day gap once; C: weekdays only
		h := float64(d * 24)
		rows = append(rows, session("A", h+9, h+10))
		if d < 10 || d > 14 {
			rows = append(rows, session("B", h+9, h+10))
		}
		if d%7 < 5 {
			rows = append(rows, session("C", h+9, h+10))
		}
	}
	commitRows(t, dir, nil, rows...)
	end := day0.Add(25*24*time.Hour + 10*time.Hour) // the last sessions' end, a weekday
	for name, tc := range map[string]struct {
		asOf   time.Time
		fixed  time.Duration
		silent []string
	}{
		"the morning after: nobody":                {asOf: end.Add(14 * time.Hour)},
		"three days on: A, whose gaps are short":   {asOf: end.Add(3 * 24 * time.Hour), silent: []string{"A", "C"}},
		"a quiet weekend is no alarm for C":        {asOf: end.Add(2*24*time.Hour + 12*time.Hour), silent: []string{"A"}},
		"five days on: B has been quiet that long": {asOf: end.Add(5 * 24 * time.Hour), silent: []string{"A", "C"}},
		"six days on: all":                         {asOf: end.Add(6 * 24 * time.Hour), silent: []string{"A", "B", "C"}},
		"a fixed limit of one day: all, next day":  {asOf: end.Add(25 * time.Hour), fixed: 24 * time.Hour, silent: []string{"A", "B", "C"}},
		"a fixed limit of ten days: none at six":   {asOf: end.Add(6 * 24 * time.Hour), fixed: 10 * 24 * time.Hour},
		"in the past, in B's first long gap: B":    {asOf: day0.Add(14*24*time.Hour + 12*time.Hour), silent: []string{"B"}},
		"in the past, a day into B's gap: nobody":  {asOf: day0.Add(10*24*time.Hour + 12*time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			silences, err := dataset.ServerSilences(dir, tc.asOf, tc.fixed)
			require.NoError(t, err)
			var all, names []string
			for _, s := range silences {
				all = append(all, s.Server)
				if s.Beyond() {
					names = append(names, s.Server)
					require.Greater(t, s.Silence, s.Limit)
				}
			}
			require.Equal(t, []string{"A", "B", "C"}, all, "every server, silent or not")
			require.Equal(t, tc.silent, names)
		})
	}
}

// The next writer removes what dead writers left: temporary files at the
// top of the data folder, and report temporaries an hour old (a younger one
// may be a report being written by hand).
func TestNextWriterCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	commitRows(t, dir, nil, session("A", 1, 2))
	reports := filepath.Join(dir, dataset.ReportsDir, "2024-03-31")
	require.NoError(t, os.MkdirAll(reports, 0o755))
	stale, fresh := filepath.Join(reports, ".index.html.1a2b.tmp"), filepath.Join(reports, ".summary.csv.3c4d.tmp")
	top := filepath.Join(dir, ".catalog.json.5e6f.tmp")
	for _, f := range []string{stale, fresh, top} {
		require.NoError(t, os.WriteFile(f, []byte("half"), 0o644))
	}
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.NoError(t, dataset.Recover(dir, cat))
	require.NoFileExists(t, stale)
	require.NoFileExists(t, top)
	require.FileExists(t, fresh)
}

// A version that replaces data files (a re-key, a rebuild) lists them as
// Obsolete: Commit removes them once the catalog is committed, and if its
// process died before that, Recover removes them before it looks for
// unknown files, so a crash after the commit never stops the next run.
// Only Parquet files under sessions/ and rejects/ that the catalog does
// not list are ever removed.
func TestObsoleteFilesAreRemovedAfterTheCommit(t *testing.T) {
	for name, crash := range map[string]bool{"by the commit": false, "by the next writer after a crash": true} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			first := commitRows(t, dir, nil, session("A", 1, 2))
			outside := filepath.Join(dir, "keep.parquet")
			require.NoError(t, os.WriteFile(outside, nil, 0o644))
			f := writeTemp(t, dir, "sessions/month=2024-03/part-00000002.parquet", []dataset.SessionRow{session("A", 1, 2)})
			next := &dataset.Catalog{Version: 2, Files: []dataset.DataFile{f}, Sources: map[string]*dataset.Checkpoint{},
				KeyVersion: 2, Obsolete: []string{first.Files[0].Path, "keep.parquet", "sessions/../keep.parquet", f.Path}}
			if crash { // the commit record, then death: the next writer completes it
				raw, err := json.Marshal(next)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, ".catalog-next.json"), raw, 0o644))
				cat, err := dataset.LoadCatalog(dir)
				require.NoError(t, err)
				require.NoError(t, dataset.Recover(dir, cat), "the replaced file is no unknown file")
				require.Equal(t, int64(2), cat.Version)
			} else {
				require.NoError(t, dataset.Commit(dir, next, []dataset.DataFile{f}))
			}
			require.NoFileExists(t, filepath.Join(dir, filepath.FromSlash(first.Files[0].Path)))
			require.FileExists(t, filepath.Join(dir, filepath.FromSlash(f.Path)), "a listed file is never removed")
			require.FileExists(t, outside, "nothing outside sessions/ and rejects/")
			cat, err := dataset.LoadCatalog(dir)
			require.NoError(t, err)
			require.NoError(t, dataset.Recover(dir, cat))
			unknown, err := dataset.UnknownFiles(dir, cat)
			require.NoError(t, err)
			require.Empty(t, unknown)
		})
	}
}

// The fields a catalog gained for issue 10 (the key version, the replaced
// files, per-server lenient readings, the tail window) survive the headers
// table's form.
func TestCatalogKeepsQualityAndTailWindows(t *testing.T) {
	cat := &dataset.Catalog{Version: 3, KeyVersion: 2, Obsolete: []string{"sessions/month=2024-03/part-00000001.parquet"},
		Sources: map[string]*dataset.Checkpoint{"/logs/a.log": {Server: "A", Header: "H", TailHash: 42, TailLen: 4096, Offset: 9000}},
		Quality: map[string]*dataset.ServerQuality{"A": {
			Lenient:          map[string]int64{"offsetless_times": 4, "unknown_columns": 1},
			OffsetlessByZone: map[string]int64{"America/New_York": 4},
			UnknownColumns:   []string{"Extra"},
		}}}
	raw, err := json.Marshal(cat)
	require.NoError(t, err)
	var back dataset.Catalog
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, cat, &back)
}
