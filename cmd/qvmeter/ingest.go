package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func init() {
	register("ingest", func(stdout, stderr io.Writer) command { return &ingestCommand{stdout: stdout, stderr: stderr} })
}

type ingestCommand struct{ stdout, stderr io.Writer }

func (c *ingestCommand) Synopsis() string {
	return "read what is new in session logs into the Parquet dataset"
}

const ingestUsage = `qvmeter ingest [--data DIR] [flags] PATH...
qvmeter ingest --rebuild [--data DIR] [flags] [PATH...]
qvmeter ingest --compact [--data DIR] [flags] [PATH...]

Finds QlikView session logs (Sessions*.log, Sessions*.txt) in the PATHs,
files or folders walked recursively (symbolic links followed, each real
file read once), and stores what is new since the last run in the Parquet
dataset under DIR/sessions/month=YYYY-MM/. Each file is checkpointed: a
grown file is read from where the last run stopped, a rotated or replaced
one from the start, an unchanged one is not read (its first 4 KiB and the
4 KiB before its checkpoint are compared, so a replacement of the same size
is seen). A session seen twice (copies of a file, with or without the
Session ID column, GUIDs in another case) is stored once. Lines that cannot
be read go to DIR/rejects/; every lenient reading is counted per server in
the summary.

The server is taken from the file name, Sessions_<SERVER>_<date>.log: the
date part (2024-03-01, 20240301, 2024-W09, 2024-03, 2024) is dropped, a name
without one is all server (Sessions_QV_2.log is server QV_2), and Windows
copy suffixes (" - Copy", " - Copy (2)", " (2)") are ignored.

Times written without an offset (QlikView 11.x: 2016-01-29 08:58:02) are in
the server's local time: give each server's zone with --timezone, or in the
licence file's [timezones] table. A server with such times and no zone is
read as UTC and warned about on every run. A zone given or changed later
applies to new lines only: --rebuild reads every log again (the catalog's
and the PATHs') into a new dataset version, which replaces the old one in
one commit; the rows of logs no longer on disk are kept as stored.

The run commits at its end in one atomic step: killed at any moment, it
leaves the dataset as it was, and the next run completes it. Only one
qvmeter may write a DIR at a time: a second one refuses at once, naming the
process that holds DIR/lock, or waits up to --wait for it.

A run writes at most two files per month partition and worker, whatever
the order of its lines. Once a month has more than --compact-above files
(nightly runs add one or a few each), the run merges them into one file, in
a commit of its own, as atomic as the others; the rejects files likewise.
--compact merges every partition of more than one file now. No row changes:
the same rows, value for value, in the order readers take them.

Exit codes: 0 done; 1 failed, or some paths could not be read (a missing
path, a FIFO or other non-regular file, a log deleted while the run read
it: the others were ingested); 2 more lines were rejected than
--max-reject-ratio allows (the good rows are stored); 64 a mistake on the
command line (a bad --timezone among them).

Examples:

	qvmeter ingest --data /srv/qvmeter '\\qvs01\c$\ProgramData\QlikTech\QlikViewServer' ./logs
	qvmeter ingest --data /srv/qvmeter --json /mnt/qvs01/logs > ingest.json
	# an 11.x server writes local times without an offset: give its zone
	qvmeter ingest --timezone 'QVS-OLD-*=America/New_York' --timezone UTC ./logs
	# after a zone was given or changed: read every log in the catalog again
	qvmeter ingest --rebuild --license /etc/qvmeter/license.toml
	# merge the small files of many runs now
	qvmeter ingest --compact --data /srv/qvmeter
`

func (c *ingestCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("ingest", c.stdout, ingestUsage)
	data := fs.String("data", "qvmeter-data", "data folder of the dataset")
	server := fs.String("server", "", "server name for every file (default: from each file name)")
	zones := timezoneFlag(fs)
	license := fs.String("license", "", "licence `FILE` (TOML) whose [timezones] table gives servers' zones")
	rebuild := rebuildFlag(fs)
	maxRejects := ratioFlag(0.01)
	fs.Var(&maxRejects, "max-reject-ratio", "exit with code 2 when more than this share (0 to 1) of the lines read is rejected")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	workers := fs.Int("workers", 0, "files decoded in parallel (default: the number of CPUs)")
	wait := waitFlag(fs)
	compact := fs.Bool("compact", false, "merge every month's session files, and the rejects files, into one file each")
	compactAbove := newCompactAboveFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 && !*rebuild && !*compact {
		return usageErrorf("want at least one PATH, a log file or a folder of logs (or --rebuild, or --compact)")
	}
	var lic *metering.License
	if *license != "" {
		var err error
		if lic, _, err = metering.LoadLicense(*license); err != nil {
			return err
		}
	}
	sum, err := runIngest(ctx, c.stderr, ingest.Options{Data: *data, Paths: fs.Args(), Server: *server, Workers: *workers, Wait: *wait,
		Zones: zones.Over(lic.Zones()), Rebuild: *rebuild, Compact: *compact, CompactAbove: compactAbove.option()})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		printIngestSummary(c.stdout, sum)
	}
	return ingestOutcome(sum, float64(maxRejects))
}

// runIngest runs an ingest with a progress bar on stderr when it is a
// terminal.
func runIngest(ctx context.Context, stderr io.Writer, opts ingest.Options) (*ingest.Summary, error) {
	defer ingest.LimitMemory()()
	opts.Progress = new(ingest.Progress)
	stop := showProgress(stderr, opts.Progress)
	sum, err := ingest.Run(ctx, opts)
	stop()
	var locked *dataset.ErrLocked
	if errors.As(err, &locked) {
		return nil, &exitError{code: 1, err: err}
	}
	if err == nil {
		for _, w := range sum.Warnings {
			fmt.Fprintf(stderr, "qvmeter: warning: %s\n", w)
		}
	}
	return sum, err
}

// ingestOutcome turns a finished run into its exit status.
func ingestOutcome(sum *ingest.Summary, maxRejectRatio float64) error {
	if ratio := sum.RejectRatio(); ratio > maxRejectRatio {
		return &exitError{code: 2, err: fmt.Errorf("%.2f%% of the lines read were rejected (more than --max-reject-ratio %.2f%%); the good rows are stored, see `qvmeter report rejects`",
			100*ratio, 100*maxRejectRatio)}
	}
	if len(sum.Unreadable) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d paths could not be read and were skipped:\n  %s", len(sum.Unreadable), strings.Join(sum.Unreadable, "\n  "))}
	}
	return nil
}

func printIngestSummary(w io.Writer, s *ingest.Summary) {
	fmt.Fprintf(w, "files: %d new, %d grown, %d unchanged, %d rotated, %d skipped (not session logs)\n",
		s.FilesNew, s.FilesGrown, s.FilesUnchanged, s.FilesRotated, s.FilesSkipped)
	if r := s.Rekeyed; r != nil {
		fmt.Fprintf(w, "re-keyed the stored sessions from key version %d to %d (once, for this version of qvmeter): %d rows kept, %d stored twice under the old key dropped\n",
			r.FromVersion, r.ToVersion, r.Rows, r.Duplicates)
	}
	if r := s.Rebuilt; r != nil {
		fmt.Fprintf(w, "rebuilt: every log read again; this version replaces version %d (%d rows)\n", r.PreviousVersion, r.PreviousRows)
		if len(r.Adopted) > 0 {
			fmt.Fprintf(w, "adopted %d data files no catalog listed (catalog.json deleted or restored): their rows of logs not read again are kept, the files replaced:\n  %s\n",
				len(r.Adopted), strings.Join(r.Adopted, "\n  "))
		}
		if len(r.Missing) > 0 {
			fmt.Fprintf(w, "kept as stored: %d rows and %d rejects of %d logs no longer on disk:\n  %s\n",
				r.KeptRows, r.KeptRejects, len(r.Missing), strings.Join(r.Missing, "\n  "))
		}
	}
	fmt.Fprintf(w, "read %s in %d lines; stored %d rows, dropped %d duplicates\n", humanBytes(s.BytesRead), s.LinesRead, s.RowsStored, s.Duplicates)
	for _, c := range s.Compacted {
		what := "month " + c.Month
		if c.Kind == dataset.KindRejects {
			what = "rejects"
		}
		fmt.Fprintf(w, "compacted %s: %d files into one (%d rows, unchanged)\n", what, c.Files, c.Rows)
	}
	if s.Rejects > 0 {
		reasons := make([]string, 0, len(s.RejectsBy))
		for r, n := range s.RejectsBy {
			reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "rejected %d lines (%.3f%%): %s\n", s.Rejects, 100*s.RejectRatio(), strings.Join(reasons, ", "))
	}
	servers := make([]string, 0, len(s.Servers))
	for name := range s.Servers {
		servers = append(servers, name)
	}
	sort.Strings(servers)
	for _, name := range servers {
		fmt.Fprintf(w, "server %s: %s\n", name, serverReadings(s.Servers[name]))
	}
	if s.PartialBytes > 0 {
		fmt.Fprintf(w, "held back %s of unfinished last lines for the next run\n", humanBytes(s.PartialBytes))
	}
	for _, warning := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	fmt.Fprintf(w, "dataset version %d, %.1fs\n", s.DatasetVersion, s.Seconds)
}

// serverReadings says what a run read from one server: its lines and every
// lenient reading, offset-less times with the zone they were converted with.
func serverReadings(s *ingest.ServerSummary) string {
	parts := []string{fmt.Sprintf("%d lines", s.Lines)}
	for _, c := range s.Readings() {
		part := fmt.Sprintf("%s %d", c.Name, c.N)
		switch c.Name {
		case "offsetless_times":
			part += " (converted with " + s.Zone + ")"
		case "unknown_columns":
			quoted := make([]string, len(s.UnknownColumns))
			for i, name := range s.UnknownColumns {
				quoted[i] = strconv.Quote(name)
			}
			part += " (" + strings.Join(quoted, ", ") + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// showProgress draws a progress bar (bytes, files, MB/s, ETA) on stderr if
// it is a terminal, and nothing otherwise. It returns the function that
// stops it.
func showProgress(stderr io.Writer, p *ingest.Progress) (stop func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionClearOnFinish(),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				bar.Finish()
				return
			case <-tick.C:
				if total := p.BytesTotal.Load(); total > 0 && bar.GetMax64() != total {
					bar.ChangeMax64(total)
				}
				bar.Describe(fmt.Sprintf("files %d/%d", p.FilesDone.Load(), p.FilesTotal.Load()))
				bar.Set64(p.BytesDone.Load())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
