package ingest_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// cyclingSessions returns n distinct sessions whose lines cycle among three
// months (February, March, April 2024), one month per line.
func cyclingSessions(n int) []sess {
	ss := sessions(n)
	for i := range ss {
		for _, f := range []*string{&ss[i].start, &ss[i].end} {
			t, err := time.Parse("20060102T150405.000-0700", *f)
			if err != nil {
				panic(err)
			}
			*f = t.AddDate(0, i%3, 0).Format("20060102T150405.000-0700")
		}
	}
	return ss
}

// A run writes at most two files per month and worker whatever the order
// of its input: a log of 30,000 lines cycling among three months (one
// Parquet file per line before) is stored in a few files, every row once.
func TestFilesPerMonthBoundedWhateverTheOrder(t *testing.T) {
	const lines, workers = 30000, 4
	dir := t.TempDir()
	log := filepath.Join(dir, "Sessions_QVS01_2024.log")
	ss := cyclingSessions(lines)
	writeLog(t, log, logText(columns29, true, ss))
	data := t.TempDir()
	sum := runOpts(t, ingest.Options{Data: data, Paths: []string{log}, Workers: workers, BatchSize: 4096})
	require.EqualValues(t, lines, sum.RowsStored)
	require.Zero(t, sum.Duplicates)
	require.Equal(t, []string{"2024-02", "2024-03", "2024-04"}, sum.Months)

	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	perMonth := map[string]int{}
	for _, f := range cat.Files {
		if f.Kind == dataset.KindSessions {
			perMonth[f.Month]++
		}
	}
	for month, n := range perMonth {
		require.LessOrEqual(t, n, 2*workers, "files of %s", month)
	}
	rows := readDataset(t, data)
	require.Len(t, rows, lines)

	// The same sessions in time order, stored by another run, are the
	// same sessions, each once.
	slices.SortStableFunc(ss, func(a, b sess) int { return strings.Compare(a.end, b.end) })
	ordered := filepath.Join(t.TempDir(), "Sessions_QVS01_2024.log")
	writeLog(t, ordered, logText(columns29, true, ss))
	want := t.TempDir()
	runOpts(t, ingest.Options{Data: want, Paths: []string{ordered}, Workers: workers})
	got := identities(rows)
	require.Equal(t, identities(readDataset(t, want)), got)
	require.Len(t, slices.Compact(slices.Clone(got)), lines, "every session stored once")
	sessionDir, err := filepath.Glob(filepath.Join(data, dataset.SessionsDir, ".*"))
	require.NoError(t, err)
	require.Empty(t, sessionDir, "no spill or key file left")
}
