package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// run warns and exits 3 when a PATH holds no session logs (an unmounted
// share that left an empty folder) or a server has stopped writing, naming
// them; the reports are written all the same.
func TestRunNamesEmptyPathsAndSilentServers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the nightly job three times")
	}
	logs, empty := t.TempDir(), t.TempDir()
	estateLogs(t, logs, "2024-04-01")
	// QVS-APAC_03 stopped writing after 18 March.
	late, err := filepath.Glob(filepath.Join(logs, "Sessions_QVS-APAC_03_2024-03-*.log"))
	require.NoError(t, err)
	for _, f := range late {
		if filepath.Base(f) > "Sessions_QVS-APAC_03_2024-03-18.log" {
			require.NoError(t, os.Remove(f))
		}
	}
	license, err := os.ReadFile(filepath.Join(estate, "license.toml"))
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		paths      []string
		silentDays string // [alerts] silent_server_days, "" for each server's own limit
		code       int
		named      []string
	}{
		"an empty folder among the paths":  {paths: []string{logs, empty}, silentDays: "30", code: 3, named: []string{empty + " holds no session logs"}},
		"a server silent beyond its usual": {paths: []string{logs}, code: 3, named: []string{"server QVS-APAC_03 has been silent 13.4 days (last session ended 2024-03-18T12:42:34Z; allowed 2.0 days)"}},
		"a fixed limit it is within":       {paths: []string{logs}, silentDays: "14", code: 0},
		"a fixed limit it is beyond":       {paths: []string{logs}, silentDays: "7", code: 3, named: []string{"server QVS-APAC_03", "allowed 7.0 days"}},
	} {
		t.Run(name, func(t *testing.T) {
			text := string(license)
			if tc.silentDays != "" {
				text = strings.Replace(text, "[alerts]\n", "[alerts]\n  silent_server_days = "+tc.silentDays+"\n", 1)
			}
			lic := filepath.Join(t.TempDir(), "license.toml")
			require.NoError(t, os.WriteFile(lic, []byte(text), 0o644))
			data := t.TempDir()
			args := append([]string{"run", "--quiet", "--data", data, "--license", lic, "--as-of", "2024-03-31T23:00:00Z"}, tc.paths...)
			code, _, stderr := runQV(t, args...)
			require.Equal(t, tc.code, code, stderr)
			for _, want := range tc.named {
				require.Contains(t, stderr, want)
			}
			require.NotContains(t, stderr, "QVS-PROD-01", "a server that writes is not named")
			out := filepath.Join(data, "reports", "2024-03-31")
			summary, err := os.ReadFile(filepath.Join(out, "summary.txt"))
			require.NoError(t, err)
			page, err := os.ReadFile(filepath.Join(out, "index.html"))
			require.NoError(t, err)
			for _, want := range tc.named {
				require.Contains(t, string(summary), want, "summary.txt")
			}
			// The page's "data up to" marks silent exactly the servers
			// stderr names.
			var named []string
			for _, server := range []string{"QVS-APAC_03", "QVS-PROD-01"} {
				if strings.Contains(stderr, "server "+server+" ") {
					named = append(named, server)
				}
			}
			require.Equal(t, named, silentOnPage(t, string(page)))
		})
	}
}

// silentOnPage are the servers the page's "data up to" table marks silent.
func silentOnPage(t *testing.T, page string) []string {
	t.Helper()
	start := strings.Index(page, `<div id="data-up-to">`)
	require.GreaterOrEqual(t, start, 0, "the page has no data-up-to table")
	table := page[start : start+strings.Index(page[start:], "</table>")]
	tags := regexp.MustCompile(`<[^>]*>`)
	var silent []string
	for _, row := range strings.Split(table, `<tr class="warn">`)[1:] {
		cell := row[:strings.Index(row, "</td>")]
		silent = append(silent, tags.ReplaceAllString(cell, ""))
		require.Contains(t, row[:strings.Index(row, "</tr>")], "silent")
	}
	return silent
}
