// Package reports answers the questions people ask of the licence state, in
// the form they need them: a revoke list an administrator can act on today,
// a month-end Analyzer Capacity figure billing can put next to the invoice,
// usage tables to paste into a review, and CSV, JSON or Parquet for other
// jobs.
//
// Every report is SQL run by an embedded DuckDB over the sessions dataset
// (DIR/sessions, written by ingest) and the state tables (DIR/state, written
// by metering). The reports live in one registry (Reports, Lookup): each
// has a name, a description, its documented columns — a contract other jobs
// parse, so columns are added, never renamed — the parameters it reads, and
// the SQL that computes it. One runner (DB.Run) turns any of them into a
// typed Table, and one writer per format (Write) prints it.
//
// Every value a user passes (a month, a user name, a billed figure, a file
// path) reaches DuckDB as a bound parameter, never spliced into SQL text.
//
// A report is only as good as the state it reads: EnsureState returns the
// stored DIR/state when it fits (dataset.StateInfo.Fits), and otherwise
// computes a state — private to the report, in a temporary folder, unless
// the caller holds the writer lock and asks to store it — when the stored
// one is missing, torn, computed from another dataset version, for another
// as-of time or from another licence file.
//
// Typical use:
//
//	st, _, err := reports.EnsureState(ctx, dir, reports.StateOptions{AsOf: asOf})
//	defer st.Close()
//	db, err := reports.Open(ctx, dir, st)
//	defer db.Close()
//	t, err := db.Run(ctx, "idle-cals", reports.DefaultParams())
//	err = reports.Write(os.Stdout, t, reports.FormatCSV)
package reports
