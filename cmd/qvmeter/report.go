package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

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

const reportUsage = `qvmeter report NAME [--data DIR] [--as-of TIME] [--format table|csv|json|parquet|qmc] [--output FILE] [report flags]

Runs one report over the sessions dataset and the licence state under DIR
and prints it (table on a terminal, CSV otherwise) or writes it to FILE
(format from its extension: .csv, .json, .parquet; replaced atomically).
If the state is missing, older than the dataset, for another --as-of time
or another --license, it is recomputed first. Times are UTC: RFC 3339 in
CSV and JSON, "2006-01-02 15:04" in the table format, which also cuts long
values (CSV and JSON carry them whole).

Reports and their columns (the column names are a contract):

`

// reportFlags are the flags of qvmeter report and qvmeter explain that say
// where the data is, which state to read and how to print.
type reportFlags struct {
	data, asOf, license, format, output *string
}

func addReportFlags(fs *pflag.FlagSet) *reportFlags {
	return &reportFlags{
		data:    fs.String("data", "qvmeter-data", "data folder holding the sessions dataset and the state"),
		asOf:    fs.String("as-of", "", "time the report is for: RFC 3339 or YYYY-MM-DD (00:00 UTC); default the state's, or now if it must be recomputed"),
		license: fs.String("license", "", "licence file to meter with if the state is recomputed; default the one the state recorded"),
		format:  fs.String("format", "", "table, csv, json, parquet or qmc (idle-cals); default table on a terminal, else csv or the --output extension"),
		output:  fs.String("output", "", "write to FILE instead of standard output"),
	}
}

func (c *reportCommand) Run(ctx context.Context, args []string) error {
	var help bytes.Buffer
	help.WriteString(reportUsage)
	reports.Describe(&help)
	fs := newFlagSet("report", c.stderr, help.String())
	common := addReportFlags(fs)
	p := reports.DefaultParams()
	fs.IntVar(&p.IdleDays, "idle-days", p.IdleDays, "idle-cals, summary: a licence unused this many days or more is idle (0: the licence's [policy] idle_days, default 30)")
	fs.BoolVar(&p.All, "all", false, "idle-cals: list every holder, idle or not")
	fs.BoolVar(&p.OnlyIdle, "only-idle", false, "idle-cals: list the idle holders only (the default; kept for scripts)")
	fs.BoolVar(&p.Retired, "retired", false, "idle-cals: list the CAL-era holders retired at the conversion, with their last use")
	fs.StringVar(&p.CALType, "cal-type", "", "idle-cals: keep one licence type (named, document, professional, analyzer)")
	fs.StringVar(&p.By, "by", "", "capacity: user, document or server; usage: day or month, optionally ,user ,document or ,server")
	fs.StringVar(&p.Month, "month", "", "capacity, usage: keep one UTC month (YYYY-MM)")
	billed := fs.String("billed", "", "capacity: CSV of month,minutes[,pool] from the vendor's statement, for reconciliation")
	fs.BoolVar(&p.Summary, "summary", false, "rejects: count by reason")
	fs.BoolVar(&p.Quality, "quality", false, "rejects: what ingest read leniently per server (as report data-quality)")
	fs.IntVar(&p.Months, "months", p.Months, "advice: full UTC months before the as-of time to weigh")
	fs.IntVar(&p.RareDays, "rare-days", p.RareDays, "advice: a named CAL used on at most this many days in every month is used rarely")
	fs.StringVar(&p.WriteLicense, "write-license", "", "advice: write the what-if licence to FILE (TOML, for qvmeter meter --simulate --license FILE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(c.stderr, "qvmeter report: want one report name (%s)\n", strings.Join(reports.Names(), ", "))
		return errUsage
	}
	r, ok := reports.Lookup(fs.Arg(0))
	if !ok || r.Name == "explain" {
		fmt.Fprintf(c.stderr, "qvmeter report: no report %q (reports: %s; explain is qvmeter explain USER)\n", fs.Arg(0), strings.Join(reports.Names(), ", "))
		return errUsage
	}
	var misplaced []string
	fs.Visit(func(f *pflag.Flag) {
		if _, common := map[string]bool{"data": true, "as-of": true, "license": true, "format": true, "output": true}[f.Name]; !common && !r.Accepts(f.Name) {
			misplaced = append(misplaced, "--"+f.Name)
		}
	})
	if len(misplaced) > 0 {
		fmt.Fprintf(c.stderr, "qvmeter report: %s does not take %s\n", r.Name, strings.Join(misplaced, ", "))
		return errUsage
	}
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
	return runReport(ctx, c.stdout, c.stderr, r.Name, p, common)
}

// runReport brings the state up to date, runs the report and writes it.
func runReport(ctx context.Context, stdout, stderr io.Writer, name string, p reports.Params, flags *reportFlags) error {
	format, err := outputFormat(*flags.format, *flags.output, stdout)
	if err != nil {
		return err
	}
	var asOf time.Time
	if *flags.asOf != "" {
		if asOf, err = parseAsOf(*flags.asOf, time.Time{}); err != nil {
			return err
		}
	}
	st, recomputed, err := reports.EnsureState(ctx, *flags.data, reports.StateOptions{AsOf: asOf, License: *flags.license, ComputedBy: version()})
	if err != nil {
		return err
	}
	defer st.Close()
	if recomputed {
		fmt.Fprintf(stderr, "qvmeter report: state computed for this report (%s) as of %s: %d sessions; the stored state is left as it is\n",
			st.Info.Mode, st.Info.AsOf.Format(dataset.AsOfLayout), st.Info.Sessions)
	}
	db, err := reports.Open(ctx, *flags.data, st)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.Run(ctx, name, p)
	if err != nil {
		return err
	}
	if *flags.output == "" {
		return reports.Write(stdout, t, format)
	}
	return writeFileAtomic(*flags.output, func(w io.Writer) error { return reports.Write(w, t, format) })
}

// outputFormat is --format, or the default: the --output file's extension,
// table on a terminal, CSV otherwise.
func outputFormat(format, output string, stdout io.Writer) (string, error) {
	switch {
	case format != "":
		for _, f := range reports.Formats {
			if f == format {
				return format, nil
			}
		}
		return "", fmt.Errorf("--format %q: want one of %s", format, strings.Join(reports.Formats, ", "))
	case output != "":
		switch strings.ToLower(filepath.Ext(output)) {
		case ".json":
			return reports.FormatJSON, nil
		case ".parquet":
			return reports.FormatParquet, nil
		}
		return reports.FormatCSV, nil
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return reports.FormatTable, nil
	}
	return reports.FormatCSV, nil
}

// writeFileAtomic writes path through a temporary file in the same folder
// renamed into place, so that a reader never sees half a report.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
