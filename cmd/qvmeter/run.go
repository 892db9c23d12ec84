package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

const runUsage = `qvmeter run [--data DIR] [--license FILE] [--as-of TIME] [--out DIR] [--quiet] PATH...

The nightly job in one command: ingests what is new in the session logs
under the PATHs (see qvmeter ingest), rebuilds the licence state as of
--as-of (see qvmeter meter), and writes into --out (default
DIR/reports/<as-of date>/):

	<report>.csv, <report>.json  every report of qvmeter report (explain,
	                             per user, is left to qvmeter explain)
	index.html                   a self-contained page to open in a browser
	summary.txt                  plain text for cron to mail: the summary,
	                             the alerts and the warnings of the run

Files are replaced atomically and get 0666 less the umask (0644 under
022). CSV cells a spreadsheet would run as a formula start with a ' (see
qvmeter report --help). One line per step goes to stderr with its
duration and the path of index.html to stdout; --quiet prints one line on
stderr when the run succeeds, and errors. Written to a file or a pipe,
every line on stderr starts with an RFC 3339 time.

Exit codes, for the scheduler to alert on:

	0   all well
	1   the run failed (nothing is half-written: the dataset and the state
	    are replaced atomically), or some paths could not be read
	2   more lines were rejected than --max-reject-ratio allows (the good
	    rows are stored and the reports written)
	3   an alert the licence file's [alerts] section configures fired:
	    capacity forecast above budget, or more idle named CALs than allowed
	64  a mistake on the command line (nothing was read or written)

` + asOfHelp + `

Examples:

	qvmeter run --data /srv/qvmeter --license /etc/qvmeter/license.toml /mnt/qvs01/logs /mnt/qvs02/logs
	qvmeter run --quiet --data /srv/qvmeter --license license.toml --as-of yesterday /mnt/qvs01/logs

	# cron, 02:30 every night, mailing summary.txt when the run is not clean:
	30 2 * * *  qvmeter run --quiet --data /srv/qvmeter --license /etc/qvmeter/license.toml /mnt/qvs01/logs || mail -s qvmeter admin < /srv/qvmeter/reports/$(date -u +\%F)/summary.txt
`

// runReports are the reports qvmeter run writes: every report but explain,
// which is per user.
var runReports = reportNames()

func (c *runCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("run", c.stdout, runUsage)
	data := fs.String("data", "qvmeter-data", "data folder of the dataset, the state and the reports")
	license := fs.String("license", "", "licence file (TOML); see the README")
	asOfFlag := &asOfFlag{now: time.Now}
	fs.Var(asOfFlag, "as-of", "time the state and reports are for (see TIME below); default now")
	out := fs.String("out", "", "folder for the reports (default DIR/reports/<as-of date>)")
	server := fs.String("server", "", "server name for every file (default: from each file name)")
	maxRejects := ratioFlag(0.01)
	fs.Var(&maxRejects, "max-reject-ratio", "exit with code 2 when more than this share (0 to 1) of the lines read is rejected")
	idleDays := fs.Int("idle-days", reports.DefaultIdleDays, "a CAL unused this many days is idle")
	quiet := fs.Bool("quiet", false, "print errors, and one line when the run succeeds")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("want at least one PATH, a log file or a folder of logs")
	}
	asOf := asOfFlag.t
	if asOf.IsZero() {
		asOf = time.Now().UTC()
	}
	var lic *metering.License
	var err error
	if *license != "" {
		if lic, _, err = metering.LoadLicense(*license); err != nil {
			return err
		}
	}
	if *out == "" {
		*out = filepath.Join(*data, "reports", asOf.Format(time.DateOnly))
	}
	var steps []string
	step := stepLogger(c.stderr, *quiet, &steps)

	began := time.Now()
	started := began
	sum, err := runIngest(ctx, c.stderr, ingest.Options{Data: *data, Paths: fs.Args(), Server: *server})
	if err != nil {
		return err
	}
	step(started, "ingest", "%d new, %d grown, %d unchanged files; %d rows stored, %d duplicates, %d rejects",
		sum.FilesNew, sum.FilesGrown, sum.FilesUnchanged, sum.RowsStored, sum.Duplicates, sum.Rejects)
	ingestErr := ingestOutcome(sum, float64(maxRejects))

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
			if err := writeOutput(path, nil, false, func(w io.Writer) error { return reports.Write(w, t, format) }); err != nil {
				return err
			}
		}
	}
	index := filepath.Join(*out, "index.html")
	if err := writeOutput(index, nil, false, func(w io.Writer) error { return reports.WriteHTML(ctx, w, db, params) }); err != nil {
		return fmt.Errorf("index.html: %w", err)
	}
	step(started, "report", "%d reports, summary.txt and index.html in %s", len(runReports), *out)

	alerts := licenseAlerts(lic, tables, *idleDays)
	var warnings []error
	if ingestErr != nil {
		warnings = append(warnings, ingestErr)
	}
	outcome := runOutcome(ingestErr, alerts)
	mail := runSummary{AsOf: info.AsOf, Out: *out, Steps: steps, Summary: tables["summary"], Alerts: alerts, Warnings: warnings, Code: exitCode(outcome)}
	if err := writeOutput(filepath.Join(*out, "summary.txt"), nil, false, mail.write); err != nil {
		return fmt.Errorf("summary.txt: %w", err)
	}

	abs, _ := filepath.Abs(index)
	if !*quiet {
		fmt.Fprintln(c.stdout, abs)
	} else if outcome == nil {
		fmt.Fprintf(c.stderr, "qvmeter run: done in %s as of %s: %d rows stored, %d rejects; %d reports, summary.txt and %s\n",
			time.Since(began).Round(time.Millisecond), info.AsOf, sum.RowsStored, sum.Rejects, len(runReports), abs)
	}
	return outcome
}

// runOutcome is the error a finished run exits with: the ingest's (rejects,
// unreadable paths) before the licence's alerts (exit 3).
func runOutcome(ingestErr error, alerts []error) error {
	if ingestErr != nil {
		return ingestErr
	}
	if len(alerts) > 0 {
		return &exitError{code: 3, err: errors.Join(alerts...)}
	}
	return nil
}

// exitCode is the exit code err ends the process with.
func exitCode(err error) int {
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	}
	return 1
}

// runSummary is summary.txt: what a person reading cron's mail needs to
// know of a run, in plain text.
type runSummary struct {
	AsOf, Out        string
	Steps            []string
	Summary          *reports.Table
	Alerts, Warnings []error
	Code             int
}

func (s runSummary) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "qvmeter run as of %s: exit code %d\n\n", s.AsOf, s.Code)
	for _, section := range []struct {
		title string
		errs  []error
	}{{"Alerts", s.Alerts}, {"Warnings", s.Warnings}} {
		fmt.Fprintf(&b, "%s\n", section.title)
		if len(section.errs) == 0 {
			b.WriteString("  none\n")
		}
		for _, err := range section.errs {
			b.WriteString("  - " + strings.ReplaceAll(err.Error(), "\n", "\n    ") + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("Summary\n")
	var table strings.Builder
	if err := reports.Write(&table, s.Summary, reports.FormatTable); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(strings.TrimSuffix(table.String(), "\n"), "\n") {
		b.WriteString("  " + line)
	}
	b.WriteString("\n\nSteps\n")
	for _, step := range s.Steps {
		b.WriteString("  " + step + "\n")
	}
	fmt.Fprintf(&b, "\nThe reports (CSV, JSON) and index.html are in %s\n", s.Out)
	_, err := io.WriteString(w, b.String())
	return err
}

// stepLogger returns the function that records one line per step with its
// duration in steps, and prints it unless quiet.
func stepLogger(stderr io.Writer, quiet bool, steps *[]string) func(started time.Time, name, format string, args ...any) {
	return func(started time.Time, name, format string, args ...any) {
		line := fmt.Sprintf("%-7s %7s  %s", name, time.Since(started).Round(time.Millisecond), fmt.Sprintf(format, args...))
		*steps = append(*steps, line)
		if !quiet {
			fmt.Fprintln(stderr, line)
		}
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
