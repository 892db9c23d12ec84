package reports

// Reports over the server's own CAL state (the QMS snapshots qvmeter qms
// pull or import stores under DIR/qms/) joined with the logs: who holds a
// licence the logs never saw used, document CALs on documents gone from
// the logs, licence leases. A licence's use in the logs is a session of
// its user (for a document CAL, on its document) ending at or before the
// as-of time; a QMS document (its path relative to the server's document
// folder) matches the logs' documents whose document_key is it or ends
// with /it.

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/qvmeter/qvmeter/qms"
)

func init() {
	registry = append(registry, assignedReport, neverUsedReport, orphanDocumentCALsReport, leasesReport)
}

// openQMS adds the views of the QMS snapshots: qms_cals (the latest
// snapshot) and qms_history (every snapshot), empty with their columns
// when there is none, and the variable qms_snapshot (the latest's date,
// ” when none).
func (db *DB) openQMS(ctx context.Context, dataDir string) error {
	all, err := qms.Snapshots(dataDir)
	if err != nil {
		return err
	}
	var files []string
	for _, s := range all {
		files = append(files, s.Path)
	}
	latest, date := files, ""
	if len(all) > 0 {
		latest, date = files[len(files)-1:], all[len(all)-1].Date
	} else {
		if files, err = emptyFile(db, "qms.parquet", []qms.Record{}); err != nil {
			return err
		}
		latest = files
	}
	if err := db.exec(ctx, "SET VARIABLE qms_snapshot = $1::VARCHAR", date); err != nil {
		return err
	}
	if err := db.view(ctx, "qms_history", files, ""); err != nil {
		return fmt.Errorf("QMS snapshots under %s: %w", filepath.Join(dataDir, qms.Dir), err)
	}
	return db.view(ctx, "qms_cals", latest, "")
}

// QMSSnapshot is the date (YYYY-MM-DD) of the latest QMS snapshot the DB
// reads, "" when there is none.
func (db *DB) QMSSnapshot(ctx context.Context) (string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var date string
	err := db.conn.QueryRowContext(ctx, "SELECT getvariable('qms_snapshot')").Scan(&date)
	return date, err
}

// assignedSQL is every named and document CAL the latest snapshot shows
// assigned (not removed), with its uses in the logs. idle_since is the
// later of the two last uses; for a CAL never used anywhere, the first
// snapshot showing it when an earlier snapshot did not (it was assigned
// then), else null: assigned before the first snapshot, never used.
const assignedSQL = `
WITH q AS (SELECT * FROM qms_cals WHERE cal_type IN ('named', 'document') AND NOT removed),
first_snapshot AS (SELECT min(taken_at) AS taken_at FROM qms_history),
seen AS (SELECT server, cal_type, user_key, document_key, min(taken_at) AS first_seen
         FROM qms_history WHERE cal_type IN ('named', 'document') AND NOT removed GROUP BY ALL),
logs AS (SELECT q.server, q.cal_type, q.user_key, q.document_key, max(s.session_end) AS log_last_used,
                count(s.session_end) AS log_sessions, arg_max(s.exe_version, s.session_end) AS exe_version
         FROM q LEFT JOIN sessions s ON s.user_key = q.user_key AND (q.cal_type = 'named'
              OR s.document_key = q.document_key OR ends_with(s.document_key, '/' || q.document_key))
         GROUP BY ALL),
joined AS (
  SELECT q.server, q.cal_type, q."user", q.document, q.document_deleted, q.last_used AS qms_last_used,
         l.log_last_used, l.log_sessions, l.exe_version, seen.first_seen,
         greatest(q.last_used, l.log_last_used) AS last_used,
         coalesce(greatest(q.last_used, l.log_last_used),
                  CASE WHEN seen.first_seen > (SELECT taken_at FROM first_snapshot) THEN seen.first_seen END) AS idle_since,
         q.user_key, q.document_key, q.server_id, q.document_id, q.taken_at
  FROM q JOIN logs l USING (server, cal_type, user_key, document_key)
         LEFT JOIN seen USING (server, cal_type, user_key, document_key))
SELECT server, cal_type, "user", document, document_deleted, qms_last_used, log_last_used, log_sessions, last_used,
       idle_since, floor((epoch_ms(getvariable('as_of')) - epoch_ms(idle_since)) / 86400000)::BIGINT AS idle_days,
       CASE
         WHEN qms_last_used IS NULL AND log_last_used IS NULL THEN ''
         WHEN log_last_used IS NULL THEN 'the QMS shows a use the logs do not have: logs missing'
         WHEN qms_last_used IS NULL THEN 'the logs show a use the QMS does not'
         WHEN qms_last_used > log_last_used + INTERVAL 1 DAY THEN
           'the QMS last use is ' || date_diff('day', log_last_used, qms_last_used) || ' days after the logs'': logs missing'
         WHEN log_last_used > qms_last_used + INTERVAL 1 DAY THEN
           'the logs'' last use is ' || date_diff('day', qms_last_used, log_last_used) || ' days after the QMS''s'
         ELSE '' END AS disagreement,
       exe_version, server_id, document_id, strftime(taken_at, '%Y-%m-%d') AS snapshot
FROM joined`

// assignedColumns are the columns of assigned (and the revoke plan's
// source).
var assignedColumns = []Column{
	{"server", String, "QlikView Server the QMS names"},
	{"cal_type", String, "named or document"},
	{"user", String, "the holder as the QMS spells it (DOMAIN\\user)"},
	{"document", String, "document CALs: the document as the QMS names it (relative to its document folder)"},
	{"document_deleted", Bool, "the QMS lists the document as an orphan: its file is gone"},
	{"qms_last_used", Time, "last use the QMS records; null: never"},
	{"log_last_used", Time, "end of the holder's latest session in the logs (on the document, for document CALs); null: none"},
	{"log_sessions", Int, "sessions of the holder in the logs (on the document, for document CALs)"},
	{"last_used", Time, "the later of qms_last_used and log_last_used"},
	{"idle_since", Time, "last_used, or for a CAL never used the first snapshot showing it assigned; null: never used and assigned before the first snapshot"},
	{"idle_days", Int, "whole days from idle_since to the as-of time; null when idle_since is"},
	{"disagreement", String, "why the QMS and the logs disagree on the last use (more than a day apart), empty when they agree: a QMS use the logs lack means logs are missing"},
	{"exe_version", String, "Exe Version of the holder's latest session (decides an auto quarantine); empty: none logged"},
	{"server_id", String, "the server's ID in the QMS"},
	{"document_id", String, "the document's ID in the QMS"},
	{"snapshot", String, "date (UTC) of the QMS snapshot"},
}

var assignedReport = &Report{
	Name: "assigned",
	Description: "every named and document CAL the latest QMS snapshot (qvmeter qms pull or import) shows assigned, " +
		"with its last use in the QMS and in the logs; they should agree, and a disagreement means logs are missing",
	Columns: assignedColumns,
	build: func(Params) (string, []any, error) {
		return assignedSQL + `
ORDER BY server, cal_type, lower("user"), lower(document)`, nil, nil
	},
}

var neverUsedReport = &Report{
	Name:        "never-used",
	Description: "named and document CALs assigned in the latest QMS snapshot whose holder has no session in the logs (on the document, for document CALs)",
	Columns: []Column{
		{"server", String, "QlikView Server the QMS names"},
		{"cal_type", String, "named or document"},
		{"user", String, "the holder as the QMS spells it"},
		{"document", String, "document CALs: the document"},
		{"qms_last_used", Time, "last use the QMS records; null: never (a QMS use means logs are missing)"},
		{"idle_since", Time, "as in assigned"},
		{"idle_days", Int, "as in assigned"},
		{"snapshot", String, "date (UTC) of the QMS snapshot"},
	},
	build: func(Params) (string, []any, error) {
		return `
SELECT server, cal_type, "user", document, qms_last_used, idle_since, idle_days, snapshot
FROM (` + assignedSQL + `)
WHERE log_sessions = 0
ORDER BY server, cal_type, lower("user"), lower(document)`, nil, nil
	},
}

var orphanDocumentCALsReport = &Report{
	Name: "orphan-document-cals",
	Description: "document CALs of the latest QMS snapshot on a document the QMS lists as deleted, that no session in the logs opened, " +
		"or that none opened in the last --idle-days days",
	Flags: []string{"idle-days"},
	Columns: []Column{
		{"server", String, "QlikView Server the QMS names"},
		{"document", String, "the document as the QMS names it"},
		{"user", String, "the holder of the document CAL"},
		{"document_deleted", Bool, "the QMS lists the document as an orphan: its file is gone"},
		{"document_last_seen", Time, "end of the latest session on the document in the logs, by anyone; null: none"},
		{"days_unseen", Int, "whole days from document_last_seen to the as-of time; null when never seen"},
		{"reason", String, "deleted, never in the logs, or not in the logs for days_unseen days"},
		{"snapshot", String, "date (UTC) of the QMS snapshot"},
	},
	build: func(p Params) (string, []any, error) {
		var b binder
		return fmt.Sprintf(`
WITH q AS (SELECT * FROM qms_cals WHERE cal_type = 'document' AND NOT removed),
docs AS (SELECT DISTINCT server, document_key FROM q),
logged AS (SELECT document_key, max(session_end) AS last_seen FROM sessions GROUP BY document_key),
seen AS (SELECT d.server, d.document_key, max(l.last_seen) AS last_seen
         FROM docs d LEFT JOIN logged l ON l.document_key = d.document_key OR ends_with(l.document_key, '/' || d.document_key)
         GROUP BY ALL),
rows AS (
  SELECT q.server, q.document, q."user", q.document_deleted, seen.last_seen AS document_last_seen,
         floor((epoch_ms(getvariable('as_of')) - epoch_ms(seen.last_seen)) / 86400000)::BIGINT AS days_unseen,
         strftime(q.taken_at, '%%Y-%%m-%%d') AS snapshot
  FROM q JOIN seen USING (server, document_key))
SELECT server, document, "user", document_deleted, document_last_seen, days_unseen,
       CASE WHEN document_deleted THEN 'deleted' WHEN document_last_seen IS NULL THEN 'never in the logs'
            ELSE 'not in the logs for ' || days_unseen || ' days' END AS reason, snapshot
FROM rows
WHERE document_deleted OR document_last_seen IS NULL OR days_unseen >= %s
ORDER BY server, lower(document), lower("user")`, b.bind(p.IdleDays)), b.args, nil
	},
}

// leaseWindowDays is the window in which a user may lease to at most two
// machines (7 days on current servers, 24 hours before) [doc].
const leaseWindowDays = 7

var leasesReport = &Report{
	Name: "leases",
	Description: fmt.Sprintf("licence leases (QlikView Desktop borrowing the user's named CAL) in the latest QMS snapshot: "+
		"valid %d days from when they were taken; a user may lease to at most 2 machines in %d days", qms.LeaseDays, leaseWindowDays),
	Columns: []Column{
		{"server", String, "QlikView Server the QMS names"},
		{"user", String, "the user whose named CAL is leased"},
		{"machine", String, "the machine holding the lease"},
		{"leased_at", Time, "when the lease was taken (or last renewed)"},
		{"expires_at", Time, fmt.Sprintf("leased_at + %d days", qms.LeaseDays)},
		{"expired", Bool, "expires_at is at or before the as-of time"},
		{"machines_in_window", Int, fmt.Sprintf("distinct machines the user leased to in the %d days up to leased_at (more than 2: the oldest lost its lease)", leaseWindowDays)},
		{"machines", Int, "distinct machines holding a lease of the user in the snapshot"},
		{"snapshot", String, "date (UTC) of the QMS snapshot"},
	},
	build: func(Params) (string, []any, error) {
		return fmt.Sprintf(`
WITH l AS (SELECT * FROM qms_cals WHERE cal_type = 'lease')
SELECT l.server, l."user", l.machine, l.leased_at, l.leased_at + INTERVAL %[1]d DAY AS expires_at,
       l.leased_at + INTERVAL %[1]d DAY <= getvariable('as_of') AS expired,
       (SELECT count(DISTINCT lower(o.machine)) FROM l o
        WHERE o.server = l.server AND o.user_key = l.user_key AND o.leased_at > l.leased_at - INTERVAL %[2]d DAY AND o.leased_at <= l.leased_at) AS machines_in_window,
       (SELECT count(DISTINCT lower(o.machine)) FROM l o WHERE o.server = l.server AND o.user_key = l.user_key) AS machines,
       strftime(l.taken_at, '%%Y-%%m-%%d') AS snapshot
FROM l
ORDER BY l.server, lower(l."user"), l.leased_at, l.machine`, qms.LeaseDays, leaseWindowDays), nil, nil
	},
}

// qmsPanels are the page's panels over the latest QMS snapshot.
type qmsPanels struct {
	Snapshot                             string
	NeverUsed, Disagree, Orphans, Leases listing
}

// maxQMSRows caps each QMS panel; the command under it lists every row.
const maxQMSRows = 200

// buildQMSPanels runs the QMS reports for the page; nil when there is no
// snapshot.
func buildQMSPanels(ctx context.Context, db *DB, p Params) (*qmsPanels, error) {
	snapshot, err := db.QMSSnapshot(ctx)
	if err != nil || snapshot == "" {
		return nil, err
	}
	pn := &qmsPanels{Snapshot: snapshot}
	never, err := db.run(ctx, neverUsedReport, p)
	if err != nil {
		return nil, err
	}
	pn.NeverUsed = list(never, maxQMSRows, "qvmeter report never-used", "server", "cal_type", "user", "document", "qms_last_used", "idle_days")
	assigned, err := db.run(ctx, assignedReport, p)
	if err != nil {
		return nil, err
	}
	disagree := &Table{Report: assigned.Report, Columns: assigned.Columns}
	for i, r := range records(assigned) {
		if r.str("disagreement") != "" {
			disagree.Rows = append(disagree.Rows, assigned.Rows[i])
		}
	}
	pn.Disagree = list(disagree, maxQMSRows, "qvmeter report assigned", "server", "cal_type", "user", "document", "qms_last_used", "log_last_used", "disagreement")
	orphans, err := db.run(ctx, orphanDocumentCALsReport, p)
	if err != nil {
		return nil, err
	}
	pn.Orphans = list(orphans, maxQMSRows, "qvmeter report orphan-document-cals", "server", "document", "user", "document_last_seen", "reason")
	leases, err := db.run(ctx, leasesReport, p)
	if err != nil {
		return nil, err
	}
	pn.Leases = list(leases, maxQMSRows, "qvmeter report leases", "server", "user", "machine", "leased_at", "expires_at", "expired", "machines_in_window")
	return pn, nil
}
