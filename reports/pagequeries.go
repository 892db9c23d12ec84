package reports

// The HTML report's own queries: figures the page charts that no report in
// the registry gives. They are Reports (documented columns, bound
// parameters) kept out of the registry, so that they add nothing to the
// command line's contract and can change with the page.

import (
	"fmt"
	"strconv"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
)

// capacityDaysReport is the current month's Analyzer Capacity per UTC day,
// for the burn chart: the logged CAL Usage Count of the sessions that ended
// that day.
var capacityDaysReport = &Report{
	Name:        "capacity-days",
	Description: "Analyzer Capacity minutes per UTC day of the current month, as logged",
	Columns: []Column{
		{"day", String, "UTC day YYYY-MM-DD the sessions ended"},
		{"minutes", Int, "capacity minutes logged that day (the sum of CAL Usage Count)"},
		{"sessions", Int, "Analyzer Capacity sessions that ended that day"},
	},
	build: func(Params) (string, []any, error) {
		return `
SELECT strftime(session_end, '%Y-%m-%d') AS day, coalesce(sum(cal_usage_count), 0)::BIGINT AS minutes, count(*) AS sessions
FROM sessions
WHERE cal_class = 'analyzer_capacity' AND strftime(session_end, '%Y-%m') = ` + currentMonthSQL + `
GROUP BY day ORDER BY day`, nil, nil
	},
}

// namedWeeksReport counts the named CALs held at the end of each week of
// the dataset (Monday to Monday, the last week cut at the as-of time), and
// how many of them had been idle --idle-days or more by then. A holder
// counts from its first use until it is revoked or retired at the
// conversion to a Signed License Key; its uses are its user's
// sessions on its servers between its first and last use, so that the last
// week agrees with idle-cals. An ASOF join finds each holder's latest use
// before a week's end without comparing every week with every session.
var namedWeeksReport = &Report{
	Name:        "named-weeks",
	Description: "named CALs held at the end of each week, active and idle",
	Flags:       []string{"idle-days"},
	Columns: []Column{
		{"week", Time, "Monday 00:00 UTC starting the week"},
		{"holders", Int, "named CALs held at the week's end"},
		{"active", Int, "of them, used in the idle-days days before the week's end"},
		{"idle", Int, "of them, not used in the idle-days days before the week's end"},
	},
	build: func(p Params) (string, []any, error) {
		var b binder
		return fmt.Sprintf(`
WITH h AS (SELECT pool, user_key, servers, first_used, last_used,
                  CASE WHEN revoked THEN revoked_at WHEN retired THEN retired_at END AS revoked_at
           FROM holders WHERE cal_type = 'named'),
uses AS (SELECT h.pool, h.user_key, h.first_used, s.session_end AS used
         FROM h JOIN sessions s ON s.user_key = h.user_key AND s.session_end BETWEEN h.first_used AND h.last_used
         WHERE list_contains(h.servers, s.server)),
weeks AS (SELECT week, least(week + INTERVAL 7 DAY, getvariable('as_of')) AS week_end
          FROM (SELECT unnest(generate_series(date_trunc('week', min(session_start)),
                                              getvariable('as_of') - INTERVAL 1 MILLISECOND, INTERVAL 7 DAY)) AS week
                FROM sessions)),
held AS (SELECT w.week, w.week_end, h.pool, h.user_key, h.first_used
         FROM weeks w LEFT JOIN h ON h.first_used <= w.week_end AND (h.revoked_at IS NULL OR h.revoked_at > w.week_end))
SELECT held.week, count(held.user_key) AS holders,
       count(held.user_key) FILTER (u.used > held.week_end - to_days(%[1]s::INTEGER)) AS active,
       count(held.user_key) FILTER (u.used IS NULL OR u.used <= held.week_end - to_days(%[1]s::INTEGER)) AS idle
FROM held ASOF LEFT JOIN uses u
  ON u.pool = held.pool AND u.user_key = held.user_key AND u.first_used = held.first_used AND u.used <= held.week_end
GROUP BY held.week ORDER BY held.week`, b.bind(p.IdleDays)), b.args, nil
	},
}

// ServerSilences is every server's silence at the state's as-of time and
// the limit that applies to it (see dataset.ServerSilences): the fixed
// [alerts] silent_server_days of the state's licence, or else each
// server's own. Both the page's "data up to" and run's alerts read it, so
// that they never disagree.
func (db *DB) ServerSilences() ([]dataset.Silent, error) {
	return dataset.ServerSilences(db.dir, db.asOf, db.fixedSilence())
}

// fixedSilence is the licence's fixed silence limit, 0 without one.
func (db *DB) fixedSilence() time.Duration {
	if db.lic == nil || db.lic.Alerts.SilentServerDays == nil {
		return 0
	}
	return time.Duration(*db.lic.Alerts.SilentServerDays) * 24 * time.Hour
}

// freshnessRow is one server of the page's "data up to" table.
type freshnessRow struct {
	Server                         []string // in pieces
	UpTo, LogsGrew, Silence, Limit string
	Why                            []string // how the limit was set, in pieces
	Silent                         bool     // beyond its limit: highlighted
}

// freshnessRows are the page's "data up to" rows, one per server in name
// order: its newest session at or before the as-of time, when its logs
// last grew, how long it has been silent and what it is allowed.
func freshnessRows(db *DB) ([]freshnessRow, error) {
	silences, err := db.ServerSilences()
	if err != nil {
		return nil, fmt.Errorf("data up to: %w", err)
	}
	fixed := db.fixedSilence()
	at := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return t.UTC().Format(displayTime)
	}
	rows := make([]freshnessRow, len(silences))
	for i, s := range silences {
		why := fmt.Sprintf("its longest gap in %d weeks", dataset.SilenceHistory/(7*24*time.Hour))
		switch {
		case fixed > 0:
			why = "[alerts] silent_server_days"
		case s.LongestGap < dataset.MinSilence:
			why = fmt.Sprintf("the minimum (longest gap %s)", inDays(s.LongestGap))
		}
		rows[i] = freshnessRow{Server: pieces(display(s.Server)), UpTo: at(s.LastSessionEnd, "none in 8 weeks"),
			LogsGrew: at(s.LogsGrew, unknown), Silence: inDays(s.Silence), Limit: inDays(s.Limit), Why: pieces(why), Silent: s.Beyond()}
	}
	return rows, nil
}

// inDays is a duration in days with one decimal: "2.0 days".
func inDays(d time.Duration) string {
	return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64) + " days"
}
