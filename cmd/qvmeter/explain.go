package main

import (
	"context"
	"fmt"
	"io"

	"github.com/qvmeter/qvmeter/reports"
)

func init() {
	register("explain", func(stdout, stderr io.Writer) command { return &explainCommand{stdout: stdout, stderr: stderr} })
}

type explainCommand struct{ stdout, stderr io.Writer }

func (c *explainCommand) Synopsis() string {
	return "tell one user's story: sessions, licences, servers, capacity, each traceable to a log line"
}

const explainUsage = `qvmeter explain USER [--data DIR] [--as-of TIME] [--format table|csv|json|parquet] [--output FILE]

Tells why the licence state says what it does about one user (matched on
the user key: case does not matter): sessions by month, the licences they
hold, their use per server and their Analyzer Capacity minutes by month.
Each row names the log line behind it as source_file:source_line. The
state is brought up to date first, as for qvmeter report.

Columns:
`

func (c *explainCommand) Run(ctx context.Context, args []string) error {
	r, _ := reports.Lookup("explain")
	usage := explainUsage
	for _, col := range r.Columns {
		usage += fmt.Sprintf("  %-16s %s\n", col.Name, col.Doc)
	}
	fs := newFlagSet("explain", c.stderr, usage)
	common := addReportFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		fmt.Fprintln(c.stderr, "qvmeter explain: want one user, e.g. qvmeter explain 'CORP\\alice'")
		fs.Usage()
		return errUsage
	}
	p := reports.DefaultParams()
	p.User = fs.Arg(0)
	return runReport(ctx, c.stdout, c.stderr, r.Name, p, common)
}
