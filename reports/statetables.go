package reports

import "fmt"

// Reports that read one state table (or the rejects) as they are.

// tableReport is a report without parameters: its SQL as it stands.
func tableReport(name, description, query string, columns ...Column) *Report {
	return &Report{Name: name, Description: description, Columns: columns,
		build: func(Params) (string, []any, error) { return query, nil, nil }}
}

var concurrencyReport = tableReport("concurrency",
	"Session CAL peak per UTC day: the most client instances holding a session CAL at once, when, and the pool size", `
SELECT day, peak, peak_at, licensed AS pool_size, clients, peak > licensed AS over_pool, pool
FROM concurrency ORDER BY day, pool`,
	Column{"day", String, "UTC day YYYY-MM-DD"},
	Column{"peak", Int, "most client instances holding a session CAL at once (each held ≥ 15 minutes)"},
	Column{"peak_at", Time, "first time the peak was reached that day"},
	Column{"pool_size", Int, "session CALs licensed (empty: no licence)"},
	Column{"clients", Int, "distinct client instances that day"},
	Column{"over_pool", Bool, "peak > pool_size"},
	poolColumn)

var usageCALsReport = tableReport("usage-cals",
	"Usage CAL consumption and availability per UTC day; at_zero days are probable denials", `
SELECT day, consumed, available, at_zero, pool FROM usage_cals ORDER BY day, pool`,
	Column{"day", String, "UTC day YYYY-MM-DD"},
	Column{"consumed", Int, "usage CALs consumed (one per started hour of a session)"},
	Column{"available", Float, "usage CALs available at the end of the day after recharge (empty: no licence)"},
	Column{"at_zero", Bool, "available ≤ 0 at the end of the day"},
	poolColumn)

var denialsReport = tableReport("denials",
	"sessions a simulation (qvmeter meter --simulate) could not license, with the reason", `
SELECT at, "user", document_key AS document, server, reason, logged_cal_type, source_file, source_line, pool
FROM denials ORDER BY at, user_key, source_file, source_line, pool`,
	Column{"at", Time, "session start"},
	Column{"user", String, "the user as the logs spelled them"},
	Column{"document", String, "document key"},
	Column{"server", String, "server"},
	Column{"reason", String, "no_cal_free, capacity_exhausted or no_licence"},
	Column{"logged_cal_type", String, "the CAL class the server actually logged"},
	Column{"source_file", String, "log file of the session"},
	Column{"source_line", Int, "line of the session in source_file"},
	poolColumn)

var anomaliesReport = tableReport("anomalies",
	"what a correct server on the licence could not have logged, or an administrator should look at", `
SELECT kind, cal_type, month, day, at, "user", document_key AS document, server, observed, "limit", detail,
       source_file, source_line, pool
FROM anomalies ORDER BY kind, pool, at NULLS FIRST, month, day, user_key, document_key, server, source_file, source_line`,
	Column{"kind", String, "pool_exceeded, named_and_document, unknown_cal_type, over_budget, capacity_count, spans_month, document_allocation, unlisted_server, late_session, cal_type_outside_era, no_pool_sizes, usage_count_mismatch, implausible_value (a line whose times or count cannot be real, in no figure), sum_saturated (a sum held at the 64-bit limit) or client_without_id (session-CAL lines without a client id, keyed on user, address and type)"},
	Column{"cal_type", String, "licence type concerned, if any"},
	Column{"month", String, "UTC month concerned, if any"},
	Column{"day", String, "UTC day concerned, if any"},
	Column{"at", Time, "time concerned, if any"},
	Column{"user", String, "user concerned, if any"},
	Column{"document", String, "document key concerned, if any"},
	Column{"server", String, "server concerned, if any"},
	Column{"observed", Int, "the figure seen (holders, minutes, count …)"},
	Column{"limit", Int, "the figure it was compared with (pool size, budget, bound …)"},
	Column{"detail", String, "explanation"},
	Column{"source_file", String, "log file of the line behind it, if one"},
	Column{"source_line", Int, "line in source_file (0: none)"},
	poolColumn)

var rejectsReport = &Report{
	Name:        "rejects",
	Description: "log lines ingest could not place, by file and line (--summary: counts by reason; --quality: what it read leniently per server, as report data-quality)",
	Flags:       []string{"summary", "quality"},
	Columns: []Column{
		{"source_file", String, "log file"},
		{"source_line", Int, "line number in source_file"},
		{"server", String, "server the log belongs to"},
		{"reason", String, "why the line was rejected"},
		{"column", String, "the log column at fault, if one"},
		{"message", String, "the parser's message"},
		{"raw", String, "the line as it was read"},
		{"lines", Int, "with --summary: rejected lines for the reason"},
		{"files", Int, "with --summary: files with such lines"},
		{"kind", String, "with --quality: the lenient reading (see report data-quality)"},
		{"count", Int, "with --quality: how many times the decoder read so"},
		{"detail", String, "with --quality: the zone used, or the unknown column names"},
	},
	build: func(p Params) (string, []any, error) {
		switch {
		case p.Summary && p.Quality:
			return "", nil, fmt.Errorf("--summary and --quality: choose one")
		case p.Quality:
			return dataQualitySQL, nil, nil
		}
		if p.Summary {
			return `SELECT reason, count(*) AS lines, count(DISTINCT source_file) AS files FROM rejects GROUP BY reason ORDER BY lines DESC, reason`, nil, nil
		}
		return `SELECT source_file, source_line, server, reason, "column", message, raw FROM rejects ORDER BY source_file, source_line, "column", reason`, nil, nil
	},
}
