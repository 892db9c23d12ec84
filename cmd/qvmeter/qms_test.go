package main

import (
	"encoding/csv"
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
