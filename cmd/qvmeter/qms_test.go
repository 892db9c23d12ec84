package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/qms/qmstest"
)

// csvRows parses a CSV report into maps by column.
func csvRows(t *testing.T, out string) []map[string]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err, out)
	require.NotEmpty(t, records, "no header")
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, name := range records[0] {
			row[name] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

func column(rows []map[string]string, name string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[name])
	}
	slices.Sort(out)
	return out
}

// The end-to-end case: the sample estate's logs plus a QMS
// holding five never-used named CALs, two document CALs on a deleted
// document and three leases. The reports and the plan show exactly those;
// --apply removes them (a pull shows them gone), --undo gives them back.
func TestQMSReportsRevokeApplyUndo(t *testing.T) {
	data := t.TempDir()
	license := filepath.Join(estate, "license.toml")
	code, _, stderr := runQV(t, "ingest", "--data", data, estate)
	require.Equal(t, 0, code, stderr)

	fake := qmstest.NewServer(qmstest.Sample()...)
	fake.Account, fake.NTHash = `CORP\svc_qvmeter`, "8846f7eaee8fb117ad06bdd830b7586c" // MD4 of UTF-16 "password"
	defer fake.Close()
	t.Setenv(passwordEnv, "password")
	qmsArgs := []string{"--url", fake.ServiceURL(), "--user", `CORP\svc_qvmeter`, "--data", data}
	pull := func() {
		code, stdout, stderr := runQV(t, append([]string{"qms", "pull"}, qmsArgs...)...)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "CALs (")
	}
	report := func(name string) []map[string]string {
		code, stdout, stderr := runQV(t, "report", name, "--data", data, "--license", license, "--as-of", "2024-04-30", "--format", "csv")
		require.Equal(t, 0, code, stderr)
		return csvRows(t, stdout)
	}
	never := []string{`CORP\AFischer`, `CORP\BNguyen`, `CORP\CMorales`, `CORP\DPatel`, `CORP\EOkafor`}
	holders := append(slices.Clone(never), `CORP\CTanaka`, `CORP\TGarcia`)
	slices.Sort(holders)

	pull()
	require.Equal(t, never, column(report("never-used"), "user"))
	assigned := report("assigned")
	require.Equal(t, holders, column(assigned, "user"))
	for _, r := range assigned {
		switch r["user"] {
		case `CORP\CTanaka`:
			require.Contains(t, r["disagreement"], "logs missing", "the QMS saw CTanaka a week after the last logged session")
		case `CORP\TGarcia`:
			require.Empty(t, r["disagreement"], "QMS and logs agree on TGarcia")
			require.NotEmpty(t, r["log_last_used"])
		}
	}
	leases := report("leases")
	require.Equal(t, []string{`CORP\AFischer`, `CORP\AFischer`, `CORP\BNguyen`}, column(leases, "user"))
	require.Equal(t, []string{"1", "2", "2"}, column(leases, "machines"))
	orphans := report("orphan-document-cals")
	require.Equal(t, []string{`CORP\CTanaka`, `CORP\TGarcia`}, column(orphans, "user"))
	require.Equal(t, []string{"deleted", "deleted"}, column(orphans, "reason"))

	// The plan: exactly those seven, and nothing sent but reads.
	revoke := func(extra ...string) (int, string, string) {
		args := append([]string{"revoke", "--data", data, "--license", license, "--as-of", "2024-04-30", "--format", "csv"}, extra...)
		return runQV(t, args...)
	}
	code, stdout, stderr := revoke()
	require.Equal(t, 0, code, stderr)
	require.Equal(t, holders, column(csvRows(t, stdout), "user"))
	for _, req := range fake.Requests() {
		require.True(t, strings.HasPrefix(req.Operation, "Get"), "the plan changed something: %s", req.Operation)
	}

	code, stdout, stderr = revoke(append([]string{"--apply"}, qmsArgs[:4]...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "removed 7 of 7 CALs")
	journals, err := filepath.Glob(filepath.Join(data, "revoke", "*.json"))
	require.NoError(t, err)
	require.Len(t, journals, 1)

	pull()
	require.Empty(t, report("assigned"), "a pull after --apply shows them removed")
	require.Empty(t, report("leases"), "the removed named CALs' leases went with them")

	// Applying the same plan again finds nothing to do.
	code, stdout, _ = revoke()
	require.Equal(t, 0, code)
	require.Empty(t, csvRows(t, stdout))

	code, stdout, stderr = runQV(t, append([]string{"revoke", "--undo", journals[0]}, qmsArgs[:4]...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "gave back 7 of 7")
	pull()
	require.Equal(t, holders, column(report("assigned"), "user"))
}

// qmsEstate is the sample estate ingested with a pull from a fake QMS
// holding the sample state, for the tests of what must not change.
func qmsEstate(t *testing.T) (data string, fake *qmstest.Server, qmsArgs []string) {
	t.Helper()
	data = t.TempDir()
	code, _, stderr := runQV(t, "ingest", "--data", data, estate)
	require.Equal(t, 0, code, stderr)
	fake = qmstest.NewServer(qmstest.Sample()...)
	fake.Account, fake.NTHash = `CORP\svc_qvmeter`, "8846f7eaee8fb117ad06bdd830b7586c"
	t.Cleanup(fake.Close)
	t.Setenv(passwordEnv, "password")
	qmsArgs = []string{"--url", fake.ServiceURL(), "--user", `CORP\svc_qvmeter`}
	code, _, stderr = runQV(t, append([]string{"qms", "pull", "--data", data}, qmsArgs...)...)
	require.Equal(t, 0, code, stderr)
	return data, fake, qmsArgs
}

func saves(fake *qmstest.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.Operation, "Save") {
			n++
		}
	}
	return n
}

// Between the plan's snapshot and --apply, a holder used the CAL: the
// plan is refused, nothing is saved, no journal is written.
func TestRevokeApplyRefusesAChangedState(t *testing.T) {
	data, fake, qmsArgs := qmsEstate(t)
	fake.Update(func(servers []*qmstest.QVS) {
		servers[0].Named.AssignedCALs.CALs[0].LastUsed = "2024-04-29T08:00:00Z"
	})
	code, _, stderr := runQV(t, append([]string{"revoke", "--apply", "--data", data, "--as-of", "2024-04-30", "--format", "csv"}, qmsArgs...)...)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "refusing to apply the plan")
	require.Contains(t, stderr, `named CAL of CORP\AFischer (QVS-PROD-01) was used since`)
	require.Zero(t, saves(fake))
	journals, _ := filepath.Glob(filepath.Join(data, "revoke", "*.json"))
	require.Empty(t, journals)
}

// --max caps one run's removals; never_revoke keeps its users off the plan.
func TestRevokeMaxAndNeverRevoke(t *testing.T) {
	data, fake, qmsArgs := qmsEstate(t)
	defer func() { require.Equal(t, 1, saves(fake), "two named CALs of one server: one SaveCALConfiguration") }()
	license := filepath.Join(t.TempDir(), "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[policy]\nidle_days = 30\nnever_revoke = ['CORP\\AF*', 'corp\\tgarcia']\n"), 0o644))
	code, stdout, stderr := runQV(t, "revoke", "--data", data, "--license", license, "--as-of", "2024-04-30", "--format", "csv", "--max", "2")
	require.Equal(t, 0, code, stderr)
	plan := csvRows(t, stdout)
	require.Equal(t, []string{`CORP\BNguyen`, `CORP\CMorales`, `CORP\CTanaka`, `CORP\DPatel`, `CORP\EOkafor`}, column(plan, "user"))
	require.Equal(t, []string{"false", "false", "false", "true", "true"}, column(plan, "this_run"))
	require.Contains(t, stderr, "2 kept by never_revoke")

	code, stdout, stderr = runQV(t, append([]string{"revoke", "--apply", "--data", data, "--license", license, "--as-of", "2024-04-30", "--format", "csv", "--max", "2"}, qmsArgs...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "removed 2 of 2 CALs")
}

// A file of another shape, a 401, an HTML answer or a dropped connection
// leave the stored snapshot as it was.
func TestBadQMSInputChangesNothingStored(t *testing.T) {
	data, fake, qmsArgs := qmsEstate(t)
	snapshots, err := filepath.Glob(filepath.Join(data, "qms", "date=*", "cals.parquet"))
	require.NoError(t, err)
	require.Len(t, snapshots, 1)
	before, err := os.ReadFile(snapshots[0])
	require.NoError(t, err)
	cases := []struct {
		name  string
		setup func()
		args  []string
		want  string
	}{
		{"XML of another shape", nil, []string{"qms", "import", "--server", "QVS-PROD-01", "--data", data, "../../qms/testdata/not-caldata.xml"}, "not <CalData> or <BorrowedCalData>"},
		{"CSV with a bad time", nil, []string{"qms", "import", "--data", data, "../../qms/testdata/bad-time.csv"}, "bad-time.csv:2: last_used"},
		{"wrong password: 401", func() { t.Setenv(passwordEnv, "wrong") }, append([]string{"qms", "pull", "--data", data}, qmsArgs...), "HTTP 401"},
		{"QMS answers HTML", func() { t.Setenv(passwordEnv, "password"); fake.SetHTML(true) }, append([]string{"qms", "pull", "--data", data}, qmsArgs...), "not a SOAP envelope"},
		{"connection dropped", func() { fake.SetHTML(false); fake.SetDrop(true) }, append([]string{"qms", "pull", "--data", data}, qmsArgs...), "calling the QMS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			code, _, stderr := runQV(t, tc.args...)
			require.Equal(t, 1, code)
			require.Contains(t, stderr, tc.want)
			after, err := os.ReadFile(snapshots[0])
			require.NoError(t, err)
			require.Equal(t, before, after, "the stored snapshot changed")
			entries, err := os.ReadDir(filepath.Dir(snapshots[0]))
			require.NoError(t, err)
			require.Len(t, entries, 1, "a temporary file was left behind")
		})
	}
}

// The licence file's [qms] import makes qvmeter run store a snapshot and
// write the QMS reports.
func TestRunImportsTheQMSStateTheLicenceNames(t *testing.T) {
	dir := t.TempDir()
	csvPath, err := filepath.Abs("../../qms/testdata/export.csv")
	require.NoError(t, err)
	license := filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[qms]\nimport = '"+csvPath+"'\n"), 0o644))
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "out")
	// As of the day after the estate's last logs: later, its servers would be
	// silent and run would rightly exit 3.
	code, _, stderr := runQV(t, "run", "--data", data, "--license", license, "--as-of", "2024-04-01", "--out", out, estate)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "3 CALs (document 1, lease 1, named 1)")
	for _, name := range qmsReports {
		require.FileExists(t, filepath.Join(out, name+".csv"))
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), `id="qms"`)
}
