package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/marcboeker/go-duckdb" // registers the "duckdb" driver
	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
)

// DB is an embedded DuckDB with one view per table of a data folder:
//
//   - sessions: the dataset's committed session files, ended at or before
//     the state's as-of time, without the accounts the licence's exclude
//     patterns leave out of every figure and without the rows whose
//     values cannot be real (implausible not null: metering set them
//     aside as implausible_value anomalies) — the one place reports apply
//     both, as the state tables were replayed without them;
//   - excluded_users: user_key and the pattern that excludes it;
//   - rejects: the lines ingest could not place;
//   - data_quality: what ingest read leniently, per server (quality.go);
//   - holders, capacity, months, concurrency, usage_cals, anomalies,
//     denials: the state tables.
//
// Times are plain TIMESTAMPs in UTC. The connection also holds the variables
// as_of (TIMESTAMP) and mode (reconstruct or simulate) from state.json, and
// the macro clamp_int64 (sums.go).
// A DB runs one report at a time.
type DB struct {
	db   *sql.DB
	mu   sync.Mutex
	conn *sql.Conn
	tmp  string
	info dataset.StateInfo
	asOf time.Time
	// lic is the licence the state was metered with (nil: none): its
	// exclude patterns and its idle threshold.
	lic *metering.License
	dir string // the data folder, for reports that replay the dataset (advice)
}

// stateViews are the state tables as views, by file name.
var stateViews = []struct{ view, file string }{
	{"holders", metering.HoldersTable},
	{"capacity", metering.CapacityTable},
	{"months", metering.MonthsTable},
	{"concurrency", metering.ConcurrencyTable},
	{"usage_cals", metering.UsageTable},
	{"anomalies", metering.AnomaliesTable},
	{"denials", metering.DenialsTable},
}

// Open opens the dataset under dataDir and the state st for reporting (see
// EnsureState); the state is read as it is, and must stay open while the DB
// is used.
func Open(ctx context.Context, dataDir string, st *dataset.State) (*DB, error) {
	files, err := dataset.ListFiles(dataDir)
	if err != nil {
		return nil, err
	}
	info := st.Info
	var lic *metering.License
	if info.LicenseFile != "" {
		var sum string
		if lic, sum, err = metering.LoadLicense(info.LicenseFile); err != nil {
			return nil, fmt.Errorf("the state's licence file: %w (run qvmeter meter again)", err)
		}
		if sum != info.LicenseSHA256 {
			return nil, fmt.Errorf("the licence file %s changed since the state was computed (run qvmeter meter again)", info.LicenseFile)
		}
	}
	db := &DB{info: info, asOf: info.AsOf.UTC(), lic: lic, dir: dataDir}
	if err := db.open(ctx, st.Dir, files.SessionFiles(), files.Rejects); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, stateDir string, sessions, rejects []string) error {
	var err error
	if db.db, err = sql.Open("duckdb", ""); err != nil {
		return err
	}
	if db.conn, err = db.db.Conn(ctx); err != nil {
		return err
	}
	// Never reach for the network: an extension DuckDB would download is an
	// error here, not a silent dependency.
	if err := db.exec(ctx, "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false"); err != nil {
		return err
	}
	if err := db.exec(ctx, "SET VARIABLE as_of = $1::TIMESTAMP", db.asOf); err != nil {
		return err
	}
	if err := db.exec(ctx, "SET VARIABLE mode = $1::VARCHAR", db.info.Mode.String()); err != nil {
		return err
	}
	if err := db.exec(ctx, clampInt64Macro); err != nil {
		return err
	}
	// An empty file of today's schema first: files written before a column
	// was added read as null there (read with union_by_name, see view).
	current, err := emptyFile(db, "sessions.parquet", []dataset.SessionRow{})
	if err != nil {
		return err
	}
	sessions = append(current, sessions...)
	if err := db.excludedUsers(ctx, sessions); err != nil {
		return err
	}
	if err := db.view(ctx, "sessions", sessions, "session_end <= getvariable('as_of') AND implausible IS NULL AND user_key NOT IN (SELECT user_key FROM excluded_users)"); err != nil {
		return err
	}
	if len(rejects) == 0 {
		if rejects, err = emptyFile(db, "rejects.parquet", []dataset.RejectRow{}); err != nil {
			return err
		}
	}
	if err := db.view(ctx, "rejects", rejects, ""); err != nil {
		return err
	}
	for _, s := range stateViews {
		path := filepath.Join(stateDir, s.file)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("state table %s: %w (run qvmeter meter again)", s.file, err)
		}
		if err := db.view(ctx, s.view, []string{path}, ""); err != nil {
			return err
		}
	}
	if err := db.openDataQuality(ctx, db.dir); err != nil { // quality.go: the catalog's lenient readings
		return err
	}
	return db.openQMS(ctx, db.dir) // qms.go: the QMS snapshots
}

// view creates the view name over the Parquet files, with every
// TIMESTAMP WITH TIME ZONE column turned into a TIMESTAMP (UTC: no time
// zone extension is loaded) and rows kept where the condition holds. The
// file list is bound as a parameter through a variable: a table function's
// arguments cannot be prepared directly. The session files are matched by
// column name, as those written by an older version lack later columns.
func (db *DB) view(ctx context.Context, name string, files []string, where string) error {
	list := make([]string, len(files))
	args := make([]any, len(files))
	for i, f := range files {
		list[i], args[i] = fmt.Sprintf("$%d", i+1), f
	}
	variable := name + "_files"
	if err := db.exec(ctx, fmt.Sprintf("SET VARIABLE %s = list_value(%s)", variable, strings.Join(list, ", ")), args...); err != nil {
		return err
	}
	raw := name + "_raw"
	if err := db.exec(ctx, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet(getvariable('%s'), hive_partitioning = false, union_by_name = %t)", raw, variable, name == "sessions")); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	rows, err := db.conn.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE "+raw+") WHERE column_type = 'TIMESTAMP WITH TIME ZONE'")
	if err != nil {
		return err
	}
	var casts []string
	for rows.Next() {
		var column string
		if err := rows.Scan(&column); err != nil {
			rows.Close()
			return err
		}
		casts = append(casts, fmt.Sprintf("%s::TIMESTAMP AS %s", quoteIdent(column), quoteIdent(column)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	query := "SELECT * FROM " + raw
	if len(casts) > 0 {
		query = fmt.Sprintf("SELECT * REPLACE (%s) FROM %s", strings.Join(casts, ", "), raw)
	}
	if where != "" {
		query = fmt.Sprintf("SELECT * FROM (%s) WHERE %s", query, where)
	}
	return db.exec(ctx, fmt.Sprintf("CREATE VIEW %s AS %s", name, query))
}

// excludedUsers fills the table excluded_users with every user key of the
// session files that the licence's exclude patterns match, and the pattern:
// the patterns are matched by metering's rule, the one the replay applied.
func (db *DB) excludedUsers(ctx context.Context, files []string) error {
	if err := db.exec(ctx, "CREATE TEMP TABLE excluded_users (user_key VARCHAR PRIMARY KEY, pattern VARCHAR)"); err != nil {
		return err
	}
	if db.lic == nil || len(db.lic.Exclude) == 0 {
		return nil
	}
	list := make([]string, len(files))
	args := make([]any, len(files))
	for i, f := range files {
		list[i], args[i] = fmt.Sprintf("$%d", i+1), f
	}
	rows, err := db.conn.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT user_key FROM read_parquet([%s], hive_partitioning = false)", strings.Join(list, ", ")), args...)
	if err != nil {
		return err
	}
	var keys, patterns []any
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			rows.Close()
			return err
		}
		if pattern, ok := db.lic.ExcludedBy(key); ok {
			keys, patterns = append(keys, key), append(patterns, pattern)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range keys {
		if err := db.exec(ctx, "INSERT INTO excluded_users VALUES ($1, $2)", keys[i], patterns[i]); err != nil {
			return err
		}
	}
	return nil
}

// IdleDays is the idle threshold of the state's licence ([policy]
// idle_days), or the default without one: what Params.IdleDays = 0 means.
func (db *DB) IdleDays() int {
	if db.lic != nil {
		return db.lic.Policy.IdleDays
	}
	return DefaultIdleDays
}

// quoteIdent quotes a column name read from our own Parquet files.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// emptyFile writes an empty Parquet file with the schema of rows, for a
// table that has no file yet, so that its view still has its columns.
func emptyFile[T any](db *DB, name string, rows []T) ([]string, error) {
	if db.tmp == "" {
		var err error
		if db.tmp, err = os.MkdirTemp("", "qvmeter-reports-"); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(db.tmp, name)
	return []string{path}, parquet.WriteFile(path, rows)
}

func (db *DB) exec(ctx context.Context, query string, args ...any) error {
	_, err := db.conn.ExecContext(ctx, query, args...)
	return err
}

// Info is the state.json of the state the DB reads.
func (db *DB) Info() dataset.StateInfo { return db.info }

// AsOf is the state's as-of time.
func (db *DB) AsOf() time.Time { return db.asOf }

// Run runs the named report with p.
func (db *DB) Run(ctx context.Context, name string, p Params) (*Table, error) {
	r, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no report %q (reports: %s)", name, strings.Join(Names(), ", "))
	}
	return db.run(ctx, r, p)
}

// run runs a report, registered or one of the page's own (pagequeries.go).
func (db *DB) run(ctx context.Context, r *Report, p Params) (*Table, error) {
	if p.IdleDays == 0 {
		p.IdleDays = db.IdleDays()
	}
	if r.compute != nil {
		return r.compute(ctx, db, p)
	}
	query, args, err := r.build(p)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	rows, err := db.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", r.Name, err)
	}
	defer rows.Close()
	return scanTable(rows, r)
}

// Close releases DuckDB and removes temporary files.
func (db *DB) Close() error {
	var errs []error
	if db.conn != nil {
		errs = append(errs, db.conn.Close())
	}
	if db.db != nil {
		errs = append(errs, db.db.Close())
	}
	if db.tmp != "" {
		errs = append(errs, os.RemoveAll(db.tmp))
	}
	return errors.Join(errs...)
}
