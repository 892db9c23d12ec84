package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/reports"
)

// meteredDataset is writeMeterDataset's one session (CORP\alice, named,
// 2024-03-01) with a licence of one named CAL.
func meteredDataset(t *testing.T) (dir, license string) {
	dir = t.TempDir()
	writeMeterDataset(t, dir)
	license = filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 1\nnamed_dynamic = true\n"), 0o644))
	return dir, license
}

func TestReportHelpListsEveryReportWithItsColumns(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"report", "--help"}, &stdout, &stderr))
	for _, r := range reports.Reports() {
		require.Contains(t, stderr.String(), r.Name+" — ")
		for _, c := range r.Columns {
			require.Contains(t, stderr.String(), "  "+c.Name+" ")
		}
	}
}

// A report for another as-of time computes its own state and leaves the
// stored one (meter's) alone; a report that fits reads the stored one.
func TestReportComputesItsOwnStateLeavingTheStored(t *testing.T) {
	dir, license := meteredDataset(t)
	code, _, stderrMeter := runQV(t, "meter", "--data", dir, "--license", license, "--as-of", "2024-03-10")
	require.Equal(t, 0, code, stderrMeter)
	stored, err := dataset.ReadStateInfo(dir)
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	args := []string{"report", "idle-cals", "--all", "--data", dir, "--license", license, "--as-of", "2024-03-31", "--format", "json"}
	require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
	require.Contains(t, stderr.String(), "state computed for this report (reconstruct) as of 2024-03-31T00:00:00Z")
	after, err := dataset.ReadStateInfo(dir)
	require.NoError(t, err)
	require.Equal(t, stored, after, "the stored state is meter's")
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, `CORP\alice`, rows[0]["user"])
	require.EqualValues(t, 29, rows[0]["idle_days"])
	require.Equal(t, "2024-03-01T09:10:00Z", rows[0]["last_used"])

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"report", "summary", "--data", dir}, &stdout, &stderr), stderr.String())
	require.Empty(t, stderr.String(), "the state is fresh: no recompute")
	require.True(t, strings.HasPrefix(stdout.String(), "as_of,mode,"), "CSV when standard output is not a terminal")
}

func TestReportWritesOutputFileAtomically(t *testing.T) {
	dir, license := meteredDataset(t)
	out := filepath.Join(t.TempDir(), "capacity.parquet")
	var stdout, stderr bytes.Buffer
	args := []string{"report", "capacity", "--data", dir, "--license", license, "--as-of", "2024-03-31", "--output", out}
	require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "PAR1", string(data[:4]), "format from the extension")
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
}

func TestReportRejectsMistakes(t *testing.T) {
	dir, license := meteredDataset(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown report":           {[]string{"report", "revoke"}, `no report "revoke"`},
		"no report":                {[]string{"report"}, "want one report name"},
		"flag of another report":   {[]string{"report", "capacity", "--only-idle"}, "capacity does not take --only-idle"},
		"unknown format":           {[]string{"report", "summary", "--format", "xml"}, `--format "xml"`},
		"bad --by":                 {[]string{"report", "capacity", "--by", "user_key"}, `--by "user_key"`},
		"qmc for a report without": {[]string{"report", "capacity", "--format", "qmc"}, "has no user column"},
		"billed file missing":      {[]string{"report", "capacity", "--billed", filepath.Join(dir, "none.csv")}, "none.csv"},
		"explain without a user":   {[]string{"explain"}, "want one user"},
		"advice's flag elsewhere":  {[]string{"report", "summary", "--months", "2"}, "summary does not take --months"},
		"advice over no month":     {[]string{"report", "advice", "--months", "0"}, "--months 0: want at least 1"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(tc.args, "--data", dir, "--license", license, "--as-of", "2024-03-31")
			require.Equal(t, 1, run(context.Background(), args, &stdout, &stderr))
			require.Contains(t, stderr.String(), tc.want)
		})
	}
}

func TestExplainBindsTheUser(t *testing.T) {
	dir, license := meteredDataset(t)
	for name, tc := range map[string]struct {
		user string
		rows int
	}{
		"the user in any case": {`corp\ALICE`, 3}, // month, licence, server
		"SQL in the name":      {"x' OR '1'='1", 0},
		"a LIKE pattern":       {"%", 0},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"explain", tc.user, "--data", dir, "--license", license, "--as-of", "2024-03-31", "--format", "json"}
			require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
			var rows []map[string]any
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &rows))
			require.Len(t, rows, tc.rows)
		})
	}
}

// TestReportAdviceWritesAWhatIfLicenceForMeterSimulate follows the advice
// from the command line: alice used her named CAL on one day, a session CAL
// is cheaper, the what-if licence says so and meter --simulate takes it.
func TestReportAdviceWritesAWhatIfLicenceForMeterSimulate(t *testing.T) {
	dir, license := meteredDataset(t)
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 1\nnamed_dynamic = true\n\n"+
		"[prices]\nperiod = \"year\"\nnamed_cal = 360\nsession_cal = 120\n"), 0o644))
	whatIf := filepath.Join(t.TempDir(), "what-if.toml")
	var stdout, stderr bytes.Buffer
	args := []string{"report", "advice", "--data", dir, "--license", license, "--as-of", "2024-04-01", "--months", "2",
		"--write-license", whatIf, "--format", "json"}
	require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rows))
	byAdvice := map[string]map[string]any{}
	for _, r := range rows {
		byAdvice[r["advice"].(string)] = r
	}
	require.Equal(t, `CORP\alice`, byAdvice["session_cal_instead_of_named"]["user"])
	require.EqualValues(t, 1, byAdvice["session_cal_pool"]["recommended"])
	require.EqualValues(t, 20, byAdvice["session_cal_pool"]["saving"], "one month: a 30.00 named CAL for a 10.00 session CAL")
	require.EqualValues(t, 0, byAdvice["simulate_check"]["new_denials"])
	require.Contains(t, byAdvice["not_given"]["reason"], "usage_cal")

	stdout.Reset()
	stderr.Reset()
	meter := []string{"meter", "--data", dir, "--simulate", "--license", whatIf, "--as-of", "2024-04-01"}
	require.Equal(t, 0, run(context.Background(), meter, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String()+stderr.String(), "0 denials")
}
