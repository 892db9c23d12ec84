package dataset_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
)

// The crash tests run this test binary as the writer they kill.
func TestMain(m *testing.M) {
	if dir := os.Getenv("QVMETER_CATALOG_WRITER"); dir != "" {
		for {
			if err := commitNext(dir); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	if dir := os.Getenv("QVMETER_STATE_WRITER"); dir != "" {
		for n := 1; ; n++ {
			if err := replace(dir, n); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// replace writes state number n: two tables that both hold n, and a
// state.json whose sessions count is n, so a reader can tell a mix.
func replace(dir string, n int) error {
	return dataset.ReplaceState(dir, func(tmp string) error {
		for _, table := range []string{"a.parquet", "b.parquet"} {
			if err := os.WriteFile(filepath.Join(tmp, table), []byte(strconv.Itoa(n)), 0o644); err != nil {
				return err
			}
		}
		info, err := json.Marshal(dataset.StateInfo{Sessions: int64(n), AsOf: time.UnixMilli(int64(n)).UTC()})
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, dataset.StateInfoFile), info, 0o644)
	})
}

// readWhole opens the state and checks that it is one whole computation.
func readWhole(t *testing.T, dir string) *dataset.State {
	t.Helper()
	st, err := dataset.OpenState(dir)
	require.NoError(t, err)
	for _, table := range []string{"a.parquet", "b.parquet"} {
		got, err := os.ReadFile(filepath.Join(st.Dir, table))
		require.NoError(t, err)
		require.Equal(t, strconv.FormatInt(st.Info.Sessions, 10), string(got), "%s of state %d", table, st.Info.Sessions)
	}
	return st
}

func stateFolders(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, ".states"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// The state is replaced in one step: DIR/state names the new folder; the
// previous folder is kept for readers that resolved it just before, a
// folder a reader has pinned is kept until it lets go, and older ones go.
func TestReplaceStateKeepsPinnedAndPrevious(t *testing.T) {
	dir := t.TempDir()
	_, err := dataset.OpenState(dir)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, replace(dir, 1))
	pinned := readWhole(t, dir)
	for n := 2; n <= 5; n++ {
		require.NoError(t, replace(dir, n))
		st := readWhole(t, dir)
		require.EqualValues(t, n, st.Info.Sessions)
		require.NoError(t, st.Close())
	}
	require.DirExists(t, pinned.Dir, "pinned by a reader")
	require.Len(t, stateFolders(t, dir), 3, "current, previous and the pinned one")
	got, err := os.ReadFile(filepath.Join(pinned.Dir, "a.parquet"))
	require.NoError(t, err)
	require.Equal(t, "1", string(got), "a reader keeps reading the state it started with")
	require.NoError(t, pinned.Close())
	require.NoError(t, replace(dir, 6))
	require.NoDirExists(t, pinned.Dir, "let go: removed by the next writer")
	require.Len(t, stateFolders(t, dir), 2)

	if runtime.GOOS != "windows" { // there DIR/state is a pointer file
		// Other tools read DIR/state/*.parquet through the link.
		got, err = os.ReadFile(filepath.Join(dir, dataset.StateDir, "b.parquet"))
		require.NoError(t, err)
		require.Equal(t, "6", string(got))
	}
}

// A data folder of the older layout (DIR/state a plain folder, leftovers
// of the two-rename replacement beside it) is read as it is and moved to
// the new layout, leftovers removed, by the next writer.
func TestOlderStateLayoutIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, dataset.StateDir)
	require.NoError(t, os.MkdirAll(old, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(old, dataset.StateInfoFile), []byte(`{"mode":"simulate","as_of":"2024-03-10T00:00:00Z","sessions":7}`), 0o644))
	for _, leftover := range []string{".state-new-0a1b2c", ".state-old-0a1b2c"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, leftover), 0o755))
	}
	info, err := dataset.ReadStateInfo(dir)
	require.NoError(t, err)
	require.Equal(t, dataset.Simulate, info.Mode)
	require.Equal(t, time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), info.AsOf)

	require.NoError(t, replace(dir, 8))
	readWhole(t, dir).Close()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".state-"), "leftover %s", e.Name())
	}
	info, err = dataset.ReadStateInfo(dir)
	require.NoError(t, err)
	require.EqualValues(t, 8, info.Sessions)
	st, err := os.Lstat(old)
	require.NoError(t, err)
	require.False(t, st.IsDir(), "DIR/state is a link (or pointer file) now")
}

// An empty or torn state.json is said clearly, as *ErrTornState, for the
// caller to recompute; the next writer replaces it.
func TestTornStateIsReportedThenReplaced(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, replace(dir, 1))
	st := readWhole(t, dir)
	require.NoError(t, st.Close())
	require.NoError(t, os.WriteFile(filepath.Join(st.Dir, dataset.StateInfoFile), nil, 0o644))
	_, err := dataset.OpenState(dir)
	var torn *dataset.ErrTornState
	require.ErrorAs(t, err, &torn)
	require.ErrorContains(t, err, "recomputes it")
	require.NoError(t, replace(dir, 2))
	readWhole(t, dir).Close()
}

// The freshness rule: same dataset, as-of to the millisecond, same licence.
func TestStateFits(t *testing.T) {
	asOf := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	info := dataset.StateInfo{DatasetVersion: "v1", AsOf: asOf, LicenseSHA256: "l1"}
	for name, tc := range map[string]struct {
		want dataset.Want
		fits bool
	}{
		"same everything":                  {dataset.Want{DatasetVersion: "v1", AsOf: asOf, LicenseSHA256: "l1"}, true},
		"any as-of":                        {dataset.Want{DatasetVersion: "v1", LicenseSHA256: "l1"}, true},
		"as-of in another zone, same time": {dataset.Want{DatasetVersion: "v1", AsOf: asOf.In(time.FixedZone("CET", 3600)), LicenseSHA256: "l1"}, true},
		"a millisecond later":              {dataset.Want{DatasetVersion: "v1", AsOf: asOf.Add(time.Millisecond), LicenseSHA256: "l1"}, false},
		"under a millisecond later":        {dataset.Want{DatasetVersion: "v1", AsOf: asOf.Add(time.Microsecond), LicenseSHA256: "l1"}, true},
		"dataset grew":                     {dataset.Want{DatasetVersion: "v2", AsOf: asOf, LicenseSHA256: "l1"}, false},
		"licence edited":                   {dataset.Want{DatasetVersion: "v1", AsOf: asOf, LicenseSHA256: "l2"}, false},
		"recorded licence unreadable":      {dataset.Want{DatasetVersion: "v1", AsOf: asOf, AnyLicense: true}, true},
	} {
		t.Run(name, func(t *testing.T) { require.Equal(t, tc.fits, info.Fits(tc.want)) })
	}
}

// Killed with SIGKILL at random moments while it replaces the state over
// and over, a writer leaves a data folder whose state is always one whole
// computation (never none once there was one), and the next writer clears
// what the killed ones left.
func TestStateReplacementSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a writer dozens of times")
	}
	dir := t.TempDir()
	require.NoError(t, replace(dir, 0))
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 40 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "QVMETER_STATE_WRITER="+dir)
		require.NoError(t, cmd.Start())
		deadline := time.Now().Add(time.Duration(rng.Int64N(int64(30 * time.Millisecond))))
		for time.Now().Before(deadline) { // read while it writes
			readWhole(t, dir).Close()
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		err := cmd.Wait()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "round %d: the writer was killed, not failed: %v", round, err)
		readWhole(t, dir).Close()
	}
	require.NoError(t, replace(dir, 1000))
	readWhole(t, dir).Close()
	require.LessOrEqual(t, len(stateFolders(t, dir)), 2, "the next writer clears what killed writers left")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".state-"), "leftover %s", e.Name())
	}
}

// Where the platform makes no symbolic links (Windows without the
// privilege), DIR/state is a pointer file naming the folder; readers
// follow it, and a writer replaces it in one rename as it does the link.
func TestStatePointerFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, replace(dir, 1))
	st := readWhole(t, dir)
	require.NoError(t, st.Close())
	target, err := filepath.Rel(dir, st.Dir)
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, dataset.StateDir)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, dataset.StateDir), []byte(filepath.ToSlash(target)+"\n"), 0o644))
	st = readWhole(t, dir)
	require.EqualValues(t, 1, st.Info.Sessions)
	require.NoError(t, st.Close())
	require.NoError(t, replace(dir, 2))
	st = readWhole(t, dir)
	require.EqualValues(t, 2, st.Info.Sessions)
	require.NoError(t, st.Close())

	require.NoError(t, os.Remove(filepath.Join(dir, dataset.StateDir)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, dataset.StateDir), []byte("../../etc\n"), 0o644))
	_, err = dataset.OpenState(dir)
	var torn *dataset.ErrTornState
	require.ErrorAs(t, err, &torn, "a pointer outside .states is torn, never followed")
}
