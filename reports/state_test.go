package reports

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// smallEstate ingests one log of two sessions and returns the data folder,
// the logs folder and a licence file.
func smallEstate(t *testing.T) (data, logs, license string) {
	dir := t.TempDir()
	data, logs, license = filepath.Join(dir, "data"), filepath.Join(dir, "logs"), filepath.Join(dir, "license.toml")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	start := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	writeLog(t, filepath.Join(logs, "Sessions_QVS-A_2024-03-04.log"),
		sessionLine(1, `CORP\alice`, `C:\Docs\Sales.qvw`, "Named User", start, 30),
		sessionLine(2, `CORP\bob`, `C:\Docs\Sales.qvw`, "Named User", start.Add(time.Hour), 30))
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 2\nnamed_dynamic = true\n"), 0o644))
	_, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{logs}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	return data, logs, license
}

func writeLog(t *testing.T, path string, lines ...string) {
	text := strings.Join(append([]string{strings.Join(logHeader, "\t")}, lines...), "\r\n") + "\r\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

func TestEnsureStateRecomputesOnlyWhenStale(t *testing.T) {
	ctx := context.Background()
	march10 := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		// change is done between a first EnsureState (as of March 10, with
		// the licence) and the one checked, which gets opts.
		change     func(t *testing.T, data, logs, license string)
		opts       func(license string) StateOptions
		recomputed bool
		asOf       string
		mode       string
	}{
		"fresh": {opts: func(l string) StateOptions { return StateOptions{AsOf: march10, License: l} }},
		"fresh without as-of or licence keeps the state's": {opts: func(string) StateOptions { return StateOptions{} }},
		"another as-of": {opts: func(string) StateOptions { return StateOptions{AsOf: march10.AddDate(0, 0, 1)} },
			recomputed: true, asOf: "2024-03-11T00:00:00Z"},
		"another millisecond is another as-of": {opts: func(string) StateOptions { return StateOptions{AsOf: march10.Add(300 * time.Millisecond)} },
			recomputed: true, asOf: "2024-03-10T00:00:00.3Z"},
		"below a millisecond is the same as-of": {opts: func(string) StateOptions { return StateOptions{AsOf: march10.Add(300 * time.Microsecond)} }},
		"missing state": {change: func(t *testing.T, data, _, _ string) {
			require.NoError(t, os.RemoveAll(filepath.Join(data, dataset.StateDir)))
		}, opts: func(string) StateOptions { return StateOptions{AsOf: march10} }, recomputed: true},
		"licence edited": {change: func(t *testing.T, _, _, license string) {
			require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 1\nnamed_dynamic = true\n"), 0o644))
		}, opts: func(string) StateOptions { return StateOptions{AsOf: march10} }, recomputed: true},
		"no as-of and stale: now": {change: func(t *testing.T, data, _, _ string) {
			require.NoError(t, os.RemoveAll(filepath.Join(data, dataset.StateDir)))
		}, opts: func(l string) StateOptions {
			return StateOptions{License: l, Now: func() time.Time { return time.Date(2024, 3, 20, 8, 0, 0, 5, time.UTC) }}
		}, recomputed: true, asOf: "2024-03-20T08:00:00Z"},
		"torn state.json": {change: func(t *testing.T, data, _, _ string) {
			require.NoError(t, os.WriteFile(filepath.Join(data, dataset.StateDir, dataset.StateInfoFile), nil, 0o644))
		}, opts: func(string) StateOptions { return StateOptions{AsOf: march10} }, recomputed: true},
		"dataset grew": {change: func(t *testing.T, data, logs, _ string) {
			writeLog(t, filepath.Join(logs, "Sessions_QVS-A_2024-03-05.log"),
				sessionLine(3, `CORP\carol`, `C:\Docs\Sales.qvw`, "Named User", time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC), 30))
			_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{logs}})
			require.NoError(t, err)
		}, opts: func(string) StateOptions { return StateOptions{AsOf: march10} }, recomputed: true},
		"simulate mode is kept": {change: func(t *testing.T, data, _, license string) {
			require.NoError(t, meterSimulate(ctx, data, license, march10))
		}, opts: func(string) StateOptions { return StateOptions{AsOf: march10.AddDate(0, 0, 1)} },
			recomputed: true, asOf: "2024-03-11T00:00:00Z", mode: "simulate"},
		"recorded licence gone but state fresh": {change: func(t *testing.T, _, _, license string) {
			require.NoError(t, os.Remove(license))
		}, opts: func(string) StateOptions { return StateOptions{AsOf: march10} }},
	} {
		t.Run(name, func(t *testing.T) {
			data, logs, license := smallEstate(t)
			first, recomputed, err := EnsureState(ctx, data, StateOptions{AsOf: march10, License: license, Store: true})
			require.NoError(t, err)
			require.True(t, recomputed, "no state yet")
			require.NoError(t, first.Close())
			if tc.change != nil {
				tc.change(t, data, logs, license)
			}
			before, _ := dataset.ReadStateInfo(data)

			// A report computes a state that does not fit privately and
			// leaves the stored one alone.
			opts := tc.opts(license)
			private, recomputed, err := EnsureState(ctx, data, opts)
			require.NoError(t, err)
			require.Equal(t, tc.recomputed, recomputed)
			require.Equal(t, !recomputed, strings.HasPrefix(private.Dir, data), "a recomputed state is the report's own, outside the data folder")
			require.Equal(t, cmp.Or(tc.asOf, "2024-03-10T00:00:00Z"), private.Info.AsOf.Format(dataset.AsOfLayout))
			require.Equal(t, cmp.Or(tc.mode, "reconstruct"), private.Info.Mode.String())
			require.NoError(t, private.Close())
			if recomputed {
				require.NoDirExists(t, private.Dir, "a private state is removed when closed")
			}
			after, _ := dataset.ReadStateInfo(data)
			require.Equal(t, before, after, "the stored state is left alone")

			// meter and run store it.
			opts.Store = true
			stored, recomputed, err := EnsureState(ctx, data, opts)
			require.NoError(t, err)
			defer stored.Close()
			require.Equal(t, tc.recomputed, recomputed)
			require.True(t, strings.HasPrefix(stored.Dir, data), "a stored state lives in the data folder")
			onDisk, err := dataset.ReadStateInfo(data)
			require.NoError(t, err)
			require.Equal(t, stored.Info, *onDisk)
		})
	}
}

func TestEnsureStateErrors(t *testing.T) {
	ctx := context.Background()
	data, _, license := smallEstate(t)
	_, _, err := EnsureState(ctx, data, StateOptions{License: filepath.Join(t.TempDir(), "missing.toml")})
	require.ErrorContains(t, err, "missing.toml")

	st, _, err := EnsureState(ctx, data, StateOptions{AsOf: fixedNow, License: license, Store: true})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.NoError(t, os.Remove(license))
	_, _, err = EnsureState(ctx, data, StateOptions{AsOf: fixedNow.Add(time.Hour)})
	require.ErrorContains(t, err, "recomputing the state with the licence it recorded")

	_, err = dataset.OpenState(t.TempDir())
	require.ErrorContains(t, err, "no licence state")
}

// ensureStored brings the data folder's stored state up to date as qvmeter
// meter does, and says whether it recomputed it.
func ensureStored(ctx context.Context, data string, opts StateOptions) (bool, error) {
	opts.Store = true
	st, recomputed, err := EnsureState(ctx, data, opts)
	if err != nil {
		return false, err
	}
	return recomputed, st.Close()
}

// openStored opens a DB over the data folder's stored state, closed with the test.
func openStored(tb testing.TB, ctx context.Context, data string) (*DB, error) {
	st, err := dataset.OpenState(data)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { st.Close() })
	return Open(ctx, data, st)
}

// Issue 11 "One as-of": a state metered as of 12:00:00.500 keeps its
// milliseconds in state.json and in every query, so summary and idle-cals
// agree about a session that ended at 12:00:00.300 (and both leave it out
// as of 12:00:00.200).
func TestOneAsOfAtTheSamePrecisionEverywhere(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data, logs := filepath.Join(dir, "data"), filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	start := time.Date(2024, 3, 4, 11, 30, 0, 300*int(time.Millisecond), time.UTC)
	writeLog(t, filepath.Join(logs, "Sessions_QVS-A_2024-03-04.log"), sessionLine(1, `CORP\alice`, `C:\Docs\Sales.qvw`, "Named User", start, 30))
	_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{logs}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	for _, tc := range []struct {
		asOf     time.Time
		sessions int64
	}{
		{time.Date(2024, 3, 4, 12, 0, 0, 500*int(time.Millisecond), time.UTC), 1},
		{time.Date(2024, 3, 4, 12, 0, 0, 200*int(time.Millisecond), time.UTC), 0},
	} {
		st, _, err := EnsureState(ctx, data, StateOptions{AsOf: tc.asOf, Store: true})
		require.NoError(t, err)
		info := st.Info
		require.Equal(t, tc.asOf, info.AsOf)
		db, err := Open(ctx, data, st)
		require.NoError(t, err)
		sum, err := db.Run(ctx, "summary", DefaultParams())
		require.NoError(t, err)
		holders, err := db.Run(ctx, "idle-cals", Params{All: true})
		require.NoError(t, err)
		require.NoError(t, db.Close())
		require.NoError(t, st.Close())
		s := records(sum)[0]
		require.Equal(t, tc.sessions, s.int("sessions"), "as of %s", info.AsOf)
		require.Equal(t, tc.sessions, s.int("named_holders"), "as of %s", info.AsOf)
		require.Len(t, holders.Rows, int(tc.sessions), "as of %s", info.AsOf)
		require.Equal(t, tc.asOf, s.time("as_of"))
	}
}
