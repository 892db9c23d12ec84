package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// TestReportHelp pins report --help (short: every report on one line,
// the flags every report takes, examples) and report NAME --help (that
// report's columns and flags only), all on stdout, and that no help
// documents a flag that does not exist.
func TestReportHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"report", "--help"}, &stdout, &stderr))
	short := stdout.String()
	require.Less(t, strings.Count(short, "\n"), 90, "report --help is short")
	require.Contains(t, short, "Examples:")
	for _, name := range reportNames() {
		require.Regexp(t, `(?m)^  `+name+` +\S.{0,70}$`, short, "one line for %s", name)
	}
	_, flags, _ := strings.Cut(short, "\nFlags:\n")
	flags, _, _ = strings.Cut(flags, "\n\n")
	require.NotContains(t, flags, "--only-idle", "a report's own flags are in its own help")
	require.NotContains(t, short, "--user")

	for _, name := range reports.Names() {
		r, _ := reports.Lookup(name)
		if r.Name == "explain" {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, 0, run(context.Background(), []string{"report", r.Name, "--help"}, &stdout, &stderr))
			help := stdout.String()
			for _, c := range r.Columns {
				require.Contains(t, help, "  "+c.Name+" ")
			}
			for _, other := range reportNames() {
				if other != r.Name {
					require.NotContains(t, help, "qvmeter report "+other+" ", "only %s's help", r.Name)
				}
			}
			_, flags, _ := strings.Cut(help, "\nFlags:\n")
			flags, _, _ = strings.Cut(flags, "\n\n")
			for _, flag := range regexp.MustCompile(`--[a-z][a-z-]+`).FindAllString(flags, -1) {
				var stdout, stderr bytes.Buffer
				run(context.Background(), []string{"report", r.Name, flag + "=x"}, &stdout, &stderr)
				require.NotContains(t, stderr.String(), "unknown flag", "%s's help documents %s", r.Name, flag)
				require.NotContains(t, stderr.String(), "does not take", "%s's help documents %s", r.Name, flag)
			}
			for _, flag := range []string{"only-idle", "by", "month", "billed", "summary", "cal-type"} {
				require.Equal(t, r.Accepts(flag), strings.Contains(help, "--"+flag+" "), "--%s in %s's help", flag, r.Name)
			}
			require.Equal(t, r.Name == "idle-cals", strings.Contains(help, "qmc"), "qmc only where it works")
		})
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
	out := t.TempDir()
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"unknown report: did you mean":                 {[]string{"report", "idle-cal"}, exitUsage, `no report "idle-cal" (did you mean idle-cals?)`},
		"no report":                                    {[]string{"report"}, exitUsage, "want a report name"},
		"explain is its own command":                   {[]string{"report", "explain"}, exitUsage, "qvmeter explain USER"},
		"flag of another report":                       {[]string{"report", "capacity", "--only-idle"}, exitUsage, "capacity does not take --only-idle"},
		"unknown format: did you mean":                 {[]string{"report", "summary", "--format", "jsno"}, exitUsage, `--format "jsno": want one of table, csv, json, parquet (did you mean json?)`},
		"unknown --cal-type: did you mean":             {[]string{"report", "idle-cals", "--cal-type", "nmaed"}, exitUsage, "(did you mean named?)"},
		"qmc only for idle-cals":                       {[]string{"report", "capacity", "--format", "qmc"}, exitUsage, `--format "qmc": want one of table, csv, json, parquet`},
		"an extension qvmeter does not write":          {[]string{"report", "summary", "--output", filepath.Join(out, "x.xlsx")}, exitUsage, "qvmeter writes .csv, .json, .parquet or .txt"},
		"a format the extension contradicts":           {[]string{"report", "summary", "--format", "csv", "--output", filepath.Join(out, "x.json")}, exitUsage, "--format csv does not match --output"},
		"bad --by: did you mean":                       {[]string{"report", "capacity", "--by", "usr"}, exitUsage, `--by "usr": want one of document, server, user (did you mean user?)`},
		"billed file missing":                          {[]string{"report", "capacity", "--billed", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
		"explain without a user":                       {[]string{"explain"}, exitUsage, "want one user"},
		"explain of an unknown user names the nearest": {[]string{"explain", `CORP\alcie`}, 1, `no user "CORP\\alcie" has sessions up to 2024-03-31 00:00 UTC; the closest: CORP\alice`},
		"explain offers no qmc":                        {[]string{"explain", `CORP\alice`, "--format", "qmc"}, exitUsage, `--format "qmc"`},
		"a command that is no report":                  {[]string{"report", "revoke"}, exitUsage, `no report "revoke"`},
		"advice's flag elsewhere":                      {[]string{"report", "summary", "--months", "2"}, exitUsage, "summary does not take --months"},
		"advice over no month":                         {[]string{"report", "advice", "--months", "0"}, 1, "--months 0: want at least 1"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := dir
			if tc.code == exitUsage {
				dir, _ = meteredDataset(t) // a mistake is refused before any state is written
			}
			var stdout, stderr bytes.Buffer
			args := append(tc.args, "--data", dir, "--license", license, "--as-of", "2024-03-31")
			require.Equal(t, tc.code, run(context.Background(), args, &stdout, &stderr), stderr.String())
			require.Contains(t, stderr.String(), tc.want)
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			require.Empty(t, entries, "nothing written")
			if tc.code == exitUsage {
				require.NoDirExists(t, filepath.Join(dir, dataset.StateDir), "no state computed for a command-line mistake")
			}
		})
	}
}

// TestReportEnumerationsIgnoreCase pins that --cal-type, --by and --format
// take their values in any case, and that --format agrees with or follows
// --output's extension.
func TestReportEnumerationsIgnoreCase(t *testing.T) {
	dir, license := meteredDataset(t)
	out := t.TempDir()
	for name, tc := range map[string]struct {
		args  []string
		start string // of the output
	}{
		"--cal-type Named":              {[]string{"idle-cals", "--all", "--cal-type", "Named", "--format", "json"}, `[` + "\n" + `{"cal_type":"named"`},
		"a report name in any case":     {[]string{"Idle-Cals", "--all", "--format", "json"}, "[\n{"},
		"--format CSV":                  {[]string{"summary", "--format", "CSV"}, "as_of,mode,"},
		"--by User":                     {[]string{"capacity", "--by", "User", "--format", "Json"}, "["},
		"--output x.JSON":               {[]string{"summary", "--output", filepath.Join(out, "x.JSON")}, "[\n{"},
		"--output x.json --format json": {[]string{"summary", "--output", filepath.Join(out, "y.json"), "--format", "JSON"}, "[\n{"},
		"--output x.txt is the table":   {[]string{"summary", "--output", filepath.Join(out, "x.txt")}, "as_of "},
		"--output without an extension": {[]string{"summary", "--output", filepath.Join(out, "summary")}, "as_of,mode,"},
		"--output - is standard output": {[]string{"summary", "--output", "-", "--format", "json"}, "[\n{"},
		"qmc to a .txt file":            {[]string{"idle-cals", "--output", filepath.Join(out, "qmc.txt"), "--format", "QMC"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"report"}, tc.args...), "--data", dir, "--license", license, "--as-of", "2024-03-31")
			require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
			got := stdout.String()
			if i := slices.Index(tc.args, "--output"); i >= 0 && tc.args[i+1] != "-" {
				raw, err := os.ReadFile(tc.args[i+1])
				require.NoError(t, err)
				got = string(raw)
			}
			require.True(t, strings.HasPrefix(got, tc.start), "%q does not start with %q", got, tc.start)
		})
	}
}

func TestExplainBindsTheUser(t *testing.T) {
	dir, license := meteredDataset(t)
	for name, tc := range map[string]struct {
		user string
		rows int
	}{
		"the user in any case":     {`corp\ALICE`, 3}, // month, licence, server
		"SQL in the name: no user": {"x' OR '1'='1", 0},
		"a LIKE pattern: no user":  {"%", 0},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"explain", tc.user, "--data", dir, "--license", license, "--as-of", "2024-03-31", "--format", "json"}
			if tc.rows == 0 {
				require.Equal(t, 1, run(context.Background(), args, &stdout, &stderr), stderr.String())
				require.Contains(t, stderr.String(), "no user")
				return
			}
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
