package reports

// The HTML report is the page people open after a nightly run: one
// self-contained index.html (inline CSS, inline SVG charts, no script, no
// fetch of any kind) that reads the same on an air-gapped server, in a mail
// attachment or on paper. It is built with html/template from the reports'
// tables, so every value from the logs (user names, document paths, server
// names, raw lines) is escaped for the context it lands in; nothing from
// the data is ever marked as safe HTML.

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/qvmeter/qvmeter/dataset"
)

//go:embed html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("html.tmpl").Parse(htmlSource))

// How much the page shows: a list longer than its maximum ends with the
// command that prints it whole.
const (
	topCount        = 10 // users and documents in the top tables
	maxRevokeRows   = 500
	maxAnomalyRows  = 200
	maxAdviceRows   = 100
	maxQualityRows  = 200
	capacityHistory = 12 // months in the capacity bar chart
)

// How the page writes times, and a figure no licence gives.
const (
	displayTime      = "2006-01-02 15:04"
	displayDay       = "2 Jan"
	displayMonthYear = "Jan 2006"
	unknown          = "unknown"
)

// WriteHTML writes the HTML report of db's state to w: the summary,
// Analyzer Capacity against the budget (this month's burn and the last 12
// months), named CAL holders active and idle per week, the daily session
// CAL peak against the pool, the idle licences to revoke with when each
// would be free, the top users and documents by capacity minutes this
// month, and the anomalies. p.IdleDays is the idle threshold (start from
// DefaultParams). Nothing is written unless every query succeeded.
func WriteHTML(ctx context.Context, w io.Writer, db *DB, p Params) error {
	pg, err := buildPage(ctx, db, p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, pg); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// htmlPage is what html.tmpl renders.
type htmlPage struct {
	AsOf, Mode, License    string
	IdleDays               int
	Facts                  []fact
	CapacityMonth          string
	Burn, Months, Named    *chart
	Concurrency            []*chart // one per pool
	Revoke                 listing
	RevokeCounts           string  // how many of each licence type
	Retired                listing // CAL-era holders retired at the conversion (folded)
	RetiredCount           int
	TopUsers, TopDocuments []topRow
	Anomalies              listing
	Advice                 listing    // the licence advice (advice.go)
	DataQuality            listing    // what ingest read leniently, per server (quality.go)
	NoZone                 []string   // servers whose offset-less times were read as UTC for want of a zone
	AdviceMonths           string     // the months it weighs
	QMS                    *qmsPanels // qms.go: nil without a QMS snapshot

	// DataUpTo is, per server, how far the data goes (pagequeries.go).
	DataUpTo []freshnessRow
}

// fact is one figure of the summary.
type fact struct {
	Label, Value, Note string
	Warn               bool // the figure needs attention
}

// listing is a table of the page.
type listing struct {
	Columns []listColumn
	Rows    []listRow
	More    int    // rows left out
	Command string // the command that lists them all
}

// listRow is a row of a listing: each cell is its text in pieces (see
// pieces); Class styles the row ("info": informational, shown in a neutral
// colour).
type listRow struct {
	Class string
	Cells [][]string
}

type listColumn struct {
	Label, Doc string
	Class      string // "num": a right-aligned figure; "keep": kept on one line; "": wrapped
	value      func(record) string
}

// keepColumns are the report columns the page never wraps: short codes
// and names.
var keepColumns = []string{"kind", "cal_type", "server", "pool"}

// topRow is one user or document of a top-10 table.
type topRow struct {
	Name                     []string // in pieces
	Minutes, Sessions, Share string
	Bar                      float64 // the bar's length, 0–100: the top row's is 100
}

// pieces cuts s after every space and every \ / _ . - and @: html.tmpl
// keeps each piece on one line and puts a <wbr> between them, so that a
// long path or user name wraps at a separator and never inside a word
// (a table too wide for the screen scrolls sideways instead), and still
// copies as the one string it is.
func pieces(s string) []string {
	var out []string
	for {
		i := strings.IndexAny(s, ` \/_.-@`)
		if i < 0 || i == len(s)-1 {
			return append(out, s)
		}
		out, s = append(out, s[:i+1]), s[i+1:]
	}
}

// record is a table row by column name.
type record map[string]any

func records(t *Table) []record {
	out := make([]record, len(t.Rows))
	for i, row := range t.Rows {
		out[i] = record{}
		for j, c := range t.Columns {
			out[i][c.Name] = row[j]
		}
	}
	return out
}

// int is an integer column, 0 when null; intPtr keeps null apart.
func (r record) int(name string) int64 { v, _ := r[name].(int64); return v }

func (r record) intPtr(name string) *int64 {
	if v, ok := r[name].(int64); ok {
		return &v
	}
	return nil
}

func (r record) str(name string) string { s, _ := r[name].(string); return s }

func (r record) time(name string) time.Time { t, _ := r[name].(time.Time); return t }

// display is a value as the page shows it: integers with thousands
// separators, times to the minute, nulls empty, strings as the table
// format shows them (control characters escaped, very long ones cut).
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return thousands(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return cell(v)
}

// known shows a figure that is null when no licence says it: "unknown",
// never 0.
func known(v *int64) string {
	if v == nil {
		return unknown
	}
	return thousands(*v)
}

// buildPage runs the reports the page shows and lays them out.
func buildPage(ctx context.Context, db *DB, p Params) (*htmlPage, error) {
	if p.IdleDays == 0 {
		p.IdleDays = db.IdleDays()
	}
	summary, err := db.Run(ctx, "summary", p)
	if err != nil {
		return nil, err
	}
	if len(summary.Rows) != 1 {
		return nil, fmt.Errorf("report summary: %d rows, want 1", len(summary.Rows))
	}
	sum := records(summary)[0]
	info := db.Info()
	pg := &htmlPage{AsOf: db.AsOf().Format(displayTime) + " UTC", Mode: info.Mode.String(), IdleDays: p.IdleDays,
		License: "none (pool sizes unknown)", CapacityMonth: sum.str("capacity_month")}
	if info.LicenseFile != "" {
		pg.License = filepath.Base(info.LicenseFile)
	}

	months, err := db.Run(ctx, "capacity", Params{})
	if err != nil {
		return nil, err
	}
	days, err := db.run(ctx, capacityDaysReport, p)
	if err != nil {
		return nil, err
	}
	pg.Burn = burnChart(pg.CapacityMonth, db.AsOf(), records(days), sum)
	pg.Months = monthsChart(pg.CapacityMonth, records(months))

	weeks, err := db.run(ctx, namedWeeksReport, p)
	if err != nil {
		return nil, err
	}
	pg.Named = namedChart(records(weeks), p.IdleDays)

	concurrency, err := db.Run(ctx, "concurrency", p)
	if err != nil {
		return nil, err
	}
	pg.Concurrency = concurrencyCharts(records(concurrency))

	idle, err := db.Run(ctx, "idle-cals", Params{IdleDays: p.IdleDays})
	if err != nil {
		return nil, err
	}
	pg.Revoke = list(idle, maxRevokeRows, "qvmeter report idle-cals",
		"cal_type", "user", "document", "last_used", "idle_days", "sessions", "frees_at", "pool")
	pg.RevokeCounts = countByType(records(idle))

	retired, err := db.Run(ctx, "idle-cals", Params{Retired: true})
	if err != nil {
		return nil, err
	}
	pg.Retired = list(retired, maxRevokeRows, "qvmeter report idle-cals --retired",
		"cal_type", "user", "document", "last_used", "sessions", "retired_at", "pool")
	pg.RetiredCount = len(retired.Rows)

	spelled, err := db.run(ctx, userSpellingsReport, p)
	if err != nil {
		return nil, err
	}
	spelling := map[string]string{}
	for _, r := range records(spelled) {
		spelling[r.str("user_key")] = r.str("user")
	}
	for _, top := range []struct {
		by   string
		rows *[]topRow
	}{{"user", &pg.TopUsers}, {"document", &pg.TopDocuments}} {
		t, err := db.Run(ctx, "capacity", Params{By: top.by, Month: pg.CapacityMonth})
		if err != nil {
			return nil, err
		}
		recs := records(t)
		for _, r := range recs {
			if name, ok := spelling[r.str(top.by)]; ok && top.by == "user" {
				r[top.by] = name
			}
		}
		*top.rows = topRows(recs, top.by)
	}

	anomalies, err := db.Run(ctx, "anomalies", p)
	if err != nil {
		return nil, err
	}
	// The ones to act on first, then the informational ones.
	slices.SortStableFunc(anomalies.Rows, func(a, b []any) int {
		return cmp.Compare(anomalyClass(a[0]), anomalyClass(b[0]))
	})
	pg.Anomalies = list(anomalies, maxAnomalyRows, "qvmeter report anomalies",
		"kind", "when", "user", "document", "server", "observed", "limit", "detail", "source", "pool")
	attention := 0
	for i, r := range records(anomalies) {
		class := anomalyClass(r["kind"])
		if i < len(pg.Anomalies.Rows) {
			pg.Anomalies.Rows[i].Class = class
		}
		if class == "" {
			attention++
		}
	}

	adviceParams := p
	if adviceParams.Months == 0 { // the page weighs the default months
		adviceParams.Months, adviceParams.RareDays = DefaultAdviceMonths, DefaultRareDays
	}
	advice, err := Advise(ctx, db, adviceParams)
	if err != nil {
		return nil, err
	}
	pg.Advice = list(advice.Table, maxAdviceRows, "qvmeter report advice",
		"advice", "cal_type", "user", "current", "recommended", "saving", "new_denials", "why", "pool")
	pg.AdviceMonths = strings.Join(advice.Months, ", ")

	quality, err := db.Run(ctx, "data-quality", p)
	if err != nil {
		return nil, err
	}
	pg.DataQuality = list(quality, maxQualityRows, "qvmeter report data-quality", "server", "kind", "count", "detail")
	for _, r := range records(quality) {
		if r.str("kind") == "offsetless_times" && r.str("detail") == zoneDetail(dataset.NoZone) {
			pg.NoZone = append(pg.NoZone, r.str("server"))
		}
	}

	pg.Facts = facts(sum, records(concurrency), p.IdleDays, attention)
	if pg.DataUpTo, err = freshnessRows(db); err != nil {
		return nil, err
	}
	if pg.QMS, err = buildQMSPanels(ctx, db, p); err != nil {
		return nil, err
	}
	return pg, nil
}

// informationalAnomalies are the anomaly kinds that explain a figure
// rather than call for an action (a session across a month's end, one
// longer than the reorder horizon, a capacity count the rules corrected, a
// CAL type logged outside its era, session-CAL lines keyed without a client
// id): the page shows them in a neutral
// colour, after the others, and they do not make the summary's anomaly
// figure a warning. Every other kind (a pool exceeded, a wasted licence,
// a budget overrun, a server or CAL type the licence does not know) is to
// be acted on.
var informationalAnomalies = []string{"spans_month", "late_session", "capacity_count", "cal_type_outside_era", "usage_count_mismatch", "client_without_id"}

// anomalyClass is the listing row class of an anomaly kind: "info" for an
// informational one, "" for one to act on.
func anomalyClass(kind any) string {
	if k, _ := kind.(string); slices.Contains(informationalAnomalies, k) {
		return "info"
	}
	return ""
}

// facts are the summary's figures; attention is how many anomalies are to
// be acted on (the rest are informational).
func facts(sum record, concurrency []record, idleDays, attention int) []fact {
	n := func(name string) string { return display(sum[name]) }
	span := "no sessions"
	if first := sum.time("first_session"); !first.IsZero() {
		span = first.Format("2 Jan 2006") + " – " + sum.time("last_session").Format("2 Jan 2006")
	}
	used := sum.int("capacity_minutes")
	budget := sum.intPtr("capacity_budget_minutes")
	forecast := sum.intPtr("capacity_forecast_minutes")
	capacity := fact{Label: "Capacity " + sum.str("capacity_month"), Value: thousands(used) + " min",
		Note: "budget " + known(budget), Warn: budget != nil && max(used, deref(forecast)) > *budget}
	if forecast != nil {
		capacity.Note += " · forecast " + thousands(*forecast)
	}
	idle, anomalies := sum.int("idle_holders"), sum.int("anomalies")
	out := []fact{
		{Label: "Sessions", Value: n("sessions"), Note: span},
		{Label: "Users", Value: n("users"), Note: count(sum.int("servers"), "server")},
		{Label: "Named CALs", Value: n("named_holders"), Note: "and " + count(sum.int("document_holders"), "document CAL")},
		{Label: "Professional users", Value: n("professional_holders"), Note: "assigned"},
		{Label: "Analyzer users", Value: n("analyzer_holders"), Note: "assigned"},
		{Label: "Idle licences", Value: thousands(idle), Note: fmt.Sprintf("no use in %d days or more", idleDays), Warn: idle > 0},
		capacity,
	}
	// The busiest day of any pool, against that pool's size.
	var busiest record
	for _, r := range concurrency {
		if busiest == nil || r.int("peak") > busiest.int("peak") {
			busiest = r
		}
	}
	if busiest != nil {
		peak, pool := busiest.int("peak"), busiest.intPtr("pool_size")
		out = append(out, fact{Label: "Session CAL peak", Value: thousands(peak),
			Note: busiest.str("day") + " · pool " + known(pool), Warn: pool != nil && peak > *pool})
	}
	note := n("rejects") + " rejected lines · " + n("denials") + " denials"
	if informational := anomalies - int64(attention); informational > 0 {
		note = fmt.Sprintf("%s informational · %s", thousands(informational), note)
	}
	out = append(out, fact{Label: "Anomalies", Value: thousands(anomalies), Note: note, Warn: attention > 0})
	return out
}

// forecastRange is the forecast's range for the legend, or nothing.
func forecastRange(low, high *int64) string {
	if low == nil || high == nil {
		return ""
	}
	return fmt.Sprintf(" (90%% range %s to %s)", thousands(*low), thousands(*high))
}

// burnChart is the month's cumulative Analyzer Capacity minutes day by day
// up to the as-of day, against its budget, with the forecast from there to
// the month's end. Nil when the month has no capacity use and no budget.
func burnChart(month string, asOf time.Time, days []record, sum record) *chart {
	start, err := time.Parse("2006-01", month)
	budget, forecast := sum.intPtr("capacity_budget_minutes"), sum.intPtr("capacity_forecast_minutes")
	low, high := sum.intPtr("capacity_forecast_low_minutes"), sum.intPtr("capacity_forecast_high_minutes")
	if err != nil {
		return nil
	}
	n := start.AddDate(0, 1, -1).Day()
	daily := make([]int64, n)
	// The last day the state covers: the as-of day (the month's last day
	// when as-of is the next month's first instant).
	last := asOf.Add(-time.Millisecond).Day() - 1
	for _, d := range days {
		day, err := time.Parse("2006-01-02", d.str("day"))
		if err != nil {
			return nil
		}
		daily[day.Day()-1] += d.int("minutes")
	}
	cumulative := make([]float64, last+1)
	var total int64
	for i := range cumulative {
		total += daily[i]
		cumulative[i] = float64(total)
	}
	if total == 0 && budget == nil {
		return nil
	}
	yMax := float64(total)
	for _, v := range []*int64{budget, forecast, high} {
		if v != nil {
			yMax = max(yMax, float64(*v))
		}
	}
	c := newChart("chart-capacity-burn", fmt.Sprintf("Analyzer Capacity minutes used in %s, cumulative by day: %s of a budget of %s",
		start.Format("January 2006"), thousands(total), known(budget)), "minutes", n, yMax)
	labels := make([]string, n)
	for i := range labels {
		labels[i] = strconv.Itoa(i + 1)
	}
	c.labelX(labels)
	c.line(0, cumulative, "area", "")
	c.line(0, cumulative, "used", "minutes used so far")
	if forecast != nil && last >= 0 && last < n-1 {
		c.Lines = append(c.Lines, mark{Points: fmt.Sprintf("%g,%g %g,%g", round1(c.center(last)), c.y(cumulative[last]),
			round1(c.center(n-1)), c.y(float64(*forecast))), Class: "forecast", Title: "forecast at month end: " + thousands(*forecast) + " minutes"})
		if low != nil && high != nil {
			// The range: from the last day the lines to the low and high
			// ends, a fan that says how sure the forecast is.
			from := fmt.Sprintf("%g,%g", round1(c.center(last)), c.y(cumulative[last]))
			to := round1(c.center(n - 1))
			c.Lines = append(c.Lines, mark{Points: fmt.Sprintf("%s %g,%g %g,%g %s", from, to, c.y(float64(*high)), to, c.y(float64(*low)), from),
				Class: "forecast", Title: fmt.Sprintf("forecast range at month end (90%%): %s to %s minutes", thousands(*low), thousands(*high))})
		}
	}
	for i, v := range cumulative {
		c.dot(i, v, fmt.Sprintf("%s: %s minutes so far (+%s that day)",
			start.AddDate(0, 0, i).Format("2 Jan"), thousands(int64(v)), thousands(daily[i])))
	}
	budgets := make([]*int64, n)
	for i := range budgets {
		budgets[i] = budget
	}
	c.reference(budgets, "budget", "budget")
	c.legend(legendEntry{"used", "minutes used"}, legendEntry{"budget", "budget"},
		legendEntry{"forecast", "forecast at month end: " + known(forecast) + forecastRange(low, high)})
	var notes []string
	if budget == nil {
		notes = append(notes, "The budget is unknown: no licence gives one.")
	}
	// A simulation grants minutes the logs may not show: say so rather than
	// end the line at another figure than the summary's.
	if counted := sum.int("capacity_minutes"); counted != total {
		notes = append(notes, fmt.Sprintf("Minutes per day as logged (%s); the state counts %s for the month.", thousands(total), thousands(counted)))
	}
	c.Note = strings.Join(notes, " ")
	return c
}

// monthsChart is Analyzer Capacity minutes per month for the 12 months up
// to month (every pool together), against the budget, with the current
// month's forecast. Nil when none of the months had capacity use or a
// budget.
func monthsChart(month string, rows []record) *chart {
	end, err := time.Parse("2006-01", month)
	if err != nil {
		return nil
	}
	type total struct {
		minutes          int64
		forecast, budget *int64 // null unless some pool has one
	}
	add := func(to **int64, v *int64) {
		if v != nil {
			*to = new(deref(*to) + *v)
		}
	}
	byMonth := map[string]*total{}
	for _, r := range rows {
		t := byMonth[r.str("month")]
		if t == nil {
			t = &total{}
			byMonth[r.str("month")] = t
		}
		t.minutes += r.int("minutes")
		add(&t.forecast, r.intPtr("forecast_minutes"))
		add(&t.budget, r.intPtr("budget_minutes"))
	}
	labels := make([]string, capacityHistory)
	budgets := make([]*int64, capacityHistory)
	yMax := 0.0
	for i := range capacityHistory {
		m := end.AddDate(0, i-capacityHistory+1, 0)
		labels[i] = m.Format("Jan")
		if i == 0 || m.Month() == time.January {
			labels[i] = m.Format(displayMonthYear)
		}
		if t := byMonth[m.Format("2006-01")]; t != nil {
			budgets[i] = t.budget
			yMax = max(yMax, float64(t.minutes), float64(deref(t.forecast)), float64(deref(t.budget)))
		}
	}
	if yMax == 0 {
		return nil
	}
	c := newChart("chart-capacity-months", fmt.Sprintf("Analyzer Capacity minutes per month, %s to %s, against the budget",
		labels[0], end.Format(displayMonthYear)), "minutes", capacityHistory, yMax)
	c.labelX(labels)
	for i := range capacityHistory {
		m := end.AddDate(0, i-capacityHistory+1, 0)
		t := byMonth[m.Format("2006-01")]
		if t == nil {
			continue
		}
		used := t.minutes
		class, title := "used", fmt.Sprintf("%s: %s minutes, budget %s", labels[i], thousands(used), known(t.budget))
		if t.budget != nil && used > *t.budget {
			class, title = "over", title+fmt.Sprintf(" (%s over)", thousands(used-*t.budget))
		}
		if t.forecast != nil && *t.forecast > used {
			c.bar(i, float64(used), float64(*t.forecast), "forecast", fmt.Sprintf("%s: forecast %s minutes at month end", labels[i], thousands(*t.forecast)))
		}
		c.bar(i, 0, float64(used), class, title)
	}
	c.reference(budgets, "budget", "budget")
	c.legend(legendEntry{"used", "minutes used"}, legendEntry{"over", "over budget"}, legendEntry{"forecast", "forecast"},
		legendEntry{"budget", "budget"})
	if !slices.ContainsFunc(budgets, func(b *int64) bool { return b != nil }) {
		c.Note = "The budget is unknown: no licence gives one."
	}
	return c
}

// namedChart is the named CALs held at each week's end, active and idle.
// Nil when no named CAL was ever held.
func namedChart(weeks []record, idleDays int) *chart {
	var yMax float64
	for _, w := range weeks {
		yMax = max(yMax, float64(w.int("holders")))
	}
	if yMax == 0 {
		return nil
	}
	c := newChart("chart-named-holders", fmt.Sprintf("Named CALs held at the end of each week, split into active and idle (no use in %d days)", idleDays),
		"named CALs", len(weeks), yMax)
	labels := make([]string, len(weeks))
	for i, w := range weeks {
		week := w.time("week")
		labels[i] = week.Format(displayDay)
		active, idle := w.int("active"), w.int("idle")
		c.bar(i, 0, float64(active), "active", fmt.Sprintf("week of %s: %s active", week.Format("2 Jan 2006"), thousands(active)))
		c.bar(i, float64(active), float64(active+idle), "idle", fmt.Sprintf("week of %s: %s idle", week.Format("2 Jan 2006"), thousands(idle)))
	}
	c.labelX(labels)
	c.legend(legendEntry{"active", "active"}, legendEntry{"idle", fmt.Sprintf("idle %d days or more", idleDays)})
	return c
}

// concurrencyCharts are the daily session CAL peaks, one chart per pool,
// against the pool's size.
func concurrencyCharts(rows []record) []*chart {
	var pools []string
	byPool := map[string][]record{}
	for _, r := range rows {
		pool := r.str("pool")
		if byPool[pool] == nil {
			pools = append(pools, pool)
		}
		byPool[pool] = append(byPool[pool], r)
	}
	slices.Sort(pools)
	var charts []*chart
	for _, pool := range pools {
		days := byPool[pool]
		var yMax float64
		sizes := make([]*int64, len(days))
		labels := make([]string, len(days))
		for i, d := range days {
			sizes[i] = d.intPtr("pool_size")
			yMax = max(yMax, float64(d.int("peak")), float64(deref(sizes[i])))
			if day, err := time.Parse("2006-01-02", d.str("day")); err == nil {
				labels[i] = day.Format(displayDay)
			}
		}
		c := newChart("chart-concurrency-"+strconv.Itoa(len(charts)+1),
			fmt.Sprintf("Session CAL peak per day in pool %s against the pool size (%s)", pool, known(sizes[len(sizes)-1])),
			"session CALs", len(days), yMax)
		c.labelX(labels)
		for i, d := range days {
			peak := d.int("peak")
			class := "used"
			switch {
			case sizes[i] == nil:
			case peak > *sizes[i]:
				class = "over"
			case peak == *sizes[i]:
				class = "full"
			}
			c.bar(i, 0, float64(peak), class, fmt.Sprintf("%s: peak %s at %s UTC, pool %s, %s clients that day",
				d.str("day"), thousands(peak), d.time("peak_at").Format("15:04"), known(sizes[i]), thousands(d.int("clients"))))
		}
		c.reference(sizes, "budget", "pool")
		c.legend(legendEntry{"used", "peak"}, legendEntry{"full", "pool full"}, legendEntry{"over", "over the pool"},
			legendEntry{"budget", "pool size"})
		if sizes[len(sizes)-1] == nil {
			c.Note = "The pool size is unknown: no licence gives one."
		}
		charts = append(charts, c)
	}
	return charts
}

// pageColumns are the listing columns the page derives from several of a
// report's columns; every other listing column is the report's own.
var pageColumns = map[string]listColumn{
	"when": {Label: "when", Doc: "the time, day or month concerned", Class: "keep", value: func(r record) string {
		return cmp.Or(display(r["at"]), r.str("day"), r.str("month"))
	}},
	"source": {Label: "log line", Doc: "the log file and line behind it", value: func(r record) string {
		if r.int("source_line") == 0 {
			return r.str("source_file")
		}
		return fmt.Sprintf("%s:%d", r.str("source_file"), r.int("source_line"))
	}},
	// why is the advice's reason and evidence, whole: they are the advice.
	"why": {Label: "why", Doc: "the reason for the advice, and its evidence: months, minutes, days, peaks, prices", value: func(r record) string {
		why := strings.Join(slices.DeleteFunc([]string{r.str("reason"), r.str("evidence")}, func(s string) bool { return s == "" }), ". ")
		return strings.Map(func(c rune) rune {
			if unicode.IsControl(c) {
				return '\uFFFD'
			}
			return c
		}, why)
	}},
}

// list shows the named columns of t, at most limit rows (command lists
// them all). The pool column is left out when every row is in the default
// pool.
func list(t *Table, limit int, command string, columns ...string) listing {
	recs := records(t)
	l := listing{Command: command}
	for _, name := range columns {
		if name == "pool" && !slices.ContainsFunc(recs, func(r record) bool { return r.str("pool") != "default" }) {
			continue
		}
		if c, ok := pageColumns[name]; ok {
			l.Columns = append(l.Columns, c)
			continue
		}
		i := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == name })
		if i < 0 {
			panic("reports: no column " + name + " in report " + t.Report)
		}
		c := t.Columns[i]
		class := ""
		switch {
		case c.Kind == Int || c.Kind == Float:
			class = "num"
		case c.Kind == Time || c.Kind == Bool || slices.Contains(keepColumns, name):
			class = "keep"
		}
		l.Columns = append(l.Columns, listColumn{Label: c.Name, Doc: c.Doc, Class: class,
			value: func(r record) string { return display(r[name]) }})
	}
	for _, r := range recs[:min(limit, len(recs))] {
		row := listRow{Cells: make([][]string, len(l.Columns))}
		for i, c := range l.Columns {
			// A figure, a time or a code stays whole on its line.
			row.Cells[i] = []string{c.value(r)}
			if c.Class == "" {
				row.Cells[i] = pieces(c.value(r))
			}
		}
		l.Rows = append(l.Rows, row)
	}
	l.More = len(recs) - len(l.Rows)
	return l
}

// userSpellingsReport is how the logs spelled each user key of the
// current month's Analyzer Capacity sessions (the first spelling, by
// session start), for the top users table: the capacity report groups by
// key, and the page shows users as the logs spell them.
var userSpellingsReport = &Report{
	Name:        "user-spellings",
	Description: "the logs' spelling of each user key with Analyzer Capacity sessions in the current month",
	Columns: []Column{
		{"user_key", String, "user key (lower case)"},
		{"user", String, "the user as the logs first spelled them"},
	},
	build: func(Params) (string, []any, error) {
		return `
SELECT user_key, arg_min(coalesce(nullif(authenticated_user, ''), nullif(identifying_user, ''), user_key),
                         (session_start, source_file, source_line)) AS "user"
FROM sessions
WHERE cal_class = 'analyzer_capacity' AND strftime(session_end, '%Y-%m') = ` + currentMonthSQL + `
GROUP BY user_key`, nil, nil
	},
}

// topRows are the topCount users or documents (by: the capacity report's
// --by) with the most capacity minutes, every pool together.
func topRows(rows []record, by string) []topRow {
	type total struct {
		name              string
		minutes, sessions int64
	}
	var totals []*total
	index := map[string]*total{}
	var all int64
	for _, r := range rows {
		name := r.str(by)
		t := index[name]
		if t == nil {
			t = &total{name: name}
			index[name] = t
			totals = append(totals, t)
		}
		t.minutes += r.int("minutes")
		t.sessions += r.int("sessions")
		all += r.int("minutes")
	}
	slices.SortFunc(totals, func(a, b *total) int {
		return cmp.Or(cmp.Compare(b.minutes, a.minutes), cmp.Compare(a.name, b.name))
	})
	totals = slices.DeleteFunc(totals, func(t *total) bool { return t.minutes == 0 })
	var out []topRow
	for _, t := range totals[:min(topCount, len(totals))] {
		share := 100 * float64(t.minutes) / float64(all)
		out = append(out, topRow{Name: pieces(display(t.name)), Minutes: thousands(t.minutes), Sessions: thousands(t.sessions),
			Share: strconv.FormatFloat(share, 'f', 1, 64) + "%", Bar: round1(100 * float64(t.minutes) / float64(totals[0].minutes))})
	}
	return out
}

// count is n things: "1 server", "3 servers".
func count(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return thousands(n) + " " + thing + "s"
}

func deref(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// countByType says how many rows of each licence type there are: "3 named,
// 1 document".
func countByType(rows []record) string {
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.str("cal_type")]++
	}
	types := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %s", thousands(int64(counts[t])), t)
	}
	return strings.Join(parts, ", ")
}
