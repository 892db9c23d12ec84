package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/qvmeter/qvmeter/qms"
	"github.com/qvmeter/qvmeter/reports"
)

func init() {
	register("revoke", func(stdout, stderr io.Writer) command { return &revokeCommand{stdout: stdout, stderr: stderr} })
}

type revokeCommand struct{ stdout, stderr io.Writer }

func (c *revokeCommand) Synopsis() string {
	return "plan (and with --apply make) the removal of idle named and document CALs through the QMS"
}

// RevokeDir holds the journals of qvmeter revoke --apply under the data
// folder.
const revokeDir = dataset.RevokeDir

const revokeUsage = `qvmeter revoke [--data DIR] [--license FILE] [--as-of TIME] [--idle-days N] [--max N] [--format table|csv|json]
qvmeter revoke --apply [--url URL] [--user DOMAIN\name] [--password-file FILE] [same flags]
qvmeter revoke --undo JOURNAL [--url URL] [--user DOMAIN\name] [--password-file FILE]

Prints the plan: the named and document CALs the latest QMS snapshot (see
qvmeter qms) shows assigned whose holder has been idle at least the
policy's days ([policy] idle_days, default 30; --idle-days overrides),
counted from the later of the last use in the logs and in the QMS to the
state's as-of time (a CAL never used anywhere counts from the first
snapshot showing it assigned, and is idle when the first snapshot had it
already), most idle first, leaving out users
matching a [policy] never_revoke glob. quarantine_ends is when each CAL
is really free after its removal (last use + the quarantine, as qvmeter
meter reckons it); freed says whether that is at once. Nothing is changed.

With --apply, qvmeter removes the first --max (default 25) CALs of the
plan through the QMS API (SaveCALConfiguration for named CALs,
SaveDocumentMetaData for document CALs), after re-reading the servers'
state and refusing if it is not the snapshot's (a planned CAL used or
removed since, a CAL assigned or removed by someone else): run qvmeter
qms pull and look at the plan again. Before changing anything it writes
a journal, DIR/revoke/<time>.json, and records in it what was done.

With --undo JOURNAL, qvmeter gives every CAL the journal removed back to
its user (a user holding it again already is left alone).

Examples:

	qvmeter revoke --data /srv/qvmeter --license /etc/qvmeter/license.toml
	QVMETER_QMS_PASSWORD=… qvmeter revoke --apply --max 10 --data /srv/qvmeter --license /etc/qvmeter/license.toml
	qvmeter revoke --undo /srv/qvmeter/revoke/20240430T060000.000Z.json
`

// journal is DIR/revoke/<time>.json.
type journal struct {
	CreatedAt time.Time     `json:"created_at"`
	URL       string        `json:"qms_url"`
	Snapshot  string        `json:"snapshot"`
	AsOf      time.Time     `json:"as_of"`
	IdleDays  int           `json:"idle_days"`
	Planned   []qms.Removal `json:"planned"`
	Applied   []qms.Removal `json:"applied"`
	Error     string        `json:"error,omitempty"`
	// Finished: the run got to its end (Applied is complete). A journal
	// without it is of a run that died: its undo gives back every planned
	// CAL whose user does not hold one.
	Finished bool       `json:"finished"`
	UndoneAt *time.Time `json:"undone_at,omitempty"`
}

// planRow is one CAL of the plan.
type planRow struct {
	removal        qms.Removal
	lastUsed       *time.Time
	idleDays       *int64
	quarantineEnds time.Time
}

func (c *revokeCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("revoke", c.stdout, revokeUsage)
	common := addReportFlags(fs)
	fs.Lookup("as-of").Usage = "time the plan is for (idle days are counted to it): RFC 3339 or YYYY-MM-DD (00:00 UTC); default the state's (the last run's), or now if it must be recomputed"
	fs.Lookup("format").Usage = "table, csv, json or parquet; default table on a terminal, else csv or the --output extension"
	idleDays := fs.Int("idle-days", 0, "idle threshold in days (default the licence's [policy] idle_days, else 30)")
	maxRemovals := fs.Int("max", 25, "remove at most this many CALs in one --apply")
	apply := fs.Bool("apply", false, "remove the planned CALs through the QMS (default: only print the plan)")
	undo := fs.String("undo", "", "give back every CAL the journal FILE removed")
	flags := addQMSFlags(fs)
	wait := waitFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *maxRemovals < 1 {
		return fmt.Errorf("--max %d: want at least 1", *maxRemovals)
	}
	lic, err := revokeLicense(common.data, common.license)
	if err != nil {
		return err
	}
	if *undo != "" {
		dataDir := common.data
		if !fs.Changed("data") && filepath.Base(filepath.Dir(*undo)) == dataset.RevokeDir {
			dataDir = filepath.Dir(filepath.Dir(*undo)) // DIR/revoke/<time>.json
		}
		return c.undo(ctx, *undo, flags, lic.QMS, dataDir, *wait)
	}
	threshold := lic.Policy.IdleDays
	if *idleDays > 0 {
		threshold = *idleDays
	}

	asOf := common.asOf.t // zero: the state's, as the reports
	st, _, err := reports.EnsureState(ctx, common.data, reports.StateOptions{AsOf: asOf, License: common.license, ComputedBy: version()})
	if err != nil {
		return fmt.Errorf("metering: %w", err)
	}
	defer st.Close()
	db, err := reports.Open(ctx, common.data, st)
	if err != nil {
		return err
	}
	defer db.Close()
	snapshot, err := db.QMSSnapshot(ctx)
	if err != nil {
		return err
	}
	if snapshot == "" {
		return errors.New("no QMS snapshot to plan from: run qvmeter qms pull (or qms import) first")
	}
	assigned, err := db.Run(ctx, "assigned", reports.DefaultParams())
	if err != nil {
		return err
	}
	plan, kept, err := buildPlan(assigned, lic, threshold, db.AsOf())
	if err != nil {
		return err
	}
	now := min(len(plan), *maxRemovals)
	if err := c.printPlan(plan, now, common, snapshot, threshold, kept, db.AsOf()); err != nil {
		return err
	}
	if !*apply {
		if len(plan) > 0 {
			fmt.Fprintln(c.stderr, "nothing changed: qvmeter revoke --apply removes the first", now)
		}
		return nil
	}
	if len(plan) == 0 {
		return nil
	}
	return c.apply(ctx, plan[:now], flags, lic.QMS, common.data, snapshot, db.AsOf(), threshold, *wait)
}

// revokeLicense loads the licence file named or, without one, the one the
// state was computed with; no licence is the defaults.
func revokeLicense(dataDir, path string) (*metering.License, error) {
	if path == "" {
		if info, err := dataset.ReadStateInfo(dataDir); err == nil {
			path = info.LicenseFile
		}
	}
	if path == "" {
		return metering.ParseLicense("(no licence)", nil)
	}
	lic, _, err := metering.LoadLicense(path)
	return lic, err
}

// buildPlan picks the idle CALs of the assigned report: idle_days null
// (never used, held since before the first snapshot) or at least
// threshold, not on a never_revoke glob. kept counts those the globs
// saved.
func buildPlan(t *reports.Table, lic *metering.License, threshold int, asOf time.Time) (plan []planRow, kept int, err error) {
	// The columns the plan reads, found once: a renamed column of the
	// assigned report is an error, never a silently empty plan.
	index := map[string]int{}
	for i, c := range t.Columns {
		index[c.Name] = i
	}
	for _, name := range []string{"idle_days", "user", "server", "server_id", "cal_type", "document", "document_id", "qms_last_used", "last_used", "exe_version"} {
		if _, ok := index[name]; !ok {
			return nil, 0, fmt.Errorf("the assigned report has no column %s", name)
		}
	}
	for _, row := range t.Rows {
		get := func(name string) any { return row[index[name]] }
		str := func(name string) string { s, _ := get(name).(string); return s }
		idle, hasIdle := get("idle_days").(int64)
		if hasIdle && idle < int64(threshold) {
			continue
		}
		if lic.Policy.NeverRevokes(str("user")) {
			kept++
			continue
		}
		r := planRow{removal: qms.Removal{Server: str("server"), ServerID: str("server_id"), CALType: str("cal_type"), User: str("user"),
			Document: str("document"), DocumentID: str("document_id")}, quarantineEnds: asOf}
		if t, ok := get("qms_last_used").(time.Time); ok {
			r.removal.LastUsed = &t
		}
		if hasIdle {
			r.idleDays = &idle
		}
		if last, ok := get("last_used").(time.Time); ok {
			r.lastUsed = &last
			if end := last.Add(lic.CAL.QuarantineFor(str("exe_version"))); end.After(asOf) {
				r.quarantineEnds = end
			}
		}
		plan = append(plan, r)
	}
	idleOf := func(r planRow) int64 {
		if r.idleDays == nil {
			return 1 << 62
		}
		return *r.idleDays
	}
	slices.SortStableFunc(plan, func(a, b planRow) int {
		return cmp.Or(cmp.Compare(idleOf(b), idleOf(a)), cmp.Compare(a.removal.Server, b.removal.Server),
			cmp.Compare(a.removal.CALType, b.removal.CALType), cmp.Compare(strings.ToLower(a.removal.User), strings.ToLower(b.removal.User)),
			cmp.Compare(a.removal.Document, b.removal.Document))
	})
	return plan, kept, nil
}

// planColumns are the plan's columns as printed.
var planColumns = []reports.Column{
	{Name: "server", Kind: reports.String, Doc: "QlikView Server"},
	{Name: "cal_type", Kind: reports.String, Doc: "named or document"},
	{Name: "user", Kind: reports.String, Doc: "the holder"},
	{Name: "document", Kind: reports.String, Doc: "document CALs: the document"},
	{Name: "last_used", Kind: reports.Time, Doc: "the later of the logs' and the QMS's last use; null: never"},
	{Name: "idle_days", Kind: reports.Int, Doc: "days since last_used (or since the CAL appeared); null: never used"},
	{Name: "quarantine_ends", Kind: reports.Time, Doc: "when the CAL is free after its removal: last use + quarantine, or at once"},
	{Name: "freed", Kind: reports.String, Doc: "at once, or after quarantine"},
	{Name: "this_run", Kind: reports.Bool, Doc: "within --max: --apply removes it now"},
}

func (c *revokeCommand) printPlan(plan []planRow, now int, flags *reportFlags, snapshot string, threshold, kept int, asOf time.Time) error {
	t := &reports.Table{Report: "revoke", Columns: planColumns}
	for i, r := range plan {
		var last, idle any
		if r.lastUsed != nil {
			last = *r.lastUsed
		}
		if r.idleDays != nil {
			idle = *r.idleDays
		}
		freed := "at once"
		if r.quarantineEnds.After(asOf) {
			freed = "after quarantine"
		}
		t.Rows = append(t.Rows, []any{r.removal.Server, r.removal.CALType, r.removal.User, r.removal.Document, last, idle,
			r.quarantineEnds, freed, i < now})
	}
	format, err := outputFormat(flags.format, flags.output, []string{reports.FormatTable, reports.FormatCSV, reports.FormatJSON, reports.FormatParquet}, c.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "revoke plan from the QMS snapshot of %s, as of %s: %d CALs idle %d days or more (%d kept by never_revoke)\n",
		snapshot, asOf.Format(time.RFC3339), len(plan), threshold, kept)
	write := func(w io.Writer) error {
		if format == reports.FormatParquet && isTerminal(w) {
			return errBinaryOnTerminal
		}
		return reports.Options{RawCSV: flags.csvRaw}.Write(w, t, format)
	}
	if flags.output == "" {
		return write(c.stdout)
	}
	return writeOutput(flags.output, c.stdout, flags.replace, write)
}

func (c *revokeCommand) apply(ctx context.Context, plan []planRow, flags *qmsFlags, section metering.QMS, dataDir, snapshot string, asOf time.Time, threshold int, wait time.Duration) error {
	unlock, err := dataset.Lock(ctx, dataDir, wait)
	if err != nil {
		return err
	}
	defer unlock()
	client, err := flags.client(section)
	if err != nil {
		return err
	}
	defer client.Close()
	latest, ok, err := qms.Latest(dataDir)
	if err != nil || !ok {
		return fmt.Errorf("reading the QMS snapshot: %v", err)
	}
	recs, err := qms.ReadSnapshot(latest.Path)
	if err != nil {
		return err
	}
	removals := make([]qms.Removal, len(plan))
	for i, r := range plan {
		removals[i] = r.removal
	}
	if err := client.Verify(ctx, recs, removals); err != nil {
		if errors.Is(err, qms.ErrStateChanged) {
			return fmt.Errorf("refusing to apply the plan: %w\nrun qvmeter qms pull, then look at the plan again", err)
		}
		return err
	}
	url := *flags.url
	if url == "" {
		url = section.URL
	}
	j := &journal{CreatedAt: time.Now().UTC(), URL: url, Snapshot: snapshot, AsOf: asOf, IdleDays: threshold, Planned: removals, Applied: []qms.Removal{}}
	path := filepath.Join(dataDir, revokeDir, j.CreatedAt.Format("20060102T150405.000Z")+".json")
	if err := writeJournal(path, j); err != nil {
		return fmt.Errorf("writing the journal before any change: %w", err)
	}
	done, applyErr := client.Remove(ctx, removals)
	j.Applied, j.Finished = done, true
	if applyErr != nil {
		j.Error = applyErr.Error()
	}
	if err := writeJournal(path, j); err != nil {
		return errors.Join(applyErr, fmt.Errorf("recording what was done in %s: %w", path, err))
	}
	fmt.Fprintf(c.stdout, "removed %d of %d CALs; journal %s (qvmeter revoke --undo %s gives them back); run qvmeter qms pull to see the new state\n",
		len(done), len(removals), path, path)
	if applyErr != nil {
		return fmt.Errorf("stopped after %d removals: %w", len(done), applyErr)
	}
	return nil
}

func (c *revokeCommand) undo(ctx context.Context, path string, flags *qmsFlags, section metering.QMS, dataDir string, wait time.Duration) error {
	unlock, err := dataset.Lock(ctx, dataDir, wait)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("%s: not a revoke journal: %w", path, err)
	}
	if j.UndoneAt != nil {
		return fmt.Errorf("%s was undone at %s already", path, j.UndoneAt.Format(time.RFC3339))
	}
	if *flags.url == "" && section.URL == "" {
		section.URL = j.URL
	}
	client, err := flags.client(section)
	if err != nil {
		return err
	}
	defer client.Close()
	removed := j.Applied
	if !j.Finished {
		removed = j.Planned
		fmt.Fprintf(c.stderr, "%s is of a run that did not finish: giving back every planned CAL its user does not hold\n", path)
	}
	done, err := client.Reassign(ctx, removed)
	fmt.Fprintf(c.stdout, "gave back %d of %d CALs removed by %s\n", len(done), len(removed), path)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	j.UndoneAt = &now
	return writeJournal(path, &j)
}

func writeJournal(path string, j *journal) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return dataset.ReplaceFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(j)
	})
}
