package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/reports"
	"github.com/stretchr/testify/require"
)

const estate = "../../fixtures/estate"

// runQV runs qvmeter in-process and returns its exit code and output.
func runQV(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// estateLogs copies the sample estate's logs whose date is before the
// given one into a new folder, as a server's log folder looked that night.
func estateLogs(t *testing.T, dir, before string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(estate, "Sessions_*.log"))
	require.NoError(t, err)
	for _, f := range files {
		date := strings.TrimSuffix(f[strings.LastIndexByte(f, '_')+1:], ".log")
		if date >= before {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644))
	}
}

func storedRows(t *testing.T, data string) int64 {
	t.Helper()
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	var rows int64
	for _, f := range cat.Files {
		if f.Kind == "sessions" {
			rows += f.Rows
		}
	}
	return rows
}

// A second nightly run over grown logs stores only the new sessions and
// writes a new dated report folder beside the first.
func TestRunNextDayAddsOnlyNewSessions(t *testing.T) {
	logs, data := t.TempDir(), t.TempDir()
	license := filepath.Join(estate, "license.toml")
	estateLogs(t, logs, "2024-03-10")
	// That night the servers were still writing 10 March: half of each
	// file, cut in the middle of a line.
	today, err := filepath.Glob(filepath.Join(estate, "Sessions_*_2024-03-10.log"))
	require.NoError(t, err)
	require.NotEmpty(t, today)
	for _, f := range today {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(logs, filepath.Base(f)), data[:len(data)/2], 0o644))
	}
	code, stdout, stderr := runQV(t, "run", "--data", data, "--license", license, "--as-of", "2024-03-10", logs)
	require.Equal(t, 0, code, stderr)
	first := storedRows(t, data)
	require.FileExists(t, filepath.Join(data, "reports", "2024-03-10", "index.html"))
	require.Equal(t, filepath.Join(data, "reports", "2024-03-10", "index.html"), strings.TrimSpace(stdout))
	for _, step := range []string{"ingest", "meter", "report"} {
		require.Contains(t, stderr, step+" ")
	}

	estateLogs(t, logs, "2024-03-11")
	code, _, stderr = runQV(t, "run", "--data", data, "--license", license, "--as-of", "2024-03-11", logs)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, fmt.Sprintf("%d grown", len(today)))
	second := storedRows(t, data)

	whole := t.TempDir()
	code, _, stderr = runQV(t, "ingest", "--data", whole, logs)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, storedRows(t, whole), second, "the two runs stored what one run over all logs stores")
	require.Greater(t, second, first)

	dirs, err := os.ReadDir(filepath.Join(data, "reports"))
	require.NoError(t, err)
	var names []string
	for _, d := range dirs {
		names = append(names, d.Name())
	}
	sort.Strings(names)
	require.Equal(t, []string{"2024-03-10", "2024-03-11"}, names)
	require.Contains(t, runReports, "anomalies")
	for _, name := range reports.Names() {
		report, _ := reports.Lookup(name)
		if report.Name == "explain" {
			continue
		}
		require.FileExists(t, filepath.Join(data, "reports", "2024-03-11", report.Name+".csv"))
		require.FileExists(t, filepath.Join(data, "reports", "2024-03-11", report.Name+".json"))
	}
	summaryText, err := os.ReadFile(filepath.Join(data, "reports", "2024-03-11", "summary.txt"))
	require.NoError(t, err)
	for _, section := range []string{"exit code 0", "Alerts\n  none", "Warnings\n  none", "Summary\n  as_of", "Steps\n  ingest"} {
		require.Contains(t, string(summaryText), section)
	}
	var summary []map[string]any
	raw, err := os.ReadFile(filepath.Join(data, "reports", "2024-03-11", "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &summary))
	require.EqualValues(t, second, summary[0]["sessions"])
}

// The exit codes the scheduler alerts on.
func TestRunExitCodes(t *testing.T) {
	license := filepath.Join(estate, "license.toml")
	licenseText, err := os.ReadFile(license)
	require.NoError(t, err)
	// Without the conversion the CAL licence lives on, and its idle named
	// CALs are more than 5.
	alerting := filepath.Join(t.TempDir(), "license.toml")
	unconverted := bytes.Replace(licenseText, []byte("converted_at = 2024-02-19T00:00:00Z\n"), nil, 1)
	require.NoError(t, os.WriteFile(alerting, bytes.Replace(unconverted, []byte("[alerts]"), []byte("[alerts]\n  max_idle_named = 5"), 1), 0o644))
	broken := filepath.Join(t.TempDir(), "license.toml")
	require.NoError(t, os.WriteFile(broken, []byte("[cal]\nnamed = \"many\"\n"), 0o644))

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"all well", []string{"--license", license}, 0, ""},
		{"too many rejects: 2, reports still written", []string{"--license", license, "--max-reject-ratio", "0"}, 2, "rejected"},
		{"an alert of the licence: 3", []string{"--license", alerting}, 3, "named CALs have been idle"},
		{"a broken licence: 1", []string{"--license", broken}, 1, "license.toml:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			args := append(append([]string{"run", "--quiet", "--data", data, "--as-of", "2024-04-01"}, tt.args...), estate)
			code, stdout, stderr := runQV(t, args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
			require.Empty(t, stdout, "--quiet")
			if tt.code == 0 {
				require.Equal(t, 1, strings.Count(stderr, "\n"), "--quiet: one line when all is well")
				require.Contains(t, stderr, "qvmeter run: done")
			}
			if tt.code == 0 || tt.code == 2 || tt.code == 3 {
				out := filepath.Join(data, "reports", "2024-04-01")
				require.FileExists(t, filepath.Join(out, "index.html"))
				summary, err := os.ReadFile(filepath.Join(out, "summary.txt"))
				require.NoError(t, err)
				require.Contains(t, string(summary), fmt.Sprintf("exit code %d", tt.code))
				require.Contains(t, string(summary), tt.stderr, "summary.txt says what stderr says")
			}
		})
	}
}

// Issue 11 "Done when": run on the sample estate with its bundled licence,
// the forecast alert on and a budget of 20,000 minutes, exits 0 on every
// as-of day of March 2024, and lists no CAL-era holder as idle (they are
// retired at the conversion of 2024-02-19, listed by idle-cals --retired).
func TestRunOnEveryDayOfMarchListsNoCALEraHolderAndRaisesNoAlert(t *testing.T) {
	licenseText, err := os.ReadFile(filepath.Join(estate, "license.toml"))
	require.NoError(t, err)
	for old, new := range map[string]string{"capacity_minutes = 15000": "capacity_minutes = 20000",
		"capacity_forecast_over_budget = false": "capacity_forecast_over_budget = true\n  max_idle_named = 0"} {
		require.Contains(t, string(licenseText), old)
		licenseText = bytes.Replace(licenseText, []byte(old), []byte(new), 1)
	}
	license := filepath.Join(t.TempDir(), "license.toml")
	require.NoError(t, os.WriteFile(license, licenseText, 0o644))
	data := t.TempDir()
	for day := 1; day <= 31; day++ {
		asOf := time.Date(2024, 3, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		code, _, stderr := runQV(t, "run", "--quiet", "--data", data, "--as-of", asOf, "--license", license, estate)
		require.Equal(t, 0, code, "as of %s: %s", asOf, stderr)
		idle, err := os.ReadFile(filepath.Join(data, "reports", asOf, "idle-cals.csv"))
		require.NoError(t, err)
		for _, line := range strings.Split(string(idle), "\n")[1:] {
			require.False(t, strings.HasPrefix(line, "named,") || strings.HasPrefix(line, "document,"),
				"as of %s: a CAL-era holder is listed as idle: %s", asOf, line)
		}
	}
}

// The nightly job compacts like ingest: past --compact-above files a month
// partition is merged into one; a negative count is a usage error.
func TestRunCompactAbove(t *testing.T) {
	logs, data := t.TempDir(), t.TempDir()
	for day := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC); day.Month() < 3; day = day.AddDate(0, 0, 5) {
		estateLogs(t, logs, day.Format("2006-01-02"))
		code, _, stderr := runQV(t, "ingest", "--data", data, "--compact-above", "0", logs)
		require.Equal(t, 0, code, stderr)
	}
	filesIn := func(month string) int {
		cat, err := dataset.LoadCatalog(data)
		require.NoError(t, err)
		n := 0
		for _, f := range cat.Files {
			if f.Kind == dataset.KindSessions && f.Month == month {
				n++
			}
		}
		return n
	}
	require.Greater(t, filesIn("2024-02"), 2, "one ingest every five days")

	code, _, stderr := runQV(t, "run", "--data", data, "--as-of", "2024-02-26T12:00:00Z", "--compact-above", "-1", logs)
	require.Equal(t, 64, code, stderr)
	require.Contains(t, stderr, "compact-above")

	code, _, stderr = runQV(t, "run", "--data", data, "--as-of", "2024-02-26T12:00:00Z", "--compact-above", "2", logs)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `; compacted [1-9][0-9]* partitions \(rows unchanged\)`, stderr)
	require.Equal(t, 1, filesIn("2024-02"))
}
