package reports

import (
	"errors"
	"fmt"
)

// calTypes are the licence types a holder can hold, as --cal-type values.
var calTypes = map[string]string{"": "", "named": "named", "document": "document", "professional": "professional", "analyzer": "analyzer"}

var idleCALs = &Report{
	Name: "idle-cals",
	Description: "the named, document, professional or analyzer licences held at the as-of time and idle --idle-days " +
		"(default: the licence's [policy] idle_days, 30) or more, most idle first: the revoke list (--format qmc prints them " +
		"as the DOMAIN\\user;DOMAIN\\user list the QMC accepts); --all lists every holder, idle or not; --retired lists instead " +
		"the CAL-era holders retired at the conversion to a Signed License Key, with their last use",
	Flags: []string{"idle-days", "all", "only-idle", "retired", "cal-type"},
	Columns: []Column{
		{"cal_type", String, "named, document, professional or analyzer"},
		{"user", String, "the user as the logs first spelled them (DOMAIN\\user)"},
		{"document", String, "document key (lower-case path with /) for document CALs, empty otherwise"},
		{"first_used", Time, "end of the first session under the licence"},
		{"last_used", Time, "end of the latest session under the licence"},
		{"idle_days", Int, "whole days from last_used to the as-of time, rounded down"},
		{"sessions", Int, "sessions under the licence"},
		{"quarantine_days", Float, "quarantine after removal, in days (7, or 1 before QlikView 11.20 SR18)"},
		{"frees_at", Time, "when the licence is free if removed at the as-of time: max(as_of, last_used + quarantine)"},
		{"idle", Bool, "idle_days ≥ the idle threshold (--idle-days, else the licence's [policy] idle_days, 30)"},
		{"retired_at", Time, "with --retired: when the CAL licence was converted (converted_at); the holder is no longer held"},
		poolColumn,
	},
	build: func(p Params) (string, []any, error) {
		calType, err := choice("cal-type", p.CALType, calTypes)
		if err != nil {
			return "", nil, err
		}
		if p.Retired && (p.All || p.OnlyIdle) {
			return "", nil, errors.New("--retired lists the retired holders: it does not go with --all or --only-idle")
		}
		var b binder
		if p.Retired {
			return fmt.Sprintf(`
SELECT cal_type, "user", document_key AS document, first_used, last_used, idle_days, sessions, retired_at, pool
FROM holders
WHERE retired AND NOT revoked AND (%[1]s = '' OR cal_type = %[1]s)
ORDER BY last_used, cal_type, user_key, document_key, pool`, b.bind(calType)), b.args, nil
		}
		idleDays := b.bind(p.IdleDays)
		query := fmt.Sprintf(`
SELECT cal_type, "user", document_key AS document, first_used, last_used, idle_days, sessions,
       quarantine_ms::DOUBLE / 86400000 AS quarantine_days, frees_at, idle_days >= %[1]s AS idle, pool
FROM holders
WHERE NOT revoked AND NOT retired AND (%[2]s = '' OR cal_type = %[2]s) AND (%[3]s OR idle_days >= %[1]s)
ORDER BY idle_days DESC, cal_type, user_key, document_key, pool`, idleDays, b.bind(calType), b.bind(p.All))
		return query, b.args, nil
	},
}

var doubleCALs = &Report{
	Name:        "double-cals",
	Description: "users holding a named CAL and document CALs as well (one of them is wasted), one row per document",
	Columns: []Column{
		{"user", String, "the user as the logs first spelled them"},
		{"named_first_used", Time, "first use of the named CAL"},
		{"named_last_used", Time, "last use of the named CAL"},
		{"document", String, "document key of the document CAL also held"},
		{"document_first_used", Time, "first use of the document CAL"},
		{"document_last_used", Time, "last use of the document CAL"},
		{"document_sessions", Int, "sessions under the document CAL"},
		poolColumn,
	},
	build: func(Params) (string, []any, error) {
		return `
SELECT n."user", n.first_used AS named_first_used, n.last_used AS named_last_used, d.document_key AS document,
       d.first_used AS document_first_used, d.last_used AS document_last_used, d.sessions AS document_sessions, n.pool
FROM holders n JOIN holders d ON d.pool = n.pool AND d.user_key = n.user_key AND d.cal_type = 'document' AND NOT d.revoked AND NOT d.retired
WHERE n.cal_type = 'named' AND NOT n.revoked AND NOT n.retired
ORDER BY n.user_key, d.document_key, n.pool`, nil, nil
	},
}
