package main

import (
	"context"
	"fmt"
	"io"
	"strings"

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
state is brought up to date first, as for qvmeter report. A user with no
session up to the as-of time is an error (exit 1) that names the closest
user keys.

Columns:
`

func (c *explainCommand) Run(ctx context.Context, args []string) error {
	r, _ := reports.Lookup("explain")
	var usage strings.Builder
	usage.WriteString(explainUsage)
	for _, col := range r.Columns {
		fmt.Fprintf(&usage, "  %-16s %s\n", col.Name, col.Doc)
	}
	usage.WriteString("\n" + asOfHelp + "\n" + strings.Replace(outputRules, " (qmc too for idle-cals)", "", 1))
	usage.WriteString(`
Examples:

	qvmeter explain 'CORP\alice' --data /srv/qvmeter
	qvmeter explain 'corp\ALICE' --as-of 2024-03-31 --format json --output alice.json
`)
	fs := newFlagSet("explain", c.stdout, usage.String())
	common := addReportFlags(fs)
	fs.Lookup("format").Usage = "`FORMAT`: " + strings.Join(formats(r), ", ") + "; default from --output's extension, else table on a terminal and csv otherwise"
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return usageErrorf(`want one user, e.g. qvmeter explain 'CORP\alice'`)
	}
	p := reports.DefaultParams()
	p.User = fs.Arg(0)
	return runReport(ctx, c.stdout, c.stderr, r, p, common)
}
