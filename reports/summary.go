package reports

import "fmt"

var summaryReport = &Report{
	Name:        "summary",
	Description: "one screen: the dataset's span, servers, sessions and users, licence holders by type, idle holders, this month's capacity against budget, anomalies",
	Flags:       []string{"idle-days"},
	Vertical:    true,
	Columns: []Column{
		{"as_of", Time, "the time the state is computed for"},
		{"mode", String, "reconstruct (from the logged CAL types) or simulate"},
		{"first_session", Time, "earliest session start in the dataset, up to the as-of time"},
		{"last_session", Time, "latest session end, up to the as-of time"},
		{"servers", Int, "distinct servers"},
		{"sessions", Int, "sessions that ended up to the as-of time"},
		{"users", Int, "distinct users (user keys)"},
		{"named_holders", Int, "named CALs held"},
		{"document_holders", Int, "document CALs held"},
		{"professional_holders", Int, "professional licences held"},
		{"analyzer_holders", Int, "analyzer licences held"},
		{"idle_days", Int, "the idle threshold (--idle-days, else the licence's [policy] idle_days, 30)"},
		{"idle_holders", Int, "licences held whose holder has been idle idle_days or more"},
		{"retired_holders", Int, "CAL-era named and document CALs retired at the conversion to a Signed License Key (not held)"},
		{"excluded_users", Int, "users the licence's exclude patterns leave out of every figure"},
		{"capacity_month", String, "the current UTC month: the month of the last instant before the as-of time"},
		{"capacity_minutes", Int, "its Analyzer Capacity minutes, every pool"},
		{"capacity_budget_minutes", Int, "its budget (empty: no licence, or no capacity use)"},
		{"capacity_forecast_minutes", Int, "its projected total at month end (see capacity's forecast_minutes)"},
		{"capacity_forecast_low_minutes", Int, "the low end of the forecast's 90% range"},
		{"capacity_forecast_high_minutes", Int, "the high end of the forecast's 90% range"},
		{"capacity_remaining_minutes", Int, "minutes left of its budget"},
		{"anomalies", Int, "anomalies found (report anomalies lists them)"},
		{"rejects", Int, "log lines ingest rejected (report rejects lists them)"},
		{"denials", Int, "sessions a simulation denied"},
	},
	build: func(p Params) (string, []any, error) {
		var b binder
		idleDays := b.bind(p.IdleDays)
		return fmt.Sprintf(`
WITH s AS (SELECT min(session_start) AS first_session, max(session_end) AS last_session, count(DISTINCT server) AS servers,
                  count(*) AS sessions, count(DISTINCT hash(user_key)) AS users FROM sessions), -- hash: see usage
h AS (SELECT count(*) FILTER (cal_type = 'named') AS named_holders, count(*) FILTER (cal_type = 'document') AS document_holders,
             count(*) FILTER (cal_type = 'professional') AS professional_holders,
             count(*) FILTER (cal_type = 'analyzer') AS analyzer_holders,
             count(*) FILTER (idle_days >= %[1]s) AS idle_holders
      FROM holders WHERE NOT revoked AND NOT retired),
c AS (SELECT clamp_int64(sum(minutes)) AS minutes, clamp_int64(sum(budget_minutes)) AS budget,
             clamp_int64(sum(forecast_minutes)) AS forecast, clamp_int64(sum(forecast_low_minutes)) AS forecast_low,
             clamp_int64(sum(forecast_high_minutes)) AS forecast_high, clamp_int64(sum(remaining_minutes)) AS remaining
      FROM (%[2]s) WHERE month = %[3]s)
SELECT getvariable('as_of') AS as_of, getvariable('mode') AS mode, first_session, last_session, servers, sessions, users,
       named_holders, document_holders, professional_holders, analyzer_holders, %[1]s::BIGINT AS idle_days, idle_holders,
       (SELECT count(*) FROM holders WHERE retired AND NOT revoked) AS retired_holders,
       (SELECT count(*) FROM excluded_users) AS excluded_users,
       %[3]s AS capacity_month, coalesce(c.minutes, 0) AS capacity_minutes, c.budget AS capacity_budget_minutes,
       c.forecast AS capacity_forecast_minutes, c.forecast_low AS capacity_forecast_low_minutes,
       c.forecast_high AS capacity_forecast_high_minutes, c.remaining AS capacity_remaining_minutes,
       (SELECT count(*) FROM anomalies) AS anomalies, (SELECT count(*) FROM rejects) AS rejects,
       (SELECT count(*) FROM denials) AS denials
FROM s, h, c`, idleDays, capacityMonthsSQL, currentMonthSQL), b.args, nil
	},
}
