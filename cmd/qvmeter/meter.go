package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
)

func init() {
	register("meter", func(stdout, stderr io.Writer) command { return &meterCommand{stdout: stdout, stderr: stderr} })
}

type meterCommand struct{ stdout, stderr io.Writer }

func (c *meterCommand) Synopsis() string {
	return "replay the sessions through the licensing rules into DIR/state"
}

const meterUsage = `qvmeter meter [--data DIR] [--license FILE] [--as-of TIME] [--simulate]

Replays the sessions dataset (DIR/sessions, written by qvmeter ingest) in time
order through the CAL and Signed License Key rules and writes the licence
state as Parquet tables under DIR/state, replacing the previous state in
one atomic step (reports running meanwhile keep reading the one they
started with):
holders of named, document, professional and analyzer licences with their
quarantine and when a removal would free them, the Analyzer Capacity ledger,
session-CAL peaks, usage-CAL availability, anomalies and (with --simulate)
denials. Only sessions that ended at or before the as-of time count.

Without --license the state is rebuilt from the logs alone and pool sizes are
unknown. With --simulate the logged CAL types are ignored and licences are
assigned in the server's order against the licence file, which may describe
a proposed licence.

meter holds DIR's writer lock while it runs: a second writer (ingest, meter,
run) refuses at once, or waits up to --wait for it.
`

func (c *meterCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("meter", c.stderr, meterUsage)
	dataDir := fs.String("data", "qvmeter-data", "data folder holding the sessions dataset")
	licensePath := fs.String("license", "", "licence file (TOML); see metering/README.md")
	asOfText := fs.String("as-of", "", "time the state is computed for: RFC 3339 or YYYY-MM-DD (00:00 UTC); default now")
	simulate := fs.Bool("simulate", false, "assign licences by the rules instead of trusting the logged CAL Type (needs --license)")
	wait := waitFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "qvmeter meter: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	asOf, err := parseAsOf(*asOfText, time.Now())
	if err != nil {
		return err
	}
	cfg := metering.Config{AsOf: asOf}
	if *simulate {
		if *licensePath == "" {
			return fmt.Errorf("--simulate needs --license: simulation assigns licences from a licence file")
		}
		cfg.Mode = metering.Simulate
	}
	var licenseSum string
	if *licensePath != "" {
		if cfg.License, licenseSum, err = metering.LoadLicense(*licensePath); err != nil {
			return err
		}
	}
	if _, err := dataset.ListFiles(*dataDir); err != nil {
		return err // no dataset: say so before taking the lock creates DIR/lock
	}
	unlock, err := dataset.Lock(ctx, *dataDir, *wait)
	if err != nil {
		return err
	}
	defer unlock()
	files, err := dataset.ListFiles(*dataDir)
	if err != nil {
		return err
	}
	started := time.Now()
	st, err := metering.Compute(ctx, files, cfg, metering.Provenance{LicenseFile: *licensePath, LicenseSHA256: licenseSum, ComputedBy: version()})
	if err != nil {
		return err
	}
	if err := dataset.ReplaceState(*dataDir, st.WriteTables); err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	fmt.Fprintf(c.stdout, "%s as of %s: %d sessions replayed in %s (%d excluded, %d after as-of)\n",
		st.Info.Mode, st.Info.AsOf.Format(dataset.AsOfLayout), st.Info.Sessions, time.Since(started).Round(time.Millisecond), st.Info.Excluded, st.Info.Later)
	fmt.Fprintf(c.stdout, "%d holders, %d capacity rows, %d session-CAL days, %d usage-CAL days, %d anomalies, %d denials → %s\n",
		len(st.Holders), len(st.Capacity), len(st.Concurrency), len(st.Usage), len(st.Anomalies), len(st.Denials),
		filepath.Join(*dataDir, dataset.StateDir))
	return nil
}

// parseAsOf reads --as-of: RFC 3339, or a date meaning 00:00 UTC; empty is now.
func parseAsOf(text string, now time.Time) (time.Time, error) {
	if text == "" {
		return now.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, text); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, text); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--as-of %q: want RFC 3339 (2024-03-31T18:00:00Z) or a date (2024-03-31)", text)
}
