package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/qvmeter/qvmeter/reports"
)

func init() {
	register("run", func(stdout, stderr io.Writer) command { return &runCommand{stdout: stdout, stderr: stderr} })
}

type runCommand struct{ stdout, stderr io.Writer }

func (c *runCommand) Synopsis() string {
	return "the nightly job: ingest, meter, and write every report and index.html"
}

const runUsage = `qvmeter run [--data DIR] [--license FILE] [--as-of TIME] [--out DIR] [--timezone [GLOB=]ZONE]... PATH...

The nightly job in one command: ingests what is new in the session logs
under the PATHs (see qvmeter ingest), rebuilds the licence state as of
--as-of (see qvmeter meter), and writes every report as CSV and JSON, plus
index.html, a self-contained page to open in a browser, into --out
(default DIR/reports/<as-of date>/). One line per step goes to stderr with
its duration; --quiet silences them (warnings, such as a server whose
times have no offset and no zone, are said on stderr on every run).
The servers' zones come from --timezone and the licence's [timezones].

When the licence file names the servers' own CAL state ([qms] url: the
QMS API, password from [qms] password_file or $QVMETER_QMS_PASSWORD; or
[qms] import: a CalData.pgo.xml or an export), run stores a snapshot of
it first (see qvmeter qms) and adds the reports assigned, never-used,
orphan-document-cals and leases, and their panels on the page. It never
changes anything on the servers (that is qvmeter revoke --apply).

Exit codes, for the scheduler to alert on:

	0  all well
	1  the run failed (nothing is half-written: the dataset and the state
	   are replaced atomically), or some paths could not be read
	2  more lines were rejected than --max-reject-ratio allows (the good
	   rows are stored and the reports written)
	3  an alert fired: a PATH holds no session logs at all, a server has
	   been silent longer than it usually is (its longest gap between
	   sessions over the previous eight weeks, and at least two days; the
	   licence file's [alerts] silent_server_days sets a fixed limit), or
	   an alert the licence file's [alerts] section configures: capacity
	   forecast above budget, more idle named CALs than allowed

run holds DIR's writer lock from start to end: a second writer (ingest,
meter, run) refuses at once, naming it, or waits up to --wait. Reports run
meanwhile read the state they started with.

Examples:

	# cron, 02:30 every night
	30 2 * * *  qvmeter run --data /srv/qvmeter --license /etc/qvmeter/license.toml /mnt/qvs01/logs /mnt/qvs02/logs
	# an 11.x server that writes local times without an offset
	qvmeter run --timezone 'QVS-OLD-*=America/New_York' --license license.toml /mnt/qvs01/logs
	# once, after a zone was given or changed: read every log again
	qvmeter run --rebuild --timezone 'QVS-OLD-*=America/New_York' --license license.toml /mnt/qvs01/logs
`

// runReports are the reports qvmeter run writes, with the parameters they
// are written with. explain is per user and is left to the command line.
var runReports = []string{"summary", "idle-cals", "capacity", "usage", "concurrency", "usage-cals", "double-cals", "denials", "rejects"}

func (c *runCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("run", c.stderr, runUsage)
	data := fs.String("data", "qvmeter-data", "data folder of the dataset, the state and the reports")
	license := fs.String("license", "", "licence file (TOML); see the README")
	asOfText := fs.String("as-of", "", "time the state and reports are for: RFC 3339 or YYYY-MM-DD (00:00 UTC); default now")
	out := fs.String("out", "", "folder for the reports (default DIR/reports/<as-of date>)")
	server := fs.String("server", "", "server name for every file (default: from each file name)")
	zones := timezoneFlag(fs)
	rebuild := rebuildFlag(fs)
	maxRejects := fs.Float64("max-reject-ratio", 0.01, "exit with code 2 when more than this share of the lines read is rejected")
	idleDays := fs.Int("idle-days", reports.DefaultIdleDays, "a CAL unused this many days is idle")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	wait := waitFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 && !*rebuild {
		fs.Usage()
		return errUsage
	}
	asOf, err := parseAsOf(*asOfText, time.Now())
	if err != nil {
		return err
	}
	var lic *metering.License
	if *license != "" {
		if lic, _, err = metering.LoadLicense(*license); err != nil {
			return err
		}
	}
	if *out == "" {
		*out = filepath.Join(*data, dataset.ReportsDir, asOf.Format(time.DateOnly))
	}
	step := stepLogger(c.stderr, *quiet)

	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	unlock, err := dataset.Lock(ctx, *data, *wait)
	if err != nil {
		return err
	}
	defer unlock()

	var alerts []error
	for _, path := range fs.Args() {
		if n, err := countSessionLogs(path); err == nil && n == 0 {
			alerts = append(alerts, fmt.Errorf("alert: %s holds no session logs (Sessions*.log): is the share mounted, is it the right folder?", path))
		}
	}
	if files, err := dataset.ListFiles(*data); len(alerts) == len(fs.Args()) && (err != nil || len(files.Months) == 0) {
		return &exitError{code: 3, err: errors.Join(alerts...)} // nothing to meter
	}

	started := time.Now()
	sum, err := runIngest(ctx, c.stderr, ingest.Options{Data: *data, Paths: fs.Args(), Server: *server, LockHeld: true,
		Zones: zones.Over(lic.Zones()), Rebuild: *rebuild})
	if err != nil {
		return err
	}
	var upgraded string
	if r := sum.Rekeyed; r != nil {
		upgraded = fmt.Sprintf("; re-keyed the stored sessions to key version %d (%d rows kept, %d stored twice dropped)", r.ToVersion, r.Rows, r.Duplicates)
	}
	if r := sum.Rebuilt; r != nil {
		upgraded = fmt.Sprintf("; rebuilt from every log, replacing version %d (%d rows; %d rows of %d logs no longer on disk kept)", r.PreviousVersion, r.PreviousRows, r.KeptRows, len(r.Missing))
	}
	step(started, "ingest", "%d new, %d grown, %d unchanged files; %d rows stored, %d duplicates, %d rejects%s",
		sum.FilesNew, sum.FilesGrown, sum.FilesUnchanged, sum.RowsStored, sum.Duplicates, sum.Rejects, upgraded)
	ingestErr := ingestOutcome(sum, *maxRejects)

	if lic != nil && (lic.QMS.URL != "" || lic.QMS.Import != "") { // qms.go: the servers' own CAL state
		started = time.Now()
		stored, err := refreshQMS(ctx, c.stderr, lic.QMS, *data, time.Now().UTC())
		if err != nil {
			return fmt.Errorf("qms: %w", err)
		}
		step(started, "qms", "%s", stored)
	}

	started = time.Now()
	st, recomputed, err := reports.EnsureState(ctx, *data, reports.StateOptions{AsOf: asOf, License: *license, ComputedBy: version(), Store: true})
	if err != nil {
		return fmt.Errorf("metering: %w", err)
	}
	defer st.Close()
	how := "up to date"
	if recomputed {
		how = fmt.Sprintf("%d sessions replayed", st.Info.Sessions)
	}
	step(started, "meter", "%s as of %s (%s)", st.Info.Mode, st.Info.AsOf.Format(dataset.AsOfLayout), how)

	started = time.Now()
	db, err := reports.Open(ctx, *data, st)
	if err != nil {
		return err
	}
	defer db.Close()
	params := reports.DefaultParams()
	params.IdleDays = *idleDays
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	names := runReports
	if snapshot, err := db.QMSSnapshot(ctx); err != nil {
		return err
	} else if snapshot != "" {
		names = append(slices.Clone(runReports), qmsReports...)
	}
	tables := map[string]*reports.Table{}
	for _, name := range names {
		t, err := db.Run(ctx, name, params)
		if err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
		tables[name] = t
		for _, format := range []string{reports.FormatCSV, reports.FormatJSON} {
			path := filepath.Join(*out, name+"."+format)
			if err := writeFileAtomic(path, func(w io.Writer) error { return reports.Write(w, t, format) }); err != nil {
				return err
			}
		}
	}
	index := filepath.Join(*out, "index.html")
	if err := writeFileAtomic(index, func(w io.Writer) error { return reports.WriteHTML(ctx, w, db, params) }); err != nil {
		return fmt.Errorf("index.html: %w", err)
	}
	step(started, "report", "%d reports and index.html in %s", len(names), *out)

	if !*quiet {
		abs, _ := filepath.Abs(index)
		fmt.Fprintln(c.stdout, abs)
	}
	if ingestErr != nil {
		return ingestErr
	}
	silent, err := silentServers(*data, st.Info.AsOf, lic)
	if err != nil {
		return err
	}
	alerts = append(append(alerts, silent...), licenseAlerts(lic, tables, *idleDays)...)
	if len(alerts) > 0 {
		return &exitError{code: 3, err: errors.Join(alerts...)}
	}
	return nil
}

// countSessionLogs counts the session logs a PATH of run yields.
func countSessionLogs(path string) (int, error) {
	n := 0
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && ingest.IsSessionLog(d.Name()) {
			n++
		}
		return err
	})
	return n, err
}

// silentServers are the alerts for servers silent longer than they usually
// are, or than the licence's [alerts] silent_server_days.
func silentServers(data string, asOf time.Time, lic *metering.License) ([]error, error) {
	var fixed time.Duration
	if lic != nil && lic.Alerts.SilentServerDays != nil {
		fixed = time.Duration(*lic.Alerts.SilentServerDays) * 24 * time.Hour
	}
	silent, err := dataset.SilentServers(data, asOf, fixed)
	if err != nil {
		return nil, err
	}
	alerts := make([]error, len(silent))
	for i, s := range silent {
		last := "none in eight weeks"
		if !s.LastSessionEnd.IsZero() {
			last = s.LastSessionEnd.Format(time.RFC3339)
		}
		alerts[i] = fmt.Errorf("alert: server %s has been silent %s (last session ended %s; allowed %s): are its logs still collected?",
			s.Server, days(s.Silence), last, days(s.Limit))
	}
	return alerts, nil
}

// days prints a duration in days with one decimal.
func days(d time.Duration) string {
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

// stepLogger returns the function that prints one line per step with its
// duration, or nothing with --quiet.
func stepLogger(stderr io.Writer, quiet bool) func(started time.Time, name, format string, args ...any) {
	return func(started time.Time, name, format string, args ...any) {
		if quiet {
			return
		}
		fmt.Fprintf(stderr, "%-7s %7s  %s\n", name, time.Since(started).Round(time.Millisecond), fmt.Sprintf(format, args...))
	}
}

// licenseAlerts evaluates the licence file's [alerts] against the reports.
func licenseAlerts(lic *metering.License, tables map[string]*reports.Table, idleDays int) []error {
	if lic == nil {
		return nil
	}
	var alerts []error
	if lic.Alerts.CapacityForecastOverBudget {
		capacity := tables["capacity"]
		for _, row := range capacity.Rows {
			forecast, okF := cell(capacity, row, "forecast_minutes").(int64)
			budget, okB := cell(capacity, row, "budget_minutes").(int64)
			if okF && okB && forecast > budget {
				alerts = append(alerts, fmt.Errorf("alert: the Analyzer Capacity forecast for %v is %d minutes, above the budget of %d",
					cell(capacity, row, "month"), forecast, budget))
			}
		}
	}
	if limit := lic.Alerts.MaxIdleNamed; limit != nil {
		threshold := int64(lic.Alerts.IdleDays)
		if threshold == 0 {
			threshold = int64(idleDays)
		}
		holders, idle := tables["idle-cals"], 0
		for _, row := range holders.Rows {
			days, ok := cell(holders, row, "idle_days").(int64)
			if ok && cell(holders, row, "cal_type") == "named" && days >= threshold {
				idle++
			}
		}
		if idle > *limit {
			alerts = append(alerts, fmt.Errorf("alert: %d named CALs have been idle %d days or more, more than the %d allowed", idle, threshold, *limit))
		}
	}
	return alerts
}

// cell returns a row's value of the named column (nil if there is none).
func cell(t *reports.Table, row []any, column string) any {
	for i, c := range t.Columns {
		if c.Name == column {
			return row[i]
		}
	}
	return nil
}
