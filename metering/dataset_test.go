package metering

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

// writeDataset writes rows as the ingest dataset does: one file per UTC
// month of session_end, rowsPerGroup rows per row group.
func writeDataset(t testing.TB, dir string, rows []dataset.SessionRow, rowsPerGroup int) {
	byMonth := map[string][]dataset.SessionRow{}
	for _, r := range rows {
		m := time.UnixMilli(r.SessionEnd).UTC().Format("2006-01")
		byMonth[m] = append(byMonth[m], r)
	}
	for m, rows := range byMonth {
		folder := filepath.Join(dir, dataset.SessionsDir, "month="+m)
		require.NoError(t, os.MkdirAll(folder, 0o755))
		f, err := os.Create(filepath.Join(folder, "part-0.parquet"))
		require.NoError(t, err)
		w := parquet.NewGenericWriter[dataset.SessionRow](f, parquet.MaxRowsPerRowGroup(int64(rowsPerGroup)))
		for start := 0; start < len(rows); start += rowsPerGroup {
			_, err = w.Write(rows[start:min(len(rows), start+rowsPerGroup)])
			require.NoError(t, err)
			require.NoError(t, w.Flush())
		}
		require.NoError(t, w.Close())
		require.NoError(t, f.Close())
	}
}

// randomRows makes n sessions of every CAL class over a few months, some
// with nulls, in random order.
func randomRows(n int, seed uint64) []dataset.SessionRow {
	rng := rand.New(rand.NewPCG(seed, 1))
	calTexts := []string{"Named User", "Document", "Session", "Usage", "Professional", "Analyzer", "Analyzer Capacity", "", "Weird"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	rows := make([]dataset.SessionRow, n)
	for i := range rows {
		user := fmt.Sprintf("CORP\\user%d", rng.IntN(50))
		doc := fmt.Sprintf(`C:\Docs\doc%d.qvw`, rng.IntN(8))
		machine, ctype := fmt.Sprintf("m%d", rng.IntN(60)), "Ajax"
		exe := []string{"12.50.20200.0", "11.20.12904.0409.10"}[rng.IntN(2)]
		calText := calTexts[rng.IntN(len(calTexts))]
		start := base + rng.Int64N(90*dayMS)
		dur := rng.Int64N(3 * hourMS)
		r := dataset.SessionRow{SessionStart: start, SessionEnd: start + dur, DurationMS: dur,
			UserKey: parse.UserKey(user, "", ""), DocumentKey: parse.DocumentKey(doc), Document: &doc, Server: []string{"A", "B"}[rng.IntN(2)],
			ClientMachineID: &machine, ClientType: &ctype, ExeVersion: &exe, CALType: &calText,
			CALClass: parse.ClassifyCAL([]byte(calText)).String(), SourceFile: "f.log", SourceLine: int64(i + 2)}
		if rng.IntN(4) > 0 {
			r.AuthenticatedUser = &user
		}
		switch i % 21 { // lines without a Client Machine Identification (see ClientKey)
		case 0:
			r.ClientMachineID = nil
		case 7, 14:
			empty, address := "", fmt.Sprintf("10.0.0.%d", i%3)
			r.ClientMachineID, r.ClientAddress = &empty, &address
		}
		if rng.IntN(5) > 0 {
			c := int64(6 * (1 + rng.IntN(5)))
			r.CALUsageCount = &c
		}
		rows[i] = r
	}
	return rows
}

func TestDatasetReplayEqualsRowReplay(t *testing.T) {
	rows := randomRows(5000, 7)
	dir := t.TempDir()
	writeDataset(t, dir, rows, 700)
	lic, err := ParseLicense("l.toml", []byte("[cal]\nnamed = 10\nnamed_dynamic = true\nsession = 5\nusage = 20\n[slk]\nprofessional = 3\ncapacity_minutes = 600\n"))
	require.NoError(t, err)
	for _, mode := range []Mode{Reconstruct, Simulate} {
		cfg := Config{Mode: mode, AsOf: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), License: lic}
		want, err := ReplayRows(cfg, rows)
		require.NoError(t, err)
		require.True(t, slices.ContainsFunc(want.Anomalies, func(a AnomalyRow) bool { return a.Kind == AnomalyClientWithoutID }), "the rows have lines without a client id")
		ds, err := dataset.ListFiles(dir)
		require.NoError(t, err)
		require.Len(t, ds.Months, 3)
		got, err := Replay(context.Background(), ds, cfg)
		require.NoError(t, err)
		require.NotEmpty(t, got.Info.DatasetVersion)
		got.Info.DatasetVersion = ""
		require.Equal(t, want, got, mode.String())
	}
}

func TestDatasetReplayReportsTheFileAtFault(t *testing.T) {
	dir := t.TempDir()
	writeDataset(t, dir, randomRows(100, 3), 50)
	bad := filepath.Join(dir, dataset.SessionsDir, "month=2024-02", "part-1.parquet")
	require.NoError(t, os.WriteFile(bad, []byte("not parquet"), 0o644))
	ds, err := dataset.ListFiles(dir)
	require.NoError(t, err)
	_, err = Replay(context.Background(), ds, Config{AsOf: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, bad)
}

// Compute leaves the capacity table as the ledger's compact rows, which
// WriteTables writes block by block: the file holds the rows Replay
// returns, in both modes, and the count says how many.
func TestComputedCapacityTableIsWrittenAsReplayed(t *testing.T) {
	rows := randomRows(20000, 11)
	dir := t.TempDir()
	writeDataset(t, dir, rows, 700)
	lic, err := ParseLicense("l.toml", []byte("[[group]]\nname = \"b\"\nservers = [\"B\"]\n[group.slk]\ncapacity_minutes = 600\n[slk]\ncapacity_minutes = 600\n"))
	require.NoError(t, err)
	ds, err := dataset.ListFiles(dir)
	require.NoError(t, err)
	for _, mode := range []Mode{Reconstruct, Simulate} {
		cfg := Config{Mode: mode, AsOf: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), License: lic}
		want, err := Replay(context.Background(), ds, cfg)
		require.NoError(t, err)
		require.NotEmpty(t, want.Capacity)
		got, err := Compute(context.Background(), ds, cfg, Provenance{})
		require.NoError(t, err)
		require.Empty(t, got.Capacity)
		require.Equal(t, len(want.Capacity), got.CapacityRows())
		out := t.TempDir()
		require.NoError(t, got.WriteTables(out))
		written, err := parquet.ReadFile[CapacityRow](filepath.Join(out, CapacityTable))
		require.NoError(t, err)
		require.Equal(t, want.Capacity, written, mode.String())
		require.Equal(t, want.Months, got.Months, mode.String())
	}
}
