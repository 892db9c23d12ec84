package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/stretchr/testify/require"
)

func writeMeterDataset(t *testing.T, dir string) {
	folder := filepath.Join(dir, dataset.SessionsDir, "month=2024-03")
	require.NoError(t, os.MkdirAll(folder, 0o755))
	start := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	user, cal, machine := `CORP\alice`, "Named User", "m1"
	rows := []dataset.SessionRow{{SessionStart: start, SessionEnd: start + 600_000, DurationMS: 600_000, UserKey: `corp\alice`,
		AuthenticatedUser: &user, DocumentKey: "c:/docs/sales.qvw", Server: "A", CALType: &cal, CALClass: "named",
		ClientMachineID: &machine, SourceFile: "Sessions_A_2024-03-01.log", SourceLine: 2}}
	require.NoError(t, parquet.WriteFile(filepath.Join(folder, "part-0.parquet"), rows))
}

func TestMeterWritesStateAndReplacesIt(t *testing.T) {
	dir := t.TempDir()
	writeMeterDataset(t, dir)
	license := filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 1\nnamed_dynamic = true\n"), 0o644))
	for range 2 { // the second run replaces the first state
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"meter", "--data", dir, "--license", license, "--as-of", "2024-03-10"}, &stdout, &stderr)
		require.Equal(t, 0, code, stderr.String())
		require.Contains(t, stdout.String(), "1 sessions replayed")
	}
	var info dataset.StateInfo
	raw, err := os.ReadFile(filepath.Join(dir, dataset.StateDir, dataset.StateInfoFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &info))
	require.Contains(t, string(raw), `"as_of": "2024-03-10T00:00:00Z"`, "read through DIR/state as other tools do")
	require.Len(t, info.LicenseSHA256, 64)
	require.NotEmpty(t, info.DatasetVersion)
	holders, err := parquet.ReadFile[metering.HolderRow](filepath.Join(dir, dataset.StateDir, metering.HoldersTable))
	require.NoError(t, err)
	require.Len(t, holders, 1)
	require.Equal(t, `CORP\alice`, holders[0].User)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.NotContains(t, e.Name(), ".state-", "no temporary state left behind")
	}
}

func TestMeterRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	writeMeterDataset(t, dir)
	license := filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 1\nsessions = 3\n"), 0o644))
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"malformed licence names file, line and key":  {[]string{"--license", license}, 1, license + ":3: cal.sessions: unknown key"},
		"bad as-of is a usage error":                  {[]string{"--as-of", "31/03/2024"}, exitUsage, `--as-of "31/03/2024"`},
		"simulate needs a licence: a usage error":     {[]string{"--simulate"}, exitUsage, "--simulate needs --license"},
		"missing dataset":                             {[]string{"--data", filepath.Join(dir, "nothing")}, 1, "no sessions dataset"},
		"an argument it does not take: a usage error": {[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"meter", "--data", dir}, tc.args...)
			require.Equal(t, tc.code, run(context.Background(), args, &stdout, &stderr))
			require.Contains(t, stderr.String(), tc.want)
		})
	}
}
