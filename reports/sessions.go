package reports

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
)

// usagePeriods are usage's --by periods: the expression that truncates
// session_end to the period, and the format of the period's name.
var usagePeriods = map[string]string{"day": "session_end::DATE", "month": "date_trunc('month', session_end)"}

var periodFormats = map[string]string{"day": "%Y-%m-%d", "month": "%Y-%m"}

// usageDimensions are usage's optional --by breakdowns.
var usageDimensions = map[string]string{"user": "user_key", "document": "document_key", "server": "server"}

// monthFilterSQL keeps the sessions that ended in the UTC month the bound
// parameter names (YYYY-MM), all of them when it is empty, none when it is
// not a month.
func monthFilterSQL(month string) string {
	start := fmt.Sprintf("try_strptime(%s || '-01', '%%Y-%%m-%%d')", month)
	return fmt.Sprintf("(%[1]s = '' OR (session_end >= %[2]s AND session_end < %[2]s + INTERVAL 1 MONTH))", month, start)
}

var usageReport = &Report{
	Name:        "usage",
	Description: "sessions, distinct users, total and median duration per UTC day or month (--by day|month[,user|document|server])",
	Flags:       []string{"by", "month"},
	Columns: []Column{
		{"day", String, "with --by day: the UTC day YYYY-MM-DD the sessions ended"},
		{"month", String, "with --by month (the default): the UTC month YYYY-MM the sessions ended"},
		{"user", String, "with --by …,user: the user as the logs spelled them"},
		{"user_key", String, "with --by …,user: the user key (lower case), the key column"},
		{"document", String, "with --by …,document: the document key"},
		{"server", String, "with --by …,server: the server"},
		{"sessions", Int, "sessions that ended in the period, up to the as-of time"},
		{"users", Int, "distinct users (user keys)"},
		{"total_minutes", Float, "total session duration in minutes, to 0.1"},
		{"median_minutes", Float, "median session duration in minutes, to 0.1"},
	},
	// Users are counted, and rows grouped, by the 64-bit hash of the key
	// rather than the string: 2.5 times faster, and two of the estate's keys
	// would have to collide (odds about 1e-11 for 20,000 users) to be off.
	build: func(p Params) (string, []any, error) {
		if err := checkMonth(p.Month); err != nil {
			return "", nil, err
		}
		by := strings.Split(cmp.Or(p.By, "month"), ",")
		if len(by) > 2 {
			return "", nil, fmt.Errorf("--by %q: want day|month, optionally followed by ,user ,document or ,server", p.By)
		}
		period, err := choice("by", by[0], usagePeriods)
		if err != nil {
			return "", nil, err
		}
		inner, keys, groups, order := []string{period + " AS period"}, []string{fmt.Sprintf("strftime(period, '%s') AS %s", periodFormats[by[0]], by[0])}, "period", "period"
		if len(by) == 2 {
			dimension, err := choice("by", by[1], usageDimensions)
			if err != nil {
				return "", nil, err
			}
			name := quoteIdent(by[1])
			inner = append(inner, fmt.Sprintf("%s AS dimension", dimension))
			if by[1] == "user" {
				// The user as the logs spelled them, the key beside it.
				inner = append(inner, userSpellingSQL+" AS spelling")
				keys = append(keys, `min(spelling) AS "user"`, "any_value(dimension) AS user_key")
				name = "user_key" // rows in key order: a spelling need not be unique
			} else {
				keys = append(keys, fmt.Sprintf("any_value(dimension) AS %s", name))
			}
			groups, order = "period, hash(dimension)", "period, "+name
		}
		var b binder
		return fmt.Sprintf(`
SELECT %s, count(*) AS sessions, count(DISTINCT hash(user_key)) AS users,
       round(sum(duration_ms)::DOUBLE / 60000, 1) AS total_minutes,
       round(median(duration_ms)::DOUBLE / 60000, 1) AS median_minutes
FROM (SELECT %s, user_key, duration_ms FROM sessions WHERE %s)
GROUP BY %s ORDER BY %s`, strings.Join(keys, ", "), strings.Join(inner, ", "), monthFilterSQL(b.bind(p.Month)), groups, order), b.args, nil
	},
}

var explainReport = &Report{
	Name: "explain",
	Description: "one user's story (qvmeter explain USER): sessions by month, licences held, last use per server, " +
		"capacity minutes by month, each row traceable to the log line behind it; for a user the licence's exclude " +
		"patterns leave out, one excluded row naming the pattern instead",
	Flags: []string{"user"},
	Columns: []Column{
		{"section", String, "month (sessions by month), licence (a licence held), server (use per server), capacity (capacity minutes by month), or excluded (the user is left out of every figure)"},
		{"period", String, "month and capacity rows: the UTC month YYYY-MM"},
		{"cal_type", String, "licence rows: named, document, professional or analyzer"},
		{"document", String, "licence rows of document CALs: the document key"},
		{"server", String, "server rows: the server"},
		{"sessions", Int, "sessions (licence rows: under the licence; capacity rows: capacity sessions)"},
		{"duration_minutes", Float, "month and server rows: total session duration in minutes, to 0.1"},
		{"capacity_minutes", Int, "capacity rows: capacity minutes consumed; licence rows: null"},
		{"first_used", Time, "earliest session start (licence rows: first use, a session end)"},
		{"last_used", Time, "latest session end"},
		{"source", String, "source_file:source_line of the latest session behind the row"},
		{"excluded_by", String, "excluded row: the licence's exclude pattern that leaves the user out"},
	},
	build: func(p Params) (string, []any, error) {
		if p.User == "" {
			return "", nil, errors.New("explain needs a user")
		}
		var b binder
		// The parser folds user keys with Go's lower-casing: fold alike.
		user := b.bind(strings.ToLower(p.User))
		return fmt.Sprintf(`
WITH s AS MATERIALIZED (SELECT session_start, session_end, duration_ms, server, document_key, cal_class, source_file, source_line
                        FROM sessions WHERE user_key = %[1]s),
h AS (SELECT * FROM holders WHERE user_key = %[1]s AND NOT retired),
story AS (
  SELECT 1 AS part, 'month' AS section, strftime(session_end, '%%Y-%%m') AS period, NULL AS cal_type, NULL AS document,
         NULL AS server, count(*) AS sessions, round(sum(duration_ms)::DOUBLE / 60000, 1) AS duration_minutes,
         NULL::BIGINT AS capacity_minutes, min(session_start) AS first_used, max(session_end) AS last_used,
         arg_max(concat(source_file, ':', source_line), (session_end, source_file, source_line)) AS source
  FROM s GROUP BY period
  UNION ALL
  SELECT 2, 'licence', NULL, h.cal_type, nullif(h.document_key, ''), NULL, h.sessions, NULL, NULL, h.first_used, h.last_used,
         (SELECT min(concat(s.source_file, ':', s.source_line)) FROM s
          WHERE s.session_end = h.last_used AND (h.cal_type <> 'document' OR s.document_key = h.document_key))
  FROM h WHERE NOT h.revoked
  UNION ALL
  SELECT 3, 'server', NULL, NULL, NULL, server, count(*), round(sum(duration_ms)::DOUBLE / 60000, 1), NULL,
         min(session_start), max(session_end), arg_max(concat(source_file, ':', source_line), (session_end, source_file, source_line))
  FROM s GROUP BY server
  UNION ALL
  SELECT 4, 'capacity', c.month, NULL, NULL, NULL, c.sessions, NULL, c.minutes, s.first_used, s.last_used, s.source
  FROM (SELECT month, sum(sessions)::BIGINT AS sessions, sum(minutes)::BIGINT AS minutes FROM capacity
        WHERE user_key = %[1]s GROUP BY month) c
  LEFT JOIN (SELECT strftime(session_end, '%%Y-%%m') AS period, min(session_start) AS first_used, max(session_end) AS last_used,
                    arg_max(concat(source_file, ':', source_line), (session_end, source_file, source_line)) AS source
             FROM s WHERE cal_class = 'analyzer_capacity' GROUP BY period) s ON s.period = c.month
)
SELECT section, period, cal_type, document, server, sessions, duration_minutes, capacity_minutes, first_used, last_used, source, excluded_by
FROM (SELECT *, NULL::VARCHAR AS excluded_by FROM story
      UNION ALL
      SELECT 0, 'excluded', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pattern FROM excluded_users WHERE user_key = %[1]s)
ORDER BY part, period, cal_type, document, server`, user), b.args, nil
	},
}
