package reports

import (
	"errors"
	"fmt"
	"strings"
)

// currentMonthSQL is the UTC month the as-of time closes: the month of the
// last instant the state covers (as_of − 1 ms), so that an as-of time of
// 2024-04-01T00:00:00Z reports March as the current month.
const currentMonthSQL = `strftime(getvariable('as_of') - INTERVAL 1 MILLISECOND, '%Y-%m')`

// capacityMonthsSQL is one row per pool and UTC month of Analyzer Capacity
// with its budget figures; the current month has the forecast metering
// computed (metering/forecast.go: whole days of pace, with a range).
const capacityMonthsSQL = `
SELECT month, minutes, sessions, users, budget AS budget_minutes, over_budget AS overage_minutes,
       CASE WHEN budget IS NOT NULL THEN greatest(budget - minutes, 0) END AS remaining_minutes,
       forecast_minutes, forecast_low_minutes, forecast_high_minutes, pool
FROM months`

// userSpellingSQL is a session's user as the logs spelled it: the
// Authenticated User, else the Identifying User, else the key (anonymous
// users are keyed by their client); min() over a user's sessions picks the
// spelling metering shows (the first in sort order).
const userSpellingSQL = `coalesce(nullif(authenticated_user, ''), nullif(identifying_user, ''), user_key)`

// capacityDimensions are the --by breakdowns: the output column and the
// capacity table's column.
var capacityDimensions = map[string]string{"user": "user_key", "document": "document_key", "server": "server"}

var capacityReport = &Report{
	Name: "capacity",
	Description: "Analyzer Capacity minutes per UTC month against the budget, with the current month's forecast; " +
		"--by user|document|server breaks months down, --billed FILE (CSV month,minutes[,pool]) reconciles with the vendor's figures",
	Flags: []string{"month", "by", "billed"},
	Columns: []Column{
		{"month", String, "UTC month YYYY-MM (sessions count in the month they ended)"},
		{"user", String, "with --by user: the user as the logs spelled them"},
		{"user_key", String, "with --by user: the user key (lower case), the key column"},
		{"document", String, "with --by document: the document key"},
		{"server", String, "with --by server: the server"},
		{"minutes", Int, "capacity minutes consumed: the sum of the logged CAL Usage Count"},
		{"sessions", Int, "Analyzer Capacity sessions"},
		{"users", Int, "distinct users with capacity sessions"},
		{"missing_sessions", Int, "with --by: sessions whose CAL Usage Count was missing (not in minutes)"},
		{"share_pct", Float, "with --by: percentage of the month's minutes"},
		{"budget_minutes", Int, "capacity minutes per month from the licence (empty: no licence)"},
		{"overage_minutes", Int, "minutes beyond the budget: max(0, minutes − budget_minutes)"},
		{"remaining_minutes", Int, "minutes left: max(0, budget_minutes − minutes)"},
		{"forecast_minutes", Int, "the current month only: its projected total at month end, minutes so far + the mean of the whole days' pace × the days left (empty before [alerts] forecast_min_days days, default 7)"},
		{"forecast_low_minutes", Int, "the current month only: the low end of the forecast's 90% range"},
		{"forecast_high_minutes", Int, "the current month only: the high end of the forecast's 90% range"},
		{"billed_minutes", Int, "with --billed: the minutes the statement bills for the month"},
		{"difference", Int, "with --billed: billed_minutes − minutes (positive: billed more than the logs show)"},
		poolColumn,
	},
	build: func(p Params) (string, []any, error) {
		if err := checkMonth(p.Month); err != nil {
			return "", nil, err
		}
		var b binder
		month := b.bind(p.Month)
		switch {
		case p.By != "" && len(p.Billed) > 0:
			return "", nil, errors.New("--by and --billed do not go together: billing is per month")
		case p.By != "":
			column, err := choice("by", p.By, capacityDimensions)
			if err != nil {
				return "", nil, err
			}
			if p.By == "user" {
				// The user as the logs spelled them, the key beside it.
				return fmt.Sprintf(`
WITH names AS (SELECT user_key, min(`+userSpellingSQL+`) AS "user" FROM sessions GROUP BY user_key)
SELECT month, coalesce(any_value(n."user"), c.user_key) AS "user", c.user_key, sum(minutes)::BIGINT AS minutes,
       sum(sessions)::BIGINT AS sessions, sum(missing_count)::BIGINT AS missing_sessions,
       round(100 * sum(minutes)::DOUBLE / nullif(sum(sum(minutes)) OVER (PARTITION BY pool, month), 0), 1) AS share_pct, pool
FROM capacity c LEFT JOIN names n ON n.user_key = c.user_key WHERE %[1]s = '' OR month = %[1]s
GROUP BY pool, month, c.user_key
ORDER BY month, pool, minutes DESC, c.user_key`, month), b.args, nil
			}
			return fmt.Sprintf(`
SELECT month, %[1]s AS %[2]s, sum(minutes)::BIGINT AS minutes, sum(sessions)::BIGINT AS sessions,
       sum(missing_count)::BIGINT AS missing_sessions,
       round(100 * sum(minutes)::DOUBLE / nullif(sum(sum(minutes)) OVER (PARTITION BY pool, month), 0), 1) AS share_pct, pool
FROM capacity WHERE %[3]s = '' OR month = %[3]s
GROUP BY pool, month, %[1]s
ORDER BY month, pool, minutes DESC, %[2]s`, column, quoteIdent(p.By), month), b.args, nil
		case len(p.Billed) > 0:
			rows := make([]string, len(p.Billed))
			for i, bill := range p.Billed {
				rows[i] = fmt.Sprintf("(%s::VARCHAR, %s::BIGINT, %s::VARCHAR)", b.bind(bill.Month), b.bind(bill.Minutes), b.bind(bill.Pool))
			}
			return fmt.Sprintf(`
WITH c AS (%s), b(month, billed_minutes, pool) AS (VALUES %s)
SELECT coalesce(c.month, b.month) AS month, coalesce(c.minutes, 0) AS minutes, coalesce(c.sessions, 0) AS sessions,
       coalesce(c.users, 0) AS users, c.budget_minutes, c.overage_minutes, c.remaining_minutes, c.forecast_minutes,
       c.forecast_low_minutes, c.forecast_high_minutes,
       b.billed_minutes, b.billed_minutes - coalesce(c.minutes, 0) AS difference, coalesce(c.pool, b.pool) AS pool
FROM c FULL JOIN b ON c.month = b.month AND c.pool = b.pool
WHERE %s = '' OR coalesce(c.month, b.month) = %s
ORDER BY month, pool`, capacityMonthsSQL, strings.Join(rows, ", "), month, month), b.args, nil
		}
		return fmt.Sprintf(`SELECT * FROM (%s) WHERE %s = '' OR month = %s ORDER BY month, pool`, capacityMonthsSQL, month, month), b.args, nil
	},
}
