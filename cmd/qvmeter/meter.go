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

Another --as-of than the stored state's replaces it: the nightly run's next
reports are then recomputed.

` + asOfHelp + `

Examples:

	qvmeter meter --data /srv/qvmeter --license /etc/qvmeter/license.toml
	qvmeter meter --data /srv/qvmeter --license license.toml --as-of 2024-04-01
	qvmeter meter --data /srv/qvmeter --license proposed.toml --simulate --as-of yesterday
`

func (c *meterCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("meter", c.stdout, meterUsage)
	dataDir := fs.String("data", "qvmeter-data", "data folder holding the sessions dataset")
	licensePath := fs.String("license", "", "licence file (TOML); see metering/README.md")
	asOf := &asOfFlag{now: time.Now}
	fs.Var(asOf, "as-of", "time the state is computed for (see TIME below); default now")
	simulate := fs.Bool("simulate", false, "assign licences by the rules instead of trusting the logged CAL Type (needs --license)")
	wait := waitFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if asOf.t.IsZero() {
		asOf.t = time.Now().UTC()
	}
	cfg := metering.Config{AsOf: asOf.t}
	if *simulate {
		if *licensePath == "" {
			return usageErrorf("--simulate needs --license: simulation assigns licences from a licence file")
		}
		cfg.Mode = metering.Simulate
	}
	var licenseSum string
	var err error
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
		len(st.Holders), st.CapacityRows(), len(st.Concurrency), len(st.Usage), len(st.Anomalies), len(st.Denials),
		filepath.Join(*dataDir, dataset.StateDir))
	return nil
}
