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

	"github.com/spf13/pflag"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/reports"
)

func init() {
	register("report", func(stdout, stderr io.Writer) command { return &reportCommand{stdout: stdout, stderr: stderr} })
}

type reportCommand struct{ stdout, stderr io.Writer }

func (c *reportCommand) Synopsis() string {
	return "print a report (idle-cals, capacity, usage, summary …) as a table, CSV, JSON or Parquet"
}

const reportUsage = `qvmeter report NAME [--data DIR] [--as-of TIME] [--format FORMAT] [--output FILE] [report flags]

Runs one report over the sessions dataset and the licence state under DIR
and prints it (table on a terminal, CSV otherwise) or writes it to FILE.
If the state is missing, older than the dataset, for another --as-of time
or another --license, it is recomputed first. Times are UTC: RFC 3339 in
CSV and JSON, "2006-01-02 15:04" in the table format, which also cuts long
values and shows invisible characters as <U+200B> (CSV and JSON carry them
whole).
`

// outputRules is the help's account of --format, --output and CSV cells,
// shared by report and explain.
const outputRules = `
FORMAT is table, csv, json or parquet (qmc too for idle-cals), in any case.
Without --format, FILE's extension decides (.csv, .json, .parquet; .txt is
the table format); a --format the extension contradicts, or an extension
qvmeter does not write (.xlsx), is refused. Parquet is not written to a
terminal. FILE "-" is standard output; a device or named pipe (/dev/null,
/dev/stdout, a FIFO) is written to as it is; a regular file is replaced
atomically and keeps its mode (a new one gets 0666 less the umask); a
symbolic link or other special file is refused unless --replace.

CSV cells that a spreadsheet would run as a formula (starting with =, +,
-, @, a tab or a carriage return) are written with a leading ' so that
they stay text; --csv-raw writes them as they are. JSON and Parquet carry
every value exactly.
`

const reportExamples = `
Examples:

	qvmeter report idle-cals --data /srv/qvmeter --format table
	qvmeter report idle-cals --only-idle --cal-type named --format qmc
	qvmeter report capacity --month 2024-03 --by user --output capacity-2024-03.csv
	qvmeter report summary --as-of yesterday
	qvmeter report anomalies --help
`

// reportFlags are the flags of qvmeter report and qvmeter explain that say
// where the data is, which state to read and how to print.
type reportFlags struct {
	data, license, format, output string
	asOf                          asOfFlag
	replace, csvRaw               bool
}

// commonReportFlags are the names addReportFlags defines.
var commonReportFlags = []string{"help", "data", "as-of", "license", "format", "output", "replace", "csv-raw"}

func addReportFlags(fs *pflag.FlagSet) *reportFlags {
	f := &reportFlags{asOf: asOfFlag{now: time.Now}}
	fs.StringVar(&f.data, "data", "qvmeter-data", "data folder `DIR` holding the sessions dataset and the state")
	fs.Var(&f.asOf, "as-of", "time the report is for (see TIME); default the state's, or now if it must be recomputed")
	fs.StringVar(&f.license, "license", "", "licence `FILE` to meter with if the state is recomputed; default the one the state recorded")
	fs.StringVar(&f.format, "format", "", "`FORMAT`: table, csv, json or parquet; default from --output's extension, else table on a terminal and csv otherwise")
	fs.StringVarP(&f.output, "output", "o", "", "write to `FILE` (\"-\": standard output) instead of standard output")
	fs.BoolVar(&f.replace, "replace", false, "replace a symbolic link or special file at --output by a regular file instead of refusing")
	fs.BoolVar(&f.csvRaw, "csv-raw", false, "write CSV cells as they are, even those a spreadsheet would run as a formula")
	return f
}

// formats are the formats report r can be written in: qmc needs the idle
// users.
func formats(r *reports.Report) []string {
	out := []string{reports.FormatTable, reports.FormatCSV, reports.FormatJSON, reports.FormatParquet}
	if slices.ContainsFunc(r.Columns, func(c reports.Column) bool { return c.Name == "idle" }) &&
		slices.ContainsFunc(r.Columns, func(c reports.Column) bool { return c.Name == "user" }) {
		out = append(out, reports.FormatQMC)
	}
	return out
}

// reportNames are the reports qvmeter report runs (explain has its own
// command).
func reportNames() []string {
	return slices.DeleteFunc(reports.Names(), func(n string) bool { return n == "explain" })
}

func (c *reportCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("report", c.stdout, "")
	common := addReportFlags(fs)
	p := reports.DefaultParams()
	fs.IntVar(&p.IdleDays, "idle-days", p.IdleDays, "a licence unused this many `DAYS` or more is idle (0: the licence's [policy] idle_days, default 30)")
	fs.BoolVar(&p.All, "all", false, "list every holder, idle or not")
	fs.BoolVar(&p.OnlyIdle, "only-idle", false, "list the idle holders only (the default; kept for scripts)")
	fs.BoolVar(&p.Retired, "retired", false, "list the CAL-era holders retired at the conversion, with their last use")
	fs.StringVar(&p.CALType, "cal-type", "", "keep one licence `TYPE`: named, document, professional or analyzer")
	fs.StringVar(&p.By, "by", "", "break down `BY`; capacity: user, document or server; usage: day or month, optionally ,user ,document or ,server")
	fs.StringVar(&p.Month, "month", "", "keep one UTC month (`YYYY-MM`)")
	billed := fs.String("billed", "", "`FILE`: CSV of month,minutes[,pool] from the vendor's statement, for reconciliation")
	fs.BoolVar(&p.Summary, "summary", false, "count by reason")
	fs.BoolVar(&p.Quality, "quality", false, "list what ingest read leniently per server instead (as report data-quality)")
	fs.IntVar(&p.Months, "months", p.Months, "full UTC `MONTHS` before the as-of time to weigh")
	fs.IntVar(&p.RareDays, "rare-days", p.RareDays, "a named CAL used on at most this many `DAYS` in every month is used rarely")
	fs.StringVar(&p.WriteLicense, "write-license", "", "write the what-if licence to `FILE` as TOML, ready for qvmeter meter in simulate mode")
	err := fs.Parse(args)
	var r *reports.Report
	if fs.NArg() > 0 {
		r, _ = reports.Lookup(strings.ToLower(fs.Arg(0)))
	}
	if help, _ := fs.GetBool("help"); help {
		if r == nil || r.Name == "explain" {
			c.printHelp(fs)
		} else {
			c.printReportHelp(fs, r)
		}
		return errHelp
	}
	if err != nil {
		return flagError(fs, err)
	}
	switch {
	case fs.NArg() == 0:
		return usageErrorf("want a report name: %s", strings.Join(reportNames(), ", "))
	case fs.NArg() > 1:
		return usageErrorf("want one report name, got %q", fs.Args())
	case r != nil && r.Name == "explain":
		return usageErrorf("explain is its own command: qvmeter explain USER")
	case r == nil:
		return usageErrorf("no report %q%s; the reports: %s", fs.Arg(0), didYouMean(fs.Arg(0), reportNames()), strings.Join(reportNames(), ", "))
	}
	var misplaced []string
	fs.Visit(func(f *pflag.Flag) {
		if !slices.Contains(commonReportFlags, f.Name) && !r.Accepts(f.Name) {
			misplaced = append(misplaced, "--"+f.Name)
		}
	})
	if len(misplaced) > 0 {
		return usageErrorf("%s does not take %s (see qvmeter report %s --help)", r.Name, strings.Join(misplaced, ", "), r.Name)
	}
	// The reports' keywords are lower case: any case is read (a mistake
	// comes back as a reports.ChoiceError).
	p.CALType, p.By = strings.ToLower(p.CALType), strings.ToLower(p.By)
	if *billed != "" {
		f, err := os.Open(*billed)
		if err != nil {
			return err
		}
		p.Billed, err = reports.ReadBilled(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--billed %s: %w", *billed, err)
		}
	}
	return runReport(ctx, c.stdout, c.stderr, r, p, common)
}

// printHelp is qvmeter report --help: the reports one line each, the
// common flags, examples.
func (c *reportCommand) printHelp(fs *pflag.FlagSet) {
	fmt.Fprint(c.stdout, reportUsage)
	fmt.Fprint(c.stdout, "\nReports (qvmeter report NAME --help shows one with its columns and flags):\n\n")
	for _, name := range reportNames() {
		r, _ := reports.Lookup(name)
		fmt.Fprintf(c.stdout, "  %-12s %s\n", r.Name, firstClause(r.Description, 64))
	}
	fmt.Fprint(c.stdout, "\nFlags:\n")
	printFlags(c.stdout, fs, commonReportFlags)
	fmt.Fprint(c.stdout, "\n"+asOfHelp+"\n"+outputRules+reportExamples)
}

// printReportHelp is qvmeter report NAME --help: what r answers, its
// flags (the common ones and its own) and its columns.
func (c *reportCommand) printReportHelp(fs *pflag.FlagSet, r *reports.Report) {
	fmt.Fprintf(c.stdout, "qvmeter report %s [--data DIR] [--as-of TIME] [--format FORMAT] [--output FILE]", r.Name)
	var own []string
	fs.VisitAll(func(f *pflag.Flag) {
		if r.Accepts(f.Name) {
			own = append(own, f.Name)
			if value, _ := pflag.UnquoteUsage(f); value != "" {
				fmt.Fprintf(c.stdout, " [--%s %s]", f.Name, strings.ToUpper(value))
			} else {
				fmt.Fprintf(c.stdout, " [--%s]", f.Name)
			}
		}
	})
	fmt.Fprintf(c.stdout, "\n\n%s.\n\nFlags:\n", reports.Wrap(capitalize(r.Description), 76, ""))
	fs.Lookup("format").Usage = "`FORMAT`: " + strings.Join(formats(r), ", ") + "; default from --output's extension, else table on a terminal and csv otherwise"
	printFlags(c.stdout, fs, append(slices.Clone(commonReportFlags), own...))
	fmt.Fprint(c.stdout, "\nColumns (their names are a contract):\n\n")
	width := 0
	for _, col := range r.Columns {
		width = max(width, len(col.Name))
	}
	for _, col := range r.Columns {
		fmt.Fprintf(c.stdout, "  %-*s  %-7s  %s\n", width, col.Name, col.Kind, col.Doc)
	}
	fmt.Fprintf(c.stdout, "\nExamples:\n\n\tqvmeter report %s --data /srv/qvmeter --format table\n\tqvmeter report %s --data /srv/qvmeter --output %s.csv\n", r.Name, r.Name, r.Name)
}

// printFlags prints the help of the named flags of fs, in fs's order.
func printFlags(w io.Writer, fs *pflag.FlagSet, names []string) {
	shown := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	shown.SortFlags = false
	fs.VisitAll(func(f *pflag.Flag) {
		if slices.Contains(names, f.Name) {
			shown.AddFlag(f)
		}
	})
	shown.SetOutput(w)
	shown.PrintDefaults()
}

// firstClause is a description up to its first :, ; or ( (unless that leaves
// a few words only), cut to at most width bytes at a word.
func firstClause(s string, width int) string {
	for _, sep := range []string{":", ";", " ("} {
		if i := strings.Index(s, sep); i >= 24 {
			s = s[:i]
		}
	}
	if len(s) <= width {
		return s
	}
	cut := strings.LastIndexByte(s[:width-1], ' ')
	return s[:cut] + " …"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// runReport brings the state up to date, runs the report and writes it.
func runReport(ctx context.Context, stdout, stderr io.Writer, r *reports.Report, p reports.Params, flags *reportFlags) error {
	format, err := outputFormat(flags.format, flags.output, formats(r), stdout)
	if err != nil {
		return err
	}
	if err := parameterError(r.Check(p)); err != nil {
		return err
	}
	toStdout := flags.output == "" || flags.output == "-"
	if toStdout && format == reports.FormatParquet && isTerminal(stdout) {
		return errBinaryOnTerminal
	}
	st, recomputed, err := reports.EnsureState(ctx, flags.data, reports.StateOptions{AsOf: flags.asOf.t, License: flags.license, ComputedBy: version()})
	if err != nil {
		return err
	}
	defer st.Close()
	if recomputed {
		fmt.Fprintf(stderr, "qvmeter report: state computed for this report (%s) as of %s: %d sessions; the stored state is left as it is\n",
			st.Info.Mode, st.Info.AsOf.Format(dataset.AsOfLayout), st.Info.Sessions)
	}
	db, err := reports.Open(ctx, flags.data, st)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.Run(ctx, r.Name, p)
	if err != nil {
		return err
	}
	if r.Name == "explain" && len(t.Rows) == 0 {
		if err := knownUser(ctx, db, p.User); err != nil {
			return err
		}
	}
	write := func(w io.Writer) error {
		if format == reports.FormatParquet && isTerminal(w) {
			return errBinaryOnTerminal
		}
		return reports.Options{RawCSV: flags.csvRaw}.Write(w, t, format)
	}
	if toStdout {
		return write(stdout)
	}
	return writeOutput(flags.output, stdout, flags.replace, write)
}

// parameterError makes a report's refusal of a keyword a usage error that
// suggests the nearest allowed one.
func parameterError(err error) error {
	var choice *reports.ChoiceError
	if errors.As(err, &choice) {
		return usageErrorf("%v%s", choice, didYouMean(choice.Value, choice.Allowed))
	}
	return err
}

// errBinaryOnTerminal refuses to write Parquet where it would garble a
// terminal.
var errBinaryOnTerminal = usageErrorf("parquet is binary and this is a terminal: write it to a file with --output FILE.parquet or redirect the output")

// knownUser is nil if user has sessions up to the state's as-of time, and
// otherwise an error naming the user keys closest to it.
func knownUser(ctx context.Context, db *reports.DB, user string) error {
	usage, err := db.Run(ctx, "usage", reports.Params{By: "month,user"})
	if err != nil {
		return err
	}
	column := slices.IndexFunc(usage.Columns, func(c reports.Column) bool { return c.Name == "user" })
	var users []string
	for _, row := range usage.Rows {
		if u, ok := row[column].(string); ok && !slices.Contains(users, u) {
			if strings.EqualFold(u, user) {
				return nil
			}
			users = append(users, u)
		}
	}
	msg := fmt.Sprintf("no user %q has sessions up to %s", user, db.AsOf().Format("2006-01-02 15:04 UTC"))
	if near := closest(user, users, 5); len(near) > 0 {
		msg += "; the closest: " + strings.Join(near, ", ")
	}
	return errors.New(msg)
}

// extensionFormats are the formats a file's extension names.
var extensionFormats = map[string][]string{
	".csv":     {reports.FormatCSV},
	".json":    {reports.FormatJSON},
	".parquet": {reports.FormatParquet},
	".txt":     {reports.FormatTable, reports.FormatQMC},
}

// outputFormat is the format to write: --format (any case, one of
// allowed), checked against --output's extension; else the extension's;
// else table on a terminal and CSV otherwise.
func outputFormat(format, output string, allowed []string, stdout io.Writer) (string, error) {
	if format != "" {
		var err error
		if format, err = oneOf("format", format, allowed); err != nil {
			return "", err
		}
	}
	ext := strings.ToLower(filepath.Ext(output))
	if output == "-" || strings.HasPrefix(output, "/dev/") {
		ext = ""
	}
	if ext != "" {
		named, ok := extensionFormats[ext]
		switch {
		case !ok:
			return "", usageErrorf("--output %s: qvmeter writes .csv, .json, .parquet or .txt files (or a name without an extension, with --format)", output)
		case format != "" && !slices.Contains(named, format):
			return "", usageErrorf("--format %s does not match --output %s: name a %s file, or leave --format out", format, output, "."+format)
		case format == "":
			format = named[0]
		}
	}
	if format == "" {
		format = reports.FormatCSV
		if (output == "" || output == "-") && isTerminal(stdout) {
			format = reports.FormatTable
		}
	}
	return format, nil
}
