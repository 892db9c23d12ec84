package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

const runUsage = `qvmeter run [--data DIR] [--license FILE] [--as-of TIME] [--out DIR] [--quiet]
            [--timezone [GLOB=]ZONE]... [--rebuild] [--compact-above N] PATH...

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

Times written without an offset (QlikView 11.x) are in the server's zone:
give it with --timezone or the licence's [timezones] (see qvmeter ingest).
A server with such times and no zone is read as UTC and warned about, on
stderr and in summary.txt, on every run; --rebuild reads every log again
after a zone was given or changed.

When the licence file names the servers' own CAL state ([qms] url: the
QMS API, password from [qms] password_file or $QVMETER_QMS_PASSWORD; or
[qms] import: a CalData.pgo.xml or an export), run stores a snapshot of
it first (see qvmeter qms) and adds the reports assigned, never-used,
orphan-document-cals and leases, and their panels on the page. It never
changes anything on the servers (that is qvmeter revoke --apply).

Exit codes, for the scheduler to alert on:

	0   all well
	1   the run failed (nothing is half-written: the dataset and the state
	    are replaced atomically), or some paths could not be read
	2   more lines were rejected than --max-reject-ratio allows (the good
	    rows are stored and the reports written)
	3   an alert fired: a PATH holds no session logs at all, a server has
	    been silent longer than it usually is (its longest gap between
	    sessions over the previous eight weeks, and at least two days; the
	    licence file's [alerts] silent_server_days sets a fixed limit), or
	    an alert the licence file's [alerts] section configures: the
	    capacity forecast's low end above the budget, more idle named
	    CALs than allowed
	64  a mistake on the command line (nothing was read or written)

run holds DIR's writer lock from start to end: a second writer (ingest,
meter, run) refuses at once, naming it, or waits up to --wait. Reports run
meanwhile read the state they started with.

` + asOfHelp + `

Examples:

	qvmeter run --data /srv/qvmeter --license /etc/qvmeter/license.toml /mnt/qvs01/logs /mnt/qvs02/logs
	qvmeter run --quiet --data /srv/qvmeter --license license.toml --as-of yesterday /mnt/qvs01/logs

	# cron, 02:30 every night, mailing summary.txt when the run is not clean:
	30 2 * * *  qvmeter run --quiet --data /srv/qvmeter --license /etc/qvmeter/license.toml /mnt/qvs01/logs || mail -s qvmeter admin < /srv/qvmeter/reports/$(date -u +\%F)/summary.txt

	# an 11.x server that writes local times without an offset
	qvmeter run --timezone 'QVS-OLD-*=America/New_York' --license license.toml /mnt/qvs01/logs
	# once, after its zone was given or changed: read every log again
	qvmeter run --rebuild --timezone 'QVS-OLD-*=America/New_York' --license license.toml /mnt/qvs01/logs
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
	zones := timezoneFlag(fs)
	rebuild := rebuildFlag(fs)
	compactAbove := newCompactAboveFlag(fs)
	maxRejects := ratioFlag(0.01)
	fs.Var(&maxRejects, "max-reject-ratio", "exit with code 2 when more than this share (0 to 1) of the lines read is rejected")
	idleDays := fs.Int("idle-days", 0, "a licence unused this many days or more is idle (0: the licence's [policy] idle_days, default 30)")
	quiet := fs.Bool("quiet", false, "print errors, and one line when the run succeeds")
	wait := waitFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 && !*rebuild {
		return usageErrorf("want at least one PATH, a log file or a folder of logs (or --rebuild)")
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
		*out = filepath.Join(*data, dataset.ReportsDir, asOf.Format(time.DateOnly))
	}
	var steps []string
	step := stepLogger(c.stderr, *quiet, &steps)

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

	began := time.Now()
	started := began
	sum, err := runIngest(ctx, c.stderr, ingest.Options{Data: *data, Paths: fs.Args(), Server: *server, LockHeld: true,
		Zones: zones.Over(lic.Zones()), Rebuild: *rebuild, CompactAbove: compactAbove.option()})
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
	if n := len(sum.Compacted); n > 0 {
		upgraded += fmt.Sprintf("; compacted %d partitions (rows unchanged)", n)
	}
	step(started, "ingest", "%d new, %d grown, %d unchanged files; %d rows stored, %d duplicates, %d rejects%s",
		sum.FilesNew, sum.FilesGrown, sum.FilesUnchanged, sum.RowsStored, sum.Duplicates, sum.Rejects, upgraded)
	ingestErr := ingestOutcome(sum, float64(maxRejects))

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
			if err := writeOutput(path, nil, false, func(w io.Writer) error { return reports.Write(w, t, format) }); err != nil {
				return err
			}
		}
	}
	index := filepath.Join(*out, "index.html")
	if err := writeOutput(index, nil, false, func(w io.Writer) error { return reports.WriteHTML(ctx, w, db, params) }); err != nil {
		return fmt.Errorf("index.html: %w", err)
	}
	step(started, "report", "%d reports, summary.txt and index.html in %s", len(names), *out)

	silent, err := silentServers(db)
	if err != nil {
		return err
	}
	licensed, err := licenceAlerts(ctx, db, lic, *idleDays)
	if err != nil {
		return err
	}
	alerts = append(append(alerts, silent...), licensed...)
	var warnings []error
	if ingestErr != nil {
		warnings = append(warnings, ingestErr)
	}
	for _, w := range sum.Warnings { // offset-less times without their zone
		warnings = append(warnings, errors.New(w))
	}
	outcome := runOutcome(ingestErr, alerts)
	mail := runSummary{AsOf: st.Info.AsOf.Format(dataset.AsOfLayout), Out: *out, Steps: steps, Summary: tables["summary"], Alerts: alerts, Warnings: warnings, Code: exitCode(outcome)}
	if err := writeOutput(filepath.Join(*out, "summary.txt"), nil, false, mail.write); err != nil {
		return fmt.Errorf("summary.txt: %w", err)
	}

	abs, _ := filepath.Abs(index)
	if !*quiet {
		fmt.Fprintln(c.stdout, abs)
	} else if outcome == nil {
		fmt.Fprintf(c.stderr, "qvmeter run: done in %s as of %s: %d rows stored, %d rejects; %d reports, summary.txt and %s\n",
			time.Since(began).Round(time.Millisecond), st.Info.AsOf.Format(dataset.AsOfLayout), sum.RowsStored, sum.Rejects, len(names), abs)
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

// licenceAlerts are the licence file's [alerts] that fired, evaluated by
// the reports on the state's typed figures.
func licenceAlerts(ctx context.Context, db *reports.DB, lic *metering.License, idleDays int) ([]error, error) {
	if lic == nil {
		return nil, nil
	}
	fired, err := db.Alerts(ctx, lic.Alerts, idleDays)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(fired))
	for i, a := range fired {
		errs[i] = a
	}
	return errs, nil
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
// are, or than the licence's [alerts] silent_server_days, as of the state:
// the servers the page's "data up to" marks silent.
func silentServers(db *reports.DB) ([]error, error) {
	silences, err := db.ServerSilences()
	if err != nil {
		return nil, err
	}
	var alerts []error
	for _, s := range silences {
		if !s.Beyond() {
			continue
		}
		last := "none in eight weeks"
		if !s.LastSessionEnd.IsZero() {
			last = s.LastSessionEnd.Format(time.RFC3339)
		}
		alerts = append(alerts, fmt.Errorf("alert: server %s has been silent %s (last session ended %s; allowed %s): are its logs still collected?",
			s.Server, days(s.Silence), last, days(s.Limit)))
	}
	return alerts, nil
}

// days prints a duration in days with one decimal.
func days(d time.Duration) string {
	return fmt.Sprintf("%.1f days", d.Hours()/24)
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
