package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/fixtures"
)

func init() {
	register("gen", func(stdout, stderr io.Writer) command { return &genCommand{stdout: stdout, stderr: stderr} })
}

type genCommand struct{ stdout, stderr io.Writer }

func (c *genCommand) Synopsis() string {
	return "generate a simulated estate's session logs with known answers"
}

const genUsage = `qvmeter gen --out DIR [flags]

Simulates a QlikView Server estate — several servers in their own time
zones, users with habits (daily, weekly, monthly, leavers, anonymous,
service accounts), CALs handed out in the server's order — and writes
what the servers would: Sessions_<SERVER>_<YYYY-MM-DD>.log per server and
local day. Next to the logs it writes license.toml (the licence simulated)
and truth.json (every CAL holder's first and last use, capacity minutes
per UTC month, session-CAL peaks per day, denials, planted damage); see
fixtures/README.md. The same flags give byte-identical output.

Pool flags left at "auto" are sized to --users.

Examples:

	qvmeter gen --out logs --users 200 --days 60 --era convert --mess
	qvmeter gen --out /tmp/big --size 1GiB     # a benchmark estate
`

// poolFlag is an int flag whose default, "auto", leaves the pool to
// fixtures.DefaultPools.
type poolFlag struct {
	value int64
	set   bool
}

func (p *poolFlag) String() string {
	if !p.set {
		return "auto"
	}
	return strconv.FormatInt(p.value, 10)
}

func (p *poolFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("want a number ≥ 0")
	}
	p.value, p.set = v, true
	return nil
}

func (p *poolFlag) Type() string { return "N" }

// dateFlag is a YYYY-MM-DD flag.
type dateFlag struct{ t time.Time }

func (d *dateFlag) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

func (d *dateFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, s)
	d.t = t
	return err
}

func (d *dateFlag) Type() string { return "YYYY-MM-DD" }

func (c *genCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("gen", c.stdout, genUsage)
	out := fs.String("out", "", "folder `DIR` to write into; created if missing, same-named files overwritten (required)")
	servers := fs.Int("servers", 3, "`N` servers sharing the licence")
	users := fs.Int("users", 300, "`N` users (raised by --size)")
	documents := fs.Int("documents", 40, "`N` documents")
	start := &dateFlag{t: fixtures.DefaultStart}
	fs.Var(start, "start", "first simulated day (UTC)")
	days := fs.Int("days", 60, "`N` days to simulate (with --size: more until the size is reached)")
	seed := fs.Uint64("seed", 1, "random seed `N`; the same seed gives the same bytes")
	size := fs.String("size", "", "target `SIZE` of the logs, e.g. 1GiB, 256MiB, 500MB: raises --users (up to 20000) and adds days until reached")
	era := fs.String("era", string(fixtures.EraConvert), "licence `ERA`: cal (named, document, session, usage CALs), slk (professional, analyzer, capacity) or convert (cal, then slk from --convert-date)")
	convert := &dateFlag{}
	fs.Var(convert, "convert-date", "first day of the SLK era with --era convert (default: the middle of the period)")
	pools := []struct {
		name, usage string
		flag        poolFlag
		apply       func(p *fixtures.Pools, v int64)
	}{
		{"named", "Named User CALs (dynamic)", poolFlag{}, func(p *fixtures.Pools, v int64) { p.Named = int(v) }},
		{"documents-cals", "Document CALs, split over the four most used documents", poolFlag{}, func(p *fixtures.Pools, v int64) { p.DocumentCALs = int(v) }},
		{"session", "Session CALs", poolFlag{}, func(p *fixtures.Pools, v int64) { p.Session = int(v) }},
		{"usage", "Usage CALs (each recharges 28 days after use)", poolFlag{}, func(p *fixtures.Pools, v int64) { p.Usage = int(v) }},
		{"professional", "Professional users (dynamic)", poolFlag{}, func(p *fixtures.Pools, v int64) { p.Professional = int(v) }},
		{"analyzer", "Analyzer users (dynamic)", poolFlag{}, func(p *fixtures.Pools, v int64) { p.Analyzer = int(v) }},
		{"capacity-minutes", "Analyzer Capacity minutes per UTC month", poolFlag{}, func(p *fixtures.Pools, v int64) { p.CapacityMinutes = v }},
	}
	for i := range pools {
		fs.Var(&pools[i].flag, pools[i].name, pools[i].usage)
	}
	overage := fs.String("overage", "none", "Analyzer Capacity `OVERAGE`: none, unlimited or a ceiling in minutes")
	mess := fs.Bool("mess", false, "plant what real folders contain: a restart repeating BOM and header mid-file, corrupt lines (wrong field count, unreadable Timestamp, unreadable Session Start), a partial last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("--out is required")
	}
	o := fixtures.Options{
		Out: *out, Servers: *servers, Users: *users, Documents: *documents,
		Start: start.t, Days: *days, Seed: *seed, Era: fixtures.Era(strings.ToLower(*era)),
		ConvertDate: convert.t, Mess: *mess,
	}
	if *size != "" {
		n, err := fixtures.ParseSize(*size)
		if err != nil {
			return &usageError{err}
		}
		o.Size = n
	}
	o, err := o.WithDefaults()
	if err != nil {
		return &usageError{err}
	}
	for _, p := range pools {
		if p.flag.set {
			p.apply(o.Pools, p.flag.value)
		}
	}
	o.Pools.Overage = *overage
	began := time.Now()
	truth, err := fixtures.Generate(ctx, o)
	if err != nil {
		return err
	}
	var bytes int64
	for _, f := range truth.Files {
		bytes += f.Bytes
	}
	elapsed := time.Since(began)
	fmt.Fprintf(c.stdout, "%d sessions, %d denied, in %d files over %d days: %.1f MiB in %.2fs (%.0f MB/s) in %s\n",
		truth.Sessions, len(truth.Denials), len(truth.Files), truth.Days, float64(bytes)/(1<<20), elapsed.Seconds(), float64(bytes)/1e6/elapsed.Seconds(), *out)
	return nil
}
