package dataset_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
)

// chainLog is the log whose checkpoint commit n adds: in a folder that does
// not exist (an unmounted share), so that no commit drops it.
func chainLog(n int64) string {
	return filepath.Join(string(filepath.Separator), "qvmeter-unmounted", fmt.Sprintf("Sessions_QVS_%06d.log", n))
}

// commitNext is one commit of a writer whose every version n adds one data
// file and the checkpoint of chainLog(n), and every seventh replaces the
// oldest data file (Obsolete): version n lists n - n/7 files and n
// checkpoints, besides the filler checkpoints version 1 adds to make the
// base large enough for deltas; a reader checks it all (wholeChain).
func commitNext(dir string) error {
	cat, err := dataset.LoadCatalog(dir)
	if err != nil {
		return err
	}
	if err := dataset.Recover(dir, cat); err != nil {
		return err
	}
	n := cat.Version + 1
	rel := fmt.Sprintf("sessions/month=2024-03/part-%08d.parquet", n)
	final := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := parquet.WriteFile(dataset.TempName(final), []dataset.SessionRow{session("A", float64(n), float64(n)+1)}); err != nil {
		return err
	}
	f := dataset.DataFile{Path: rel, Kind: dataset.KindSessions, Month: "2024-03", Rows: 1}
	next := &dataset.Catalog{Version: n, Files: append(cat.Files, f), Sources: cat.Sources, Servers: cat.Servers, KeyVersion: 2}
	next.Sources[chainLog(n)] = &dataset.Checkpoint{Server: "A", Offset: n, Line: n, Header: "H"}
	if n == 1 {
		for i := range filler {
			next.Sources[chainLog(-1-int64(i))] = &dataset.Checkpoint{Server: "A", Header: "H"}
		}
	}
	if n%7 == 0 {
		next.Obsolete = []string{next.Files[0].Path}
		next.Files = next.Files[1:]
	}
	return dataset.Commit(dir, next, []dataset.DataFile{f})
}

const filler = 300

// wholeChain checks that the catalog read is one whole version of
// commitNext's writer.
func wholeChain(t *testing.T, dir string) *dataset.Catalog {
	t.Helper()
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	n := cat.Version
	require.Len(t, cat.Files, int(n-n/7), "version %d", n)
	require.Len(t, cat.Sources, int(n)+filler*int(min(n, 1)), "version %d", n)
	for i := int64(1); i <= n; i++ {
		require.Equal(t, i, cat.Sources[chainLog(i)].Offset, "version %d", n)
	}
	return cat
}

// A commit that changes a few checkpoints of thousands writes a delta of
// those few: catalog.json is left as it was, and the catalog read (base and
// delta) is the one committed.
func TestCommitWritesOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	sources := map[string]*dataset.Checkpoint{}
	for i := range 3000 {
		sources[chainLog(int64(i))] = &dataset.Checkpoint{Server: "A", Size: int64(i), ModTime: day0, Offset: int64(i), Header: "H"}
	}
	commitRows(t, dir, sources, session("A", 1, 2))
	base, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
	require.NoError(t, err)

	changed := map[string]*dataset.Checkpoint{}
	for path, cp := range sources {
		changed[path] = cp
	}
	delete(changed, chainLog(1))                                                     // deleted
	changed[chainLog(2)] = &dataset.Checkpoint{Server: "A", Offset: 9, Header: "H2"} // grown
	changed[chainLog(5000)] = &dataset.Checkpoint{Server: "B", Header: "H"}          // new
	next := commitRows(t, dir, changed, session("B", 3, 4))

	after, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
	require.NoError(t, err)
	require.Equal(t, base, after, "catalog.json is not rewritten")
	delta, err := os.ReadFile(filepath.Join(dir, "catalog.d", "2.json"))
	require.NoError(t, err)
	require.Less(t, len(delta), 1500, "the delta holds the change, not the %d checkpoints", len(changed))
	require.Less(t, len(delta)*50, len(base))
	for _, s := range []string{chainLog(1), chainLog(2), chainLog(5000), `"B"`} {
		require.Contains(t, string(delta), strings.ReplaceAll(s, `\`, `\\`))
	}

	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.Equal(t, next.Version, cat.Version)
	require.Equal(t, changed, cat.Sources)
	require.Equal(t, next.Files, cat.Files)
	require.Equal(t, next.Servers, cat.Servers)
	files, err := dataset.ListFiles(dir)
	require.NoError(t, err)
	require.Len(t, files.SessionFiles(), 2)
}

// When the deltas have grown past a quarter of the base, the next commit
// writes a new base and removes them.
func TestDeltasAreConsolidated(t *testing.T) {
	dir := t.TempDir()
	sources := map[string]*dataset.Checkpoint{}
	for i := range 3000 {
		sources[chainLog(int64(i))] = &dataset.Checkpoint{Server: "A", Offset: int64(i), Header: "H"}
	}
	commitRows(t, dir, sources, session("A", 1, 2))
	for n := int64(2); ; n++ {
		require.Less(t, n, int64(10), "consolidated within a few commits of 200 changes each")
		for i := range 200 {
			sources[chainLog(n*200+int64(i))] = &dataset.Checkpoint{Server: "A", Offset: n, Header: "H"}
		}
		commitRows(t, dir, sources, session("A", float64(n), float64(n)+1))
		base, err := dataset.LoadCatalog(dir)
		require.NoError(t, err)
		require.Equal(t, sources, base.Sources)
		require.Len(t, base.Files, int(n))
		if _, err := os.Stat(filepath.Join(dir, "catalog.d")); err != nil {
			require.Greater(t, n, int64(3), "deltas first")
			raw, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(raw), fmt.Sprintf(`{"version":%d,`, n)), "a new base, and no delta left")
			break
		}
	}
}

// A commit that removes data files (Obsolete) writes a base, so that
// catalog.json alone never names a removed file.
func TestCommitRemovingFilesWritesABase(t *testing.T) {
	dir := t.TempDir()
	for range 6 {
		require.NoError(t, commitNext(dir))
	}
	wholeChain(t, dir)
	require.DirExists(t, filepath.Join(dir, "catalog.d"), "deltas")
	require.NoError(t, commitNext(dir)) // version 7 replaces a data file
	require.NoDirExists(t, filepath.Join(dir, "catalog.d"), "a base, and no delta left")
	base, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(base), `{"version":7,`))
	require.NoFileExists(t, filepath.Join(dir, "sessions", "month=2024-03", "part-00000001.parquet"))
	require.Equal(t, "sessions/month=2024-03/part-00000002.parquet", wholeChain(t, dir).Files[0].Path)
}

// A catalog.json written before deltas (no catalog.d) is read as a base,
// and the next commit extends it with a delta.
func TestOldCatalogGainsDeltas(t *testing.T) {
	dir := t.TempDir()
	var sources strings.Builder
	for i := range 200 {
		fmt.Fprintf(&sources, `,"/logs/Sessions_A_%d.log":{"server":"A","offset":%d,"header":"H1"}`, i, i)
	}
	older := `{"version":1,"files":[],"sources":{` + sources.String()[1:] + `}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, dataset.CatalogFile), []byte(older), 0o644))
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	want := cat.Sources
	want["/logs/Sessions_B_1.log"] = &dataset.Checkpoint{Server: "B", Header: "H2"}
	commitRows(t, dir, want, session("B", 1, 2))
	require.FileExists(t, filepath.Join(dir, "catalog.d", "2.json"))
	raw, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
	require.NoError(t, err)
	require.Equal(t, older, string(raw))
	cat, err = dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.EqualValues(t, 2, cat.Version)
	require.Len(t, cat.Sources, 201)
	require.Equal(t, "H1", cat.Sources["/logs/Sessions_A_7.log"].Header)
	require.Equal(t, want, cat.Sources)
}

// A delta left from another chain (catalog.json restored from an older
// copy, after which other commits were made) is no part of the catalog:
// it names by hash the file it extends.
func TestDeltaOfAnotherChainIsIgnored(t *testing.T) {
	dir := t.TempDir()
	sources := map[string]*dataset.Checkpoint{chainLog(1): {Server: "A"}}
	for i := range 100 {
		sources[chainLog(int64(i+2))] = &dataset.Checkpoint{Server: "B"}
	}
	commitRows(t, dir, sources, session("A", 1, 2))
	saved, err := os.ReadFile(filepath.Join(dir, dataset.CatalogFile))
	require.NoError(t, err)
	sources[chainLog(1)] = &dataset.Checkpoint{Server: "A", Offset: 5}
	commitRows(t, dir, sources, session("A", 3, 4))
	require.FileExists(t, filepath.Join(dir, "catalog.d", "2.json"))
	// Another base of version 1, then the old delta 2 is not its.
	other := strings.Replace(string(saved), `"server":"A"`, `"server":"Z"`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, dataset.CatalogFile), []byte(other), 0o644))
	cat, err := dataset.LoadCatalog(dir)
	require.NoError(t, err)
	require.EqualValues(t, 1, cat.Version)
	require.Equal(t, "Z", cat.Sources[chainLog(1)].Server)
	err = dataset.Recover(dir, cat)
	var unknown *dataset.ErrUnknownFiles
	require.ErrorAs(t, err, &unknown, "the other chain's data file is refused")
	require.NoFileExists(t, filepath.Join(dir, "catalog.d", "2.json"), "its delta is removed")
}

// Readers during commits (deltas and new bases, data files replaced) see
// whole versions only.
func TestReadersSeeWholeCommits(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, commitNext(dir))
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					wholeChain(t, dir)
				}
			}
		}()
	}
	for range 60 {
		require.NoError(t, commitNext(dir))
	}
	close(done)
	wg.Wait()
	require.EqualValues(t, 61, wholeChain(t, dir).Version)
}

// Killed with SIGKILL at random moments while it commits over and over
// (deltas, new bases, files replaced), until it has made 20 commits in
// all, a writer leaves a catalog that is
// always one whole version, whose files all exist; the next writer
// completes or discards what the killed one left, and leaves no unknown
// file, no commit record and no delta outside the chain.
func TestCommitsSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a writer dozens of times")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var last int64
	for round := 0; last < 20; round++ { // until the writer has committed 20 times between kills
		require.Less(t, round, 300, "the killed writer hardly ever committed")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "QVMETER_CATALOG_WRITER="+dir)
		require.NoError(t, cmd.Start())
		deadline := time.Now().Add(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
		for time.Now().Before(deadline) { // read while it writes
			wholeChain(t, dir)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		err := cmd.Wait()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "round %d: the writer was killed, not failed: %v", round, err)
		cat := wholeChain(t, dir)
		require.GreaterOrEqual(t, cat.Version, last, "round %d: no commit undone", round)
		last = cat.Version
		for _, f := range cat.Files {
			require.FileExists(t, filepath.Join(dir, filepath.FromSlash(f.Path)), "round %d", round)
		}
	}
	require.NoError(t, commitNext(dir))
	cat := wholeChain(t, dir)
	require.NoError(t, dataset.Recover(dir, cat))
	require.NoFileExists(t, filepath.Join(dir, ".catalog-next.json"))
	unknown, err := dataset.UnknownFiles(dir, cat)
	require.NoError(t, err)
	require.Empty(t, unknown)
	deltas, _ := os.ReadDir(filepath.Join(dir, "catalog.d"))
	for _, e := range deltas {
		var v int64
		_, err := fmt.Sscanf(e.Name(), "%d.json", &v)
		require.NoError(t, err, "only deltas in catalog.d: %s", e.Name())
		require.LessOrEqual(t, v, cat.Version)
	}
}

// A commit written as a delta, killed between any two of its steps: before
// its record is in place, readers see the version before, whole; the next
// writer completes it. A new base whose older deltas were not yet removed
// is the catalog, and the next writer removes them.
func TestCrashedDeltaCommitIsCompleted(t *testing.T) {
	for name, undo := range map[string]struct{ record, files, stale bool }{
		"died after the commit record":    {record: true, files: true},
		"died after renaming its files":   {record: true},
		"died before removing old deltas": {stale: true},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for range 3 {
				require.NoError(t, commitNext(dir))
			}
			delta := filepath.Join(dir, "catalog.d", "3.json")
			require.FileExists(t, delta)
			want := wholeChain(t, dir)
			final := filepath.Join(dir, filepath.FromSlash(want.Files[len(want.Files)-1].Path))
			switch {
			case undo.stale:
				saved, err := os.ReadFile(delta)
				require.NoError(t, err)
				for range 4 { // to version 7, a base
					require.NoError(t, commitNext(dir))
				}
				require.NoDirExists(t, filepath.Join(dir, "catalog.d"))
				require.NoError(t, os.MkdirAll(filepath.Dir(delta), 0o755))
				require.NoError(t, os.WriteFile(delta, saved, 0o644))
				want = wholeChain(t, dir)
			default:
				require.NoError(t, os.Rename(delta, filepath.Join(dir, ".catalog-next.json")))
				if undo.files {
					require.NoError(t, os.Rename(final, dataset.TempName(final)))
				}
				before := wholeChain(t, dir)
				require.EqualValues(t, 2, before.Version, "readers see the version before")
				files, err := dataset.ListFiles(dir)
				require.NoError(t, err)
				require.Len(t, files.SessionFiles(), 2)
			}
			cat, err := dataset.LoadCatalog(dir)
			require.NoError(t, err)
			require.NoError(t, dataset.Recover(dir, cat))
			require.Equal(t, want, cat)
			require.Equal(t, want, wholeChain(t, dir))
			require.NoFileExists(t, filepath.Join(dir, ".catalog-next.json"))
			require.FileExists(t, final)
			if undo.stale {
				require.NoFileExists(t, delta, "the old delta is removed")
			}
			require.NoError(t, commitNext(dir))
			wholeChain(t, dir)
		})
	}
}

// catalog.json is read as a stream; what json.Unmarshal accepted before
// still reads: no sources (null), the headers table after the sources, and
// a header_ref outside the table is an error naming the log.
func TestCatalogReadsEveryWrittenForm(t *testing.T) {
	for name, tc := range map[string]struct {
		text, header, err string
	}{
		"sources null":                {text: `{"version":1,"sources":null}`},
		"headers after the sources":   {text: `{"sources":{"/a.log":{"server":"A","header_ref":0}},"headers":["H0"],"version":1}`, header: "H0"},
		"a header of its own (older)": {text: `{"version":1,"sources":{"/a.log":{"server":"A","header":"H1"}}}`, header: "H1"},
		"header_ref outside":          {text: `{"version":1,"headers":["H0"],"sources":{"/a.log":{"server":"A","header_ref":1}}}`, err: `sources["/a.log"]: header_ref 1 outside the 1 headers`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, dataset.CatalogFile), []byte(tc.text), 0o644))
			cat, err := dataset.LoadCatalog(dir)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.EqualValues(t, 1, cat.Version)
			require.NotNil(t, cat.Sources)
			if tc.header != "" {
				require.Equal(t, tc.header, cat.Sources["/a.log"].Header)
			}
		})
	}
}

// BenchmarkLoadCatalog reads the catalog of 50,000 logs (a base and ten
// deltas), as every ingest run and every reader does; bytes are the
// chain's.
func BenchmarkLoadCatalog(b *testing.B) {
	dir := b.TempDir()
	header := strings.Repeat("Exe Type\tExe Version\tServer Started\t", 9)
	sources := map[string]*dataset.Checkpoint{}
	for i := range 50000 {
		sources[filepath.Join(dir, "logs", fmt.Sprintf("Sessions_QVS-NODE_%02d_2024-%02d-%02d.log", i%40, 1+i/1000%12, 1+i%28))+fmt.Sprint(i)] = &dataset.Checkpoint{
			Server: fmt.Sprintf("QVS-NODE_%02d", i%40), Size: int64(i) * 7, ModTime: day0.Add(time.Duration(i) * time.Second),
			HeadHash: uint64(i) * 0x9e3779b97f4a7c15, HeadLen: 4096, TailHash: uint64(i) * 31, TailLen: 4096, Offset: int64(i) * 7, Line: int64(i), Header: header,
		}
	}
	var bytes int64
	for n := range 11 {
		sources[fmt.Sprintf("/new/Sessions_NEW_%d.log", n)] = &dataset.Checkpoint{Server: "NEW", Header: header}
		next := &dataset.Catalog{Version: int64(n + 1), Sources: sources}
		require.NoError(b, dataset.Commit(dir, next, nil))
	}
	require.NoError(b, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".json") {
			info, _ := d.Info()
			bytes += info.Size()
		}
		return err
	}))
	require.FileExists(b, filepath.Join(dir, "catalog.d", "11.json"))
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		cat, err := dataset.LoadCatalog(dir)
		if err != nil || len(cat.Sources) != len(sources) {
			b.Fatal(err, len(cat.Sources))
		}
	}
}
