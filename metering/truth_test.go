package metering_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/fixtures"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

// generateEstate simulates a small estate across the CAL → SLK conversion
// (every CAL type, denials, DST changes, a month end) with the planted mess.
func generateEstate(t *testing.T) (string, *fixtures.Truth, *metering.License) {
	t.Helper()
	dir := t.TempDir()
	truth, err := fixtures.Generate(context.Background(), fixtures.Options{Out: dir, Users: 150, Documents: 20, Days: 50,
		Start: time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC), Seed: 11, Era: fixtures.EraConvert, Mess: true})
	require.NoError(t, err)
	lic, _, err := metering.LoadLicense(filepath.Join(dir, "license.toml"))
	require.NoError(t, err, "the generator's license.toml loads")
	for _, calType := range []string{"Named User", "Document", "Session", "Usage", "Professional", "Analyzer", "Analyzer Capacity"} {
		require.Positive(t, truth.SessionsByCALType[calType], "the estate has %s sessions", calType)
	}
	require.NotEmpty(t, truth.Denials, "the estate has denials")
	return dir, truth, lic
}

// replayLogs decodes every session log in dir with the parser and replays
// the records.
func replayLogs(t *testing.T, dir string, cfg metering.Config) *metering.State {
	t.Helper()
	e, err := metering.NewEngine(cfg)
	require.NoError(t, err)
	names, err := filepath.Glob(filepath.Join(dir, "Sessions_*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	var sessions []metering.Session
	for _, name := range names {
		f, err := os.Open(name)
		require.NoError(t, err)
		d := parse.NewDecoder(f, parse.Config{File: filepath.Base(name), Server: ingest.ServerFromName(filepath.Base(name))})
		for d.Next() {
			sessions, err = e.AppendRecord(d.Record(), sessions)
			require.NoError(t, err)
		}
		require.NoError(t, d.Err())
		require.NoError(t, f.Close())
	}
	return e.ReplaySessions(sessions)
}

var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// Done when: reconstruct mode on the generated estate matches truth.json
// exactly — holders' first and last use, monthly capacity minutes, daily
// session-CAL peaks — from the parser's records and from the dataset
// ingest writes.
func TestReconstructMatchesGeneratorTruth(t *testing.T) {
	dir, truth, lic := generateEstate(t)
	cfg := metering.Config{AsOf: farFuture, License: lic}
	t.Run("parser records", func(t *testing.T) {
		requireTruth(t, truth, replayLogs(t, dir, cfg))
	})
	t.Run("ingested dataset", func(t *testing.T) {
		data := t.TempDir()
		_, err := ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{dir}, Workers: 1,
			Now: func() time.Time { return farFuture }})
		require.NoError(t, err)
		ds, err := dataset.ListFiles(data)
		require.NoError(t, err)
		st, err := metering.Replay(context.Background(), ds, cfg)
		require.NoError(t, err)
		requireTruth(t, truth, st)
	})
}

func requireTruth(t *testing.T, truth *fixtures.Truth, st *metering.State) {
	require.EqualValues(t, truth.Sessions, st.Info.Sessions)

	type holderKey struct{ calType, user, document string }
	type use struct {
		first, last time.Time
		sessions    int64
	}
	want := map[holderKey]use{}
	for _, h := range truth.Holders {
		want[holderKey{h.CALType, h.UserKey, h.DocumentKey}] = use{h.FirstUse.UTC(), h.LastUse.UTC(), h.Sessions}
	}
	got := map[holderKey]use{}
	for _, h := range st.Holders {
		got[holderKey{h.CALType, h.UserKey, h.DocumentKey}] = use{time.UnixMilli(h.FirstUsed).UTC(), time.UnixMilli(h.LastUsed).UTC(), h.Sessions}
	}
	require.Equal(t, want, got, "holders")

	type userMonth struct{ month, user string }
	wantMinutes, gotMinutes := map[userMonth]int64{}, map[userMonth]int64{}
	wantMonths, gotMonths := map[string][2]int64{}, map[string][2]int64{}
	for _, m := range truth.Capacity {
		wantMonths[m.Month] = [2]int64{m.Minutes, m.Sessions}
		for _, u := range m.Users {
			wantMinutes[userMonth{m.Month, u.UserKey}] = u.Minutes
		}
	}
	for _, m := range st.Months {
		gotMonths[m.Month] = [2]int64{m.Minutes, m.Sessions}
	}
	for _, c := range st.Capacity {
		gotMinutes[userMonth{c.Month, c.UserKey}] += c.Minutes
	}
	require.Equal(t, wantMonths, gotMonths, "capacity minutes and sessions per month")
	require.Equal(t, wantMinutes, gotMinutes, "capacity minutes per month and user")

	type peak struct {
		peak int64
		at   time.Time
	}
	wantPeaks, gotPeaks := map[string]peak{}, map[string]peak{}
	for _, p := range truth.SessionCALPeaks {
		wantPeaks[p.Date] = peak{int64(p.Peak), p.At.UTC()}
	}
	for _, c := range st.Concurrency {
		gotPeaks[c.Day] = peak{c.Peak, time.UnixMilli(c.PeakAt).UTC()}
	}
	require.NotEmpty(t, wantPeaks)
	require.Equal(t, wantPeaks, gotPeaks, "session-CAL peaks per day")
}

// Done when: simulate mode with the generator's licence reproduces the CAL
// types the generator wrote.
func TestSimulateReproducesGeneratorCALTypes(t *testing.T) {
	dir, truth, lic := generateEstate(t)
	st := replayLogs(t, dir, metering.Config{Mode: metering.Simulate, AsOf: farFuture, License: lic})
	require.EqualValues(t, truth.Sessions, st.Info.Sessions)
	var denied []string
	for _, d := range st.Denials {
		denied = append(denied, d.UserKey+" "+time.UnixMilli(d.At).UTC().Format(time.RFC3339)+" "+d.Reason+" logged "+d.LoggedCALType)
	}
	require.Empty(t, denied, "every logged session was granted by the generator's licence")
	require.Zero(t, st.Info.SimulatedOtherThanLogged, "sessions given another CAL type than logged")
	require.EqualValues(t, truth.Sessions, st.Info.SimulatedSameAsLogged)
	require.False(t, strings.Contains(st.Info.Mode.String(), "reconstruct"))
}
