package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/reports"
	"github.com/stretchr/testify/require"
)

// One QlikView 11.x line: times without an offset, in the server's zone.
const legacyLog = "Exe Type\tExe Version\tServer Started\tTimestamp\tDocument\tDocument Timestamp\tQlikView User\tExit Reason\tSession Start\tSession Duration\tCPU Spent (s)\tBytes Received\tBytes Sent\tCalls\tSelections\tAuthenticated User\tIdentifying User\tClient Machine Identification\tSerial Number\tClient Type\tClient Build Version\tSecure Protocol\tTunnel Protocol\tServer Port\tClient Address\tClient Port\tCAL Type\tCAL Usage Count\r\n" +
	"RLS64\t11.20.12904.0409.10\t2016-01-04 06:00:00\t2016-01-31 20:30:00\tD:\\Docs\\Budget.qvw\t2016-01-04 06:00:00\t\tSocket closed by client\t2016-01-31 20:00:00\t00:30:00\t1.000000\t100\t200\t3\t1\tCORP\\ann\t\tc1\t\tAjax\t\tOn\t\t4747\t10.0.0.1\t50000\tNamed User\t0\r\n"

// The zone of offset-less times comes from --timezone and from the
// licence's [timezones] (the flag wins); a server without one is warned
// about on stderr and in the summary, on every run.
func TestIngestTimezoneFlagsAndLicence(t *testing.T) {
	logs := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(logs, "Sessions_QVS-OLD-1_2016-01-31.log"), []byte(legacyLog), 0o644))
	license := filepath.Join(t.TempDir(), "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[timezones]\n\"QVS-OLD-*\" = \"America/New_York\"\n"), 0o644))

	data := t.TempDir()
	code, stdout, stderr := runQV(t, "ingest", "--data", data, logs)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "warning: server QVS-OLD-1: 4 times without an offset were converted as UTC because no zone is given for it")
	require.Contains(t, stdout, "server QVS-OLD-1: 2 lines; offsetless_times 4 (converted with UTC (no zone given))")
	code, _, stderr = runQV(t, "ingest", "--data", data, logs)
	require.Equal(t, 0, code)
	require.Contains(t, stderr, "warning: server QVS-OLD-1", "on every run")

	code, stdout, stderr = runQV(t, "ingest", "--data", data, "--license", license, "--rebuild", "--json")
	require.Equal(t, 0, code, stderr)
	require.Empty(t, stderr)
	var sum ingest.Summary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
	require.Equal(t, "America/New_York", sum.Servers["QVS-OLD-1"].Zone)
	require.NotNil(t, sum.Rebuilt)

	code, _, stderr = runQV(t, "ingest", "--data", data, "--license", license, "--timezone", "qvs-old-1=Europe/Berlin", logs)
	require.Equal(t, 0, code)
	require.Contains(t, stderr, "stored converted with America/New_York, but its zone is now Europe/Berlin", "the flag wins over the licence")

	code, _, stderr = runQV(t, "ingest", "--data", data, "--timezone", "Mars/Olympus", logs)
	require.Equal(t, 64, code, "a usage error")
	require.Contains(t, stderr, `"Mars/Olympus" for "--timezone" flag: bad time zone rule "Mars/Olympus": unknown zone "Mars/Olympus"`)

	code, _, stderr = runQV(t, "run", "--data", data, "--timezone", "QVS=", logs)
	require.Equal(t, 64, code, "run takes the same flag")
	require.Contains(t, stderr, `"QVS=" for "--timezone" flag: bad time zone rule "QVS=": no zone`)
}

// run warns of a server whose offset-less times have no zone on stderr and
// in summary.txt, the file cron mails, on every run (issue 10: "warned
// about, per server, on every run").
func TestRunWarnsOfServersWithoutAZone(t *testing.T) {
	logs := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(logs, "Sessions_QVS-OLD-1_2016-01-31.log"), []byte(legacyLog), 0o644))
	data := t.TempDir()
	for range 2 {
		code, _, stderr := runQV(t, "run", "--quiet", "--data", data, "--as-of", "2016-02-01T12:00:00Z", logs)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stderr, "server QVS-OLD-1: 4 times without an offset were converted as UTC")
		summary, err := os.ReadFile(filepath.Join(data, "reports", "2016-02-01", "summary.txt"))
		require.NoError(t, err)
		require.Contains(t, string(summary), "server QVS-OLD-1: 4 times without an offset were converted as UTC")
	}
	page, err := os.ReadFile(filepath.Join(data, "reports", "2016-02-01", "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "Times without an offset were read as UTC on <strong>QVS-OLD-1</strong>", "the data-quality panel")
	quality, err := os.ReadFile(filepath.Join(data, "reports", "2016-02-01", "data-quality.csv"))
	require.NoError(t, err)
	require.Contains(t, string(quality), `QVS-OLD-1,offsetless_times,4,"converted as UTC: no zone given`)
}

// Compaction changes no figure: every report over a dataset of many small
// files (one ingest a day, automatic compaction off) is the same after
// ingest --compact merged each month into one file.
func TestCompactChangesNoReport(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the estate a day at a time")
	}
	logs, data := t.TempDir(), t.TempDir()
	license := filepath.Join(estate, "license.toml")
	for day := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC); day.Month() < 4; day = day.AddDate(0, 0, 3) {
		estateLogs(t, logs, day.Format("2006-01-02"))
		code, _, stderr := runQV(t, "ingest", "--data", data, "--compact-above", "0", logs)
		require.Equal(t, 0, code, stderr)
	}
	estateLogs(t, logs, "2024-04-01")
	code, _, stderr := runQV(t, "ingest", "--data", data, "--compact-above", "0", logs)
	require.Equal(t, 0, code, stderr)
	cat, err := dataset.LoadCatalog(data)
	require.NoError(t, err)
	require.Greater(t, len(cat.Files), 20, "many small files")

	reportsOf := func() map[string]string {
		out := map[string]string{}
		for _, name := range reports.Names() {
			if name == "explain" {
				continue
			}
			code, stdout, stderr := runQV(t, "report", name, "--data", data, "--license", license, "--as-of", "2024-04-01", "--format", "csv")
			require.Equal(t, 0, code, "%s: %s", name, stderr)
			require.Contains(t, stdout, "\n", name)
			out[name] = stdout
		}
		return out
	}
	before := reportsOf()
	code, stdout, stderr := runQV(t, "ingest", "--data", data, "--compact")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "compacted month 2024-03: ")
	cat, err = dataset.LoadCatalog(data)
	require.NoError(t, err)
	months := map[string]bool{}
	for _, f := range cat.Files {
		require.False(t, months[f.Kind+f.Month], "one file per partition: %s", f.Path)
		months[f.Kind+f.Month] = true
	}
	require.Equal(t, before, reportsOf())
}
