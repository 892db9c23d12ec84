package reports

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Report is one report: what it answers, its columns (a contract: add
// columns, never rename them), the parameters it reads and its SQL.
type Report struct {
	Name        string
	Description string
	Columns     []Column
	// Flags are the parameters the report reads, by command-line flag name
	// (see Params).
	Flags []string
	// Vertical: the table format prints the one row as name/value lines.
	Vertical bool
	// build returns the SQL and its bound arguments for p.
	build func(p Params) (string, []any, error)
	// compute, where set instead of build, computes the table in Go (from
	// queries of its own): for a report that replays the licence rules.
	compute func(ctx context.Context, db *DB, p Params) (*Table, error)
	// check, if set, refuses parameters a compute report cannot use
	// (see Check); a build report's check is its build.
	check func(p Params) error
}

func (r *Report) column(name string) (Column, bool) {
	i := slices.IndexFunc(r.Columns, func(c Column) bool { return c.Name == name })
	if i < 0 {
		return Column{}, false
	}
	return r.Columns[i], true
}

// Check returns the error running the report with p would give for p
// itself (a keyword that is none of the allowed ones: a *ChoiceError), so
// that a command can refuse a mistake before doing any work.
func (r *Report) Check(p Params) error {
	if r.check != nil {
		return r.check(p)
	}
	if r.build == nil {
		return nil
	}
	_, _, err := r.build(p)
	return err
}

// Accepts reports whether the report reads the parameter of the given flag.
func (r *Report) Accepts(flag string) bool { return slices.Contains(r.Flags, flag) }

// Params are a report's parameters; each report reads only those its Flags
// name. Start from DefaultParams.
type Params struct {
	// IdleDays (--idle-days): a holder idle this many days or more is idle;
	// 0 means the licence's [policy] idle_days (DefaultIdleDays without one).
	IdleDays int
	OnlyIdle bool   // --only-idle: what idle-cals does by default; kept for scripts
	All      bool   // --all: idle-cals lists every holder, idle or not
	Retired  bool   // --retired: idle-cals lists the CAL-era holders retired at the conversion
	CALType  string // --cal-type: idle-cals keeps one licence type
	By       string // --by: capacity user|document|server; usage day|month[,user|document|server]
	Month    string // --month: YYYY-MM, keeps that UTC month only
	Billed   []Billed
	Summary  bool   // --summary: rejects counts by reason
	Quality  bool   // --quality: rejects lists the lenient readings per server (data-quality)
	User     string // --user: explain's user, matched on user_key (case-insensitive)
	// advice (advice.go):
	Months       int    // --months: full UTC months before the as-of time to weigh
	RareDays     int    // --rare-days: a named CAL used on at most this many days a month is used rarely
	WriteLicense string // --write-license: write the what-if licence to this file
}

// DefaultIdleDays is the idle threshold without a licence file or
// --idle-days ([policy] idle_days sets it in the licence).
const DefaultIdleDays = 30

// DefaultParams are the parameters of a report run without flags: the idle
// threshold is the licence's.
func DefaultParams() Params {
	return Params{Months: DefaultAdviceMonths, RareDays: DefaultRareDays}
}

// Billed is one month's Analyzer Capacity minutes from the vendor's usage
// statement (or the Qlik Sense side's figure), for billing reconciliation.
type Billed struct {
	Month   string
	Minutes int64
	Pool    string // licence group; "default" unless the file says
}

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// checkMonth refuses a --month that is not a UTC month YYYY-MM (empty: all
// months), rather than answering with an empty report.
func checkMonth(month string) error {
	if month != "" && !monthPattern.MatchString(month) {
		return fmt.Errorf("--month %q: want a month YYYY-MM, e.g. 2024-03", month)
	}
	return nil
}

// ReadBilled reads a CSV of month,minutes[,pool] rows, with or without a
// header row.
func ReadBilled(r io.Reader) ([]Billed, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	records, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	var out []Billed
	for i, rec := range records {
		if i == 0 && len(rec) > 0 && strings.EqualFold(rec[0], "month") {
			continue
		}
		if len(rec) < 2 || len(rec) > 3 {
			return nil, fmt.Errorf("line %d: want month,minutes[,pool], got %d fields", i+1, len(rec))
		}
		if !monthPattern.MatchString(rec[0]) {
			return nil, fmt.Errorf("line %d: month %q: want YYYY-MM", i+1, rec[0])
		}
		minutes, err := strconv.ParseInt(strings.TrimSpace(rec[1]), 10, 64)
		if err != nil || minutes < 0 {
			return nil, fmt.Errorf("line %d: minutes %q: want a whole number of minutes", i+1, rec[1])
		}
		b := Billed{Month: rec[0], Minutes: minutes, Pool: "default"}
		if len(rec) == 3 && rec[2] != "" {
			b.Pool = rec[2]
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no month,minutes rows")
	}
	return out, nil
}

// binder collects a query's bound arguments: bind returns the placeholder
// of a new one, to write into the SQL text in the value's stead.
type binder struct{ args []any }

func (b *binder) bind(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// choice checks a keyword parameter against the SQL fragments allowed for
// it and returns the fragment: only these fragments, never the user's text,
// reach the SQL.
func choice(flag, value string, allowed map[string]string) (string, error) {
	if sql, ok := allowed[value]; ok {
		return sql, nil
	}
	keys := make([]string, 0, len(allowed))
	for k := range allowed {
		if k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return "", &ChoiceError{Flag: flag, Value: value, Allowed: keys}
}

// ChoiceError is a keyword parameter that is none of the allowed ones (the
// command line suggests the nearest).
type ChoiceError struct {
	Flag, Value string
	Allowed     []string
}

func (e *ChoiceError) Error() string {
	return fmt.Sprintf("--%s %q: want one of %s", e.Flag, e.Value, strings.Join(e.Allowed, ", "))
}

// registry lists the reports in the order help shows them.
var registry = []*Report{idleCALs, capacityReport, usageReport, concurrencyReport, usageCALsReport,
	doubleCALs, denialsReport, rejectsReport, anomaliesReport, summaryReport, adviceReport, explainReport}

// Names returns the names of every report.
func Names() []string {
	names := make([]string, len(registry))
	for i, r := range registry {
		names[i] = r.Name
	}
	return names
}

// Lookup finds a report by name.
func Lookup(name string) (*Report, bool) {
	i := slices.IndexFunc(registry, func(r *Report) bool { return r.Name == name })
	if i < 0 {
		return nil, false
	}
	return registry[i], true
}

// Wrap breaks text into lines of at most width bytes (where words allow),
// each line after the first starting with indent: descriptions as help
// text prints them.
func Wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && line+1+len(word) > width {
			b.WriteString("\n" + indent)
			line = len(indent)
		} else if i > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}

// poolColumn ends every report over state tables: the licence group.
var poolColumn = Column{"pool", String, `licence group: the [[group]] name in the licence file, or "default"`}
