package reports

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/fixtures"
	"github.com/qvmeter/qvmeter/ingest"
)

// benchLogBytes is the size of the benchmark estate's logs: 1 GiB, about
// 2.5 million sessions.
const benchLogBytes = 1 << 30

// BenchmarkReports runs each report as qvmeter report does — check the
// state is fresh, open DuckDB over the dataset, run, write CSV — over a
// generated estate of benchLogBytes of logs, ingested and metered once and
// kept under $QVMETER_BENCH_DIR for later runs. The target is under 1 s
// per report (ns/op < 1e9).
//
//	make bench   # or: QVMETER_BENCH_DIR=$PWD/.bench go test ./reports -run '^$' -bench BenchmarkReports -benchtime 3x
func BenchmarkReports(b *testing.B) {
	root := os.Getenv("QVMETER_BENCH_DIR")
	if root == "" {
		b.Skip("QVMETER_BENCH_DIR is unset: make bench sets it (the estate is 1 GiB of logs, generated once and kept there)")
	}
	ctx := context.Background()
	dir, asOf := benchEstate(b, filepath.Join(root, "reports-estate-v1"))
	opts := StateOptions{AsOf: asOf}
	db, err := openStored(b, ctx, dir)
	require.NoError(b, err)
	holders, err := db.Run(ctx, "idle-cals", DefaultParams())
	require.NoError(b, err)
	require.NoError(b, db.Close())
	require.NotEmpty(b, holders.Rows)
	user := holders.Rows[len(holders.Rows)/2][1].(string)
	month := asOf.Add(-time.Millisecond).Format("2006-01")
	for _, c := range []struct {
		name, report string
		params       func(*Params)
	}{
		{"idle-cals", "idle-cals", nil},
		{"capacity", "capacity", nil},
		{"capacity-billed", "capacity", func(p *Params) { p.Billed = []Billed{{month, 1000, "default"}} }},
		{"capacity-by-user", "capacity", func(p *Params) { p.By, p.Month = "user", month }},
		{"usage", "usage", nil},
		{"usage-day-document", "usage", func(p *Params) { p.By = "day,document" }},
		{"concurrency", "concurrency", nil},
		{"usage-cals", "usage-cals", nil},
		{"double-cals", "double-cals", nil},
		{"denials", "denials", nil},
		{"rejects", "rejects", nil},
		{"rejects-summary", "rejects", func(p *Params) { p.Summary = true }},
		{"anomalies", "anomalies", nil},
		{"summary", "summary", nil},
		{"explain", "explain", func(p *Params) { p.User = user }},
	} {
		p := DefaultParams()
		if c.params != nil {
			c.params(&p)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				st, recomputed, err := EnsureState(ctx, dir, opts)
				require.NoError(b, err)
				require.False(b, recomputed)
				db, err := Open(ctx, dir, st)
				require.NoError(b, err)
				t, err := db.Run(ctx, c.report, p)
				require.NoError(b, err)
				require.NoError(b, Write(io.Discard, t, FormatCSV))
				require.NoError(b, db.Close())
				require.NoError(b, st.Close())
			}
		})
	}
}

// benchEstate returns the benchmark's data folder and as-of time (the end
// of the simulated period), generating, ingesting and metering the estate
// the first time.
func benchEstate(b *testing.B, root string) (string, time.Time) {
	ctx := context.Background()
	logs, data := filepath.Join(root, "logs"), filepath.Join(root, "data")
	truthPath := filepath.Join(logs, "truth.json")
	if _, err := os.Stat(truthPath); err != nil {
		b.Logf("generating %d MiB of logs in %s (once)", benchLogBytes>>20, logs)
		require.NoError(b, os.RemoveAll(root))
		_, err := fixtures.Generate(ctx, fixtures.Options{Out: logs, Size: benchLogBytes})
		require.NoError(b, err)
	}
	raw, err := os.ReadFile(truthPath)
	require.NoError(b, err)
	var truth struct {
		Start string `json:"start"`
		Days  int    `json:"days"`
	}
	require.NoError(b, json.Unmarshal(raw, &truth))
	start, err := time.Parse(time.DateOnly, truth.Start)
	require.NoError(b, err)
	asOf := start.AddDate(0, 0, truth.Days)
	done := filepath.Join(root, "ingested")
	if _, err := os.Stat(done); err != nil {
		b.Logf("ingesting %s into %s (once)", logs, data)
		require.NoError(b, os.RemoveAll(data))
		_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{logs}})
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(done, nil, 0o644))
	}
	st, recomputed, err := EnsureState(ctx, data, StateOptions{AsOf: asOf, License: filepath.Join(logs, "license.toml"), Store: true})
	require.NoError(b, err)
	defer st.Close()
	if recomputed {
		b.Logf("metered %d sessions as of %s", st.Info.Sessions, st.Info.AsOf.Format(dataset.AsOfLayout))
	}
	return data, asOf
}
