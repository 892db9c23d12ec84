package reports

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dataUpToRows are the rows of the page's "data up to" table as text,
// cell by cell (the <wbr> and spans of identifiers taken out).
func dataUpToRows(t *testing.T, doc string) [][]string {
	t.Helper()
	start := strings.Index(doc, `<div id="data-up-to">`)
	require.GreaterOrEqual(t, start, 0, "the page has no data-up-to table")
	summaryEnd := strings.Index(doc[start:], "</section>")
	require.Positive(t, summaryEnd, "the data-up-to table is outside the summary")
	body := doc[start : start+summaryEnd]
	tbody := strings.Index(body, "<tbody>")
	require.Positive(t, tbody, "the data-up-to table is empty")
	tags := regexp.MustCompile(`<[^>]*>`)
	var rows [][]string
	for _, tr := range strings.Split(body[tbody:], "<tr")[1:] {
		var cells []string
		for _, td := range strings.Split(tr, "<td")[1:] {
			cells = append(cells, strings.TrimSpace(tags.ReplaceAllString("<td"+td, "")))
		}
		rows = append(rows, append([]string{tr[:strings.IndexByte(tr, '>')]}, cells...))
	}
	return rows
}

// The page's "data up to" lists every server of the sample estate, with
// its newest session at or before the as-of time as the session files
// have it, and marks none silent: every server logged until the end of
// March.
func TestHTMLDataUpToListsEveryServerWithItsNewestSession(t *testing.T) {
	ctx := context.Background()
	data := estates[dataRecon]
	db, err := openStored(t, ctx, data)
	require.NoError(t, err)
	defer db.Close()
	// The newest session per server straight from the session files (the
	// sessions view leaves excluded accounts out; freshness counts them).
	rows, err := db.conn.QueryContext(ctx, `SELECT server, max(session_end::TIMESTAMP) FROM sessions_raw
		WHERE session_end::TIMESTAMP <= getvariable('as_of') GROUP BY server ORDER BY server`)
	require.NoError(t, err)
	want := map[string]string{}
	for rows.Next() {
		var server string
		var end time.Time
		require.NoError(t, rows.Scan(&server, &end))
		want[server] = end.UTC().Format(displayTime)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.GreaterOrEqual(t, len(want), 3, "the sample estate has several servers")

	got := map[string]string{}
	for _, row := range dataUpToRows(t, estateHTML(t, data)) {
		require.NotContains(t, row[0], "warn", "server %s marked silent", row[1])
		require.Equal(t, "writing", row[len(row)-1], "server %s", row[1])
		got[row[1]] = row[2]
	}
	require.Equal(t, want, got)
}

// With [alerts] silent_server_days set, every server is held to that
// limit and the page says where it came from: a month after the sample
// estate's logs end, with a one-day limit, every server is silent.
func TestHTMLDataUpToMarksSilentServers(t *testing.T) {
	ctx := context.Background()
	db, err := openStored(t, ctx, estates[dataRecon])
	require.NoError(t, err)
	defer db.Close()
	days := 1
	lic := *db.lic
	lic.Alerts.SilentServerDays = &days
	db.lic = &lic
	db.asOf = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) // a month after the logs end
	rows, err := freshnessRows(db)
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	for _, r := range rows {
		require.True(t, r.Silent, "server %v a month after its last log", r.Server)
		require.Equal(t, "1.0 days", r.Limit)
		require.Equal(t, "[alerts] silent_server_days", strings.Join(r.Why, ""))
	}
}
