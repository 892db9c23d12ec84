package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

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

Exit codes, for the scheduler to alert on:

	0  all well
	1  the run failed (nothing is half-written: the dataset and the state
	   are replaced atomically), or some paths could not be read
	2  more lines were rejected than --max-reject-ratio allows (the good
	   rows are stored and the reports written)
	3  an alert the licence file's [alerts] section configures fired:
	   capacity forecast above budget, or more idle named CALs than allowed

Example (cron, 02:30 every night):

	30 2 * * *  qvmeter run --data /srv/qvmeter --license /etc/qvmeter/license.toml /mnt/qvs01/logs /mnt/qvs02/logs
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
	zoneFlags := fs.StringArray("timezone", nil, "zone of the offset-less times of the servers GLOB matches, as `[GLOB=]ZONE` (an IANA name; GLOB case-insensitive; no GLOB: every other server); repeatable, wins over the licence's [timezones]")
	rebuild := fs.Bool("rebuild", false, "read every log again into a new dataset version before metering (see qvmeter ingest --help)")
	maxRejects := fs.Float64("max-reject-ratio", 0.01, "exit with code 2 when more than this share of the lines read is rejected")
	idleDays := fs.Int("idle-days", reports.DefaultIdleDays, "a CAL unused this many days is idle")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
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
	var table map[string]string
	if lic != nil {
		table = lic.TimeZones
	}
	zones, err := serverZones(c.stderr, *zoneFlags, *license, table)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(*data, "reports", asOf.Format(time.DateOnly))
	}
	step := stepLogger(c.stderr, *quiet)

	started := time.Now()
	sum, err := runIngest(ctx, c.stderr, ingest.Options{Data: *data, Paths: fs.Args(), Server: *server, Zones: zones, Rebuild: *rebuild})
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

	started = time.Now()
	info, recomputed, err := reports.EnsureState(ctx, *data, reports.StateOptions{AsOf: asOf, License: *license, ComputedBy: version()})
	if err != nil {
		return fmt.Errorf("metering: %w", err)
	}
	how := "up to date"
	if recomputed {
		how = fmt.Sprintf("%d sessions replayed", info.Sessions)
	}
	step(started, "meter", "%s as of %s (%s)", info.Mode, info.AsOf, how)

	started = time.Now()
	db, err := reports.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	params := reports.DefaultParams()
	params.IdleDays = *idleDays
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	tables := map[string]*reports.Table{}
	for _, name := range runReports {
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
	step(started, "report", "%d reports and index.html in %s", len(runReports), *out)

	if !*quiet {
		abs, _ := filepath.Abs(index)
		fmt.Fprintln(c.stdout, abs)
	}
	if ingestErr != nil {
		return ingestErr
	}
	if alerts := licenseAlerts(lic, tables, *idleDays); len(alerts) > 0 {
		return &exitError{code: 3, err: errors.Join(alerts...)}
	}
	return nil
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
