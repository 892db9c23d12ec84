package reports

// The licence advice: what the usage the logs show would have cost on
// another mix of licences, and which mix is cheaper. It weighs the last
// full UTC months before the as-of time with the prices of the licence
// file's [prices] table, writes the cheaper licence out as a what-if
// licence file, and checks it with a simulation (metering's Simulate mode,
// the rules meter --simulate applies) against the current licence's.
//
// The formulas (the README repeats them, with the columns):
//
//   - a price per month is the [prices] figure, or a twelfth of it when
//     period = "year"; a capacity minute costs capacity_minutes_pack /
//     capacity_pack_minutes a month.
//   - analyzer_seat: an identified user on Analyzer Capacity whose logged
//     minutes × the minute price exceed the Analyzer price in most months
//     of the window (more than half), and in the window's total.
//   - capacity_instead_of_seat: an Analyzer seat holder whose minutes would
//     have cost less than the seat in most months and in total. The log
//     records no minutes for a seat holder, so their minutes are the upper
//     bound 6 × ⌈duration / 6 min⌉ per session (idle time is not logged).
//   - capacity_budget: the most minutes any month of the window needs once
//     the seats above are moved (logged minutes of those staying on
//     capacity + the upper bound of the holders moving to it), rounded up
//     to whole packs.
//   - session_cal_pool: named CAL holders who used their CAL on at most
//     --rare-days days in every month of the window give their named CAL
//     up; the session CAL pool becomes the peak, replayed with metering's
//     session-CAL rule, of the logged session-CAL sessions and theirs
//     together. Advised when the named CALs given up cost more than the
//     session CALs added.
//   - usage_cal_pool: the smallest usage CAL pool under which no day of the
//     window ends at zero, replayed with metering's usage-CAL rule and the
//     licence's recharge model: for the logged usage CAL sessions, then in
//     a simulation of the what-if licence (which may send more sessions to
//     usage CALs), where no session may find none left either.
//   - total: the what-if licence's cost against the current licence's, for
//     the priced licence types, each over the months of the window in its
//     era (CAL pools before converted_at, SLK pools after).
//   - simulate_check: both licences simulated over the dataset up to the
//     window's end, each with the named CALs and seats assigned by hand to
//     the users who hold them in the logs (dynamic assignment alone would
//     hand them to whoever came first); a session of the window the what-if
//     licence denies and the current licence does not is a new denial.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
)

// Defaults of the advice's parameters.
const (
	DefaultAdviceMonths = 3 // --months
	DefaultRareDays     = 2 // --rare-days
)

// Advice kinds: the advice column.
const (
	adviceSeat           = "analyzer_seat"
	adviceCapacity       = "capacity_instead_of_seat"
	adviceBudget         = "capacity_budget"
	adviceSeats          = "analyzer_seats"
	adviceSessionForUser = "session_cal_instead_of_named"
	adviceSessionPool    = "session_cal_pool"
	adviceUsagePool      = "usage_cal_pool"
	adviceNoChange       = "no_change"
	adviceNotGiven       = "not_given"
	adviceTotal          = "total"
	adviceCheck          = "simulate_check"
)

var adviceReport = &Report{
	Name: "advice",
	Description: "the cheapest licence mix for the usage of the last --months full UTC months before the as-of time " +
		"(default 3), at the licence file's [prices]: a price per month (a twelfth of a yearly one); a capacity minute costs " +
		"capacity_minutes_pack / capacity_pack_minutes a month. analyzer_seat: an identified capacity user whose minutes × " +
		"that price exceed the Analyzer price in most months (more than half) and in total. capacity_instead_of_seat: an " +
		"Analyzer seat holder whose minutes, at the upper bound 6 × ⌈duration / 6 min⌉ per session, cost less than the seat in " +
		"most months and in total. capacity_budget: the most minutes a month then needs, in whole packs. " +
		"session_cal_instead_of_named, session_cal_pool: named CAL holders who used theirs on at most --rare-days days " +
		"(default 2) in every month give it up when the session CALs for the peak of their sessions and the logged " +
		"session CAL sessions together (metering's rule) cost less. usage_cal_pool: the smallest pool that leaves no day " +
		"at zero, for the logged use and in a simulation of the what-if licence (where no session may find none left). total: the what-if licence's cost " +
		"against the current one. Money counts the months of the window in the licence type's era (CAL before " +
		"converted_at, SLK after). simulate_check: both licences simulated, with the named CALs and seats assigned as the " +
		"logs show; new_denials are sessions only the what-if licence denies. --write-license FILE writes the what-if " +
		"licence for qvmeter meter --simulate --license FILE",
	Flags:   []string{"months", "rare-days", "write-license"},
	Columns: adviceColumns,
	compute: computeAdvice,
	check:   checkAdviceParams,
}

// adviceColumns are the advice report's columns.
var adviceColumns = []Column{
	{"advice", String, "analyzer_seat, capacity_instead_of_seat, analyzer_seats, capacity_budget, session_cal_instead_of_named, session_cal_pool, usage_cal_pool, no_change, not_given, total or simulate_check"},
	{"cal_type", String, "the licence type concerned: analyzer, analyzer_capacity, named, session, usage, document, professional (empty: all)"},
	{"user", String, "per-user rows: the user as the logs spelled them"},
	{"months", Int, "months the row weighs: the window's full UTC months (from the first with data) in the licence type's era"},
	{"months_favouring", Int, "per-user rows: months in which the advised licence was the cheaper"},
	{"minutes", Int, "capacity minutes over the window (seat holders: the upper bound); capacity_budget: the most any month needs"},
	{"peak", Int, "session_cal_pool: most session CALs held at once; usage_cal_pool: most usage CALs consumed within 28 days"},
	{"current", Int, "pool rows: licences (capacity: minutes a month) in the current licence"},
	{"recommended", Int, "pool rows: licences (capacity: minutes a month) in the what-if licence"},
	{"current_cost", Float, "what the row concerns costs over the window on the current licence, at [prices]"},
	{"recommended_cost", Float, "what it would have cost on the advised licence"},
	{"saving", Float, "current_cost − recommended_cost (negative: the advice costs more, to avoid denials)"},
	{"new_denials", Int, "simulate_check: sessions of the window the what-if licence denies and the current one does not"},
	{"evidence", String, "the figures behind the advice: months, minutes, days, peaks, prices"},
	{"reason", String, "why the advice is given, or not"},
	{"pool", String, `licence group: the [[group]] name in the licence file, or "default"; empty on the simulate_check row`},
}

func computeAdvice(ctx context.Context, db *DB, p Params) (*Table, error) {
	a, err := Advise(ctx, db, p)
	if err != nil {
		return nil, err
	}
	if p.WriteLicense != "" {
		if a.WhatIf == nil {
			return nil, errors.New("--write-license: no what-if licence without a licence file")
		}
		if err := WriteLicenseFile(p.WriteLicense, a.WhatIf, a.Header()); err != nil {
			return nil, fmt.Errorf("--write-license: %w", err)
		}
	}
	return a.Table, nil
}

// Advice is the outcome of Advise: the report's table, and the what-if
// licence it advises (nil without a licence file).
type Advice struct {
	Table  *Table
	WhatIf *metering.License
	// Months are the UTC months weighed, YYYY-MM.
	Months []string
	// NewDenials are the sessions the simulation of WhatIf denies and the
	// current licence's does not (-1: no licence, nothing to check).
	NewDenials int
	from       string // the licence file advised on
}

// Header is the comment a written what-if licence starts with.
func (a *Advice) Header() string {
	return fmt.Sprintf("# What-if licence written by qvmeter report advice from %s,\n# weighing %s. Check it with qvmeter meter --simulate --license FILE.\n",
		a.from, strings.Join(a.Months, ", "))
}

// window is the full UTC months the advice weighs.
type window struct {
	start, end time.Time // [start, end)
	months     []string
}

func (w window) n() int64 { return int64(len(w.months)) }

// newWindow is the last n full UTC months before asOf, starting no earlier
// than the month of the first session.
func newWindow(asOf time.Time, n int, first time.Time) window {
	end := time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, -n, 0)
	if firstMonth := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); !first.IsZero() && firstMonth.After(start) {
		start = firstMonth
	}
	w := window{start: start, end: end}
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		w.months = append(w.months, m.Format("2006-01"))
	}
	return w
}

// adviser builds the advice rows of one licence.
type adviser struct {
	db     *DB
	p      Params
	w      window
	lic    *metering.License
	prices *metering.Prices
	rows   []adviceRow
	whatIf *metering.License // the licence being advised, as far as it goes
	files  *dataset.Files    // listed for the first simulation
}

type adviceRow struct {
	advice, calType, user                                       string
	months, favouring, minutes, peak, current, recommended, new *int64
	currentCost, recommendedCost                                *float64
	evidence, reason, pool                                      string
}

func ptr[T any](v T) *T { return &v }

// checkAdviceParams refuses --months and --rare-days the advice cannot
// weigh.
func checkAdviceParams(p Params) error {
	switch {
	case p.Months < 1:
		return fmt.Errorf("--months %d: want at least 1", p.Months)
	case p.RareDays < 0:
		return fmt.Errorf("--rare-days %d: want 0 or more", p.RareDays)
	}
	return nil
}

// Advise computes the licence advice of db's state (see the package
// comment of advice.go for the formulas) and checks the what-if licence
// with a simulation.
func Advise(ctx context.Context, db *DB, p Params) (*Advice, error) {
	if err := checkAdviceParams(p); err != nil {
		return nil, err
	}
	first, err := db.records(ctx, "advice-first", []Column{{"first", Time, ""}}, `SELECT min(session_end) AS "first" FROM sessions`)
	if err != nil {
		return nil, err
	}
	a := &adviser{db: db, p: p, w: newWindow(db.asOf, p.Months, first[0].time("first"))}
	out := &Advice{Months: a.w.months, NewDenials: -1}
	switch {
	case db.info.Mode == metering.Simulate:
		a.add(adviceRow{advice: adviceNotGiven, reason: "the state is a simulation (meter --simulate): the advice weighs the logged usage; meter without --simulate"})
	case len(a.w.months) == 0:
		a.add(adviceRow{advice: adviceNotGiven, reason: fmt.Sprintf("no full UTC month of sessions before the as-of time %s", db.asOf.Format(time.RFC3339))})
	case db.lic == nil:
		a.add(adviceRow{advice: adviceNotGiven, reason: "no licence file: pool sizes and prices unknown (give --license FILE with a [prices] table)"})
	default:
		a.lic, a.prices, out.from = db.lic, db.lic.Prices, db.info.LicenseFile
		current, err := a.assignedAsLogged(ctx)
		if err != nil {
			return nil, err
		}
		if out.WhatIf, err = a.advise(ctx, current); err != nil {
			return nil, err
		}
		if out.NewDenials, err = a.check(ctx, current, out.WhatIf); err != nil {
			return nil, err
		}
	}
	out.Table = a.table()
	return out, nil
}

// assignedAsLogged is the licence with the named CALs, Professional and
// Analyzer seats assigned by hand to the users who hold them in the logs:
// the current licence as the server handed it out, which the what-if
// licence starts from and the simulation compares it with. (Simulated
// with dynamic assignment alone, seats would go to whoever came first.)
func (a *adviser) assignedAsLogged(ctx context.Context) (*metering.License, error) {
	lic := a.lic.Clone()
	recs, err := a.db.records(ctx, "advice-holders", []Column{{"pool", String, ""}, {"cal_type", String, ""}, {"user_key", String, ""}}, `
SELECT pool, cal_type, user_key FROM holders
WHERE NOT revoked AND cal_type IN ('named', 'professional', 'analyzer') ORDER BY pool, cal_type, user_key`)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		cal, slk := lic.CAL, lic.SLK
		for i := range lic.Groups {
			if lic.Groups[i].Name == r.str("pool") {
				cal, slk = lic.Groups[i].CAL, lic.Groups[i].SLK
			}
		}
		switch user := r.str("user_key"); {
		case r.str("cal_type") == "named" && cal != nil:
			cal.NamedUsers = append(cal.NamedUsers, user)
		case r.str("cal_type") == "professional" && slk != nil:
			slk.ProfessionalUsers = append(slk.ProfessionalUsers, user)
		case r.str("cal_type") == "analyzer" && slk != nil:
			slk.AnalyzerUsers = append(slk.AnalyzerUsers, user)
		}
	}
	return lic, nil
}

// advise weighs every pool of the licence and returns the what-if licence:
// current (the licence as assigned in the logs) changed by the advice.
func (a *adviser) advise(ctx context.Context, current *metering.License) (*metering.License, error) {
	whatIf := current.Clone()
	a.whatIf = whatIf
	if a.prices == nil {
		a.add(adviceRow{advice: adviceNotGiven, reason: "the licence file has no [prices] table: no licence type can be weighed"})
	}
	type poolPair struct {
		name           string
		cal, whatIfCAL *metering.CALPools
		slk, whatIfSLK *metering.SLKPools
	}
	pools := []poolPair{{metering.DefaultPool, a.lic.CAL, whatIf.CAL, a.lic.SLK, whatIf.SLK}}
	for i, g := range a.lic.Groups {
		pools = append(pools, poolPair{g.Name, g.CAL, whatIf.Groups[i].CAL, g.SLK, whatIf.Groups[i].SLK})
	}
	for _, pp := range pools {
		calEra := a.era(true, pp.cal != nil, pp.slk != nil)
		slkEra := a.era(false, pp.cal != nil, pp.slk != nil)
		if pp.slk != nil {
			if err := a.adviseSLK(ctx, pp.name, pp.slk, pp.whatIfSLK, slkEra); err != nil {
				return nil, err
			}
			// A licence file assigns no more users than it licenses.
			pp.whatIfSLK.Professional = max(pp.whatIfSLK.Professional, len(pp.whatIfSLK.ProfessionalUsers))
			pp.whatIfSLK.Analyzer = max(pp.whatIfSLK.Analyzer, len(pp.whatIfSLK.AnalyzerUsers))
		}
		if pp.cal != nil {
			if err := a.adviseCAL(ctx, pp.name, pp.cal, pp.whatIfCAL, calEra); err != nil {
				return nil, err
			}
			pp.whatIfCAL.Named = max(pp.whatIfCAL.Named, len(pp.whatIfCAL.NamedUsers))
		}
		a.total(pp.name, pp.cal, pp.whatIfCAL, calEra, pp.slk, pp.whatIfSLK, slkEra)
	}
	return whatIf, nil
}

func (a *adviser) add(r adviceRow) {
	if r.months == nil && len(a.w.months) > 0 {
		r.months = ptr(a.w.n())
	}
	a.rows = append(a.rows, r)
}

// missing returns the [prices] keys among keys that are not given.
func (a *adviser) missing(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := a.prices.Monthly(k); !ok {
			out = append(out, k)
		}
	}
	return out
}

func (a *adviser) price(key string) float64 { v, _ := a.prices.Monthly(key); return v }

// notPriced adds the row saying which prices an advice lacks.
func (a *adviser) notPriced(pool, calType, what string, missing []string) {
	a.add(adviceRow{advice: adviceNotGiven, calType: calType, pool: pool,
		reason: fmt.Sprintf("%s not weighed: [prices] lacks %s", what, strings.Join(missing, " and "))})
}

// monthMinutes is one user's capacity minutes per month of the window.
type monthMinutes map[string]int64

func (m monthMinutes) total() int64 {
	var t int64
	for _, v := range m {
		t += v
	}
	return t
}

// evidence lists the minutes and their cost per month.
func minutesEvidence(months []string, m monthMinutes, minute, seat float64, bound string) string {
	parts := make([]string, len(months))
	for i, month := range months {
		parts[i] = fmt.Sprintf("%s: %s%s min = %s", month, bound, thousands(m[month]), money(float64(m[month])*minute))
	}
	return fmt.Sprintf("%s; Analyzer seat %s a month; a minute %s a month", strings.Join(parts, "; "), money(seat), money(minute))
}

// money writes an amount to the cent.
func money(v float64) string { return fmt.Sprintf("%.2f", v) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// adviseSLK weighs capacity minutes against Analyzer seats in one pool.
func (a *adviser) adviseSLK(ctx context.Context, pool string, slk, whatIf *metering.SLKPools, e era) error {
	if slk.Professional > 0 {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNoChange, calType: "professional", pool: pool, current: ptr(int64(slk.Professional)), recommended: ptr(int64(slk.Professional)),
			reason: "Professional users are kept as licensed: the logs do not show who needs Professional rights"})
	}
	if missing := a.missing(metering.PriceAnalyzer, metering.PriceCapacityMinutesPack); len(missing) > 0 {
		a.notPriced(pool, "analyzer", "Analyzer seats against Analyzer Capacity", missing)
		return nil
	}
	if e.n() == 0 {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNotGiven, calType: "analyzer", pool: pool,
			reason: "no month of the window is in the licence's SLK era: Analyzer seats and capacity not weighed"})
		return nil
	}
	seat := a.price(metering.PriceAnalyzer)
	minute, _ := a.prices.MinuteMonthly()
	users, err := a.capacityUsers(ctx, pool, e)
	if err != nil {
		return err
	}
	holders, err := a.seatHolders(ctx, pool, e)
	if err != nil {
		return err
	}
	n := e.n()
	perMonth := monthMinutes{} // what the capacity budget must carry each month
	var seated, released []string
	for _, u := range users {
		favouring, cost := 0, float64(u.minutes.total())*minute
		for _, month := range e.months {
			perMonth[month] += u.minutes[month]
			if float64(u.minutes[month])*minute > seat {
				favouring++
			}
		}
		if u.anonymous || int64(favouring)*2 <= n || cost <= seat*float64(n) {
			continue
		}
		seated = append(seated, u.key)
		for month, m := range u.minutes {
			perMonth[month] -= m
		}
		a.add(adviceRow{months: ptr(e.n()), advice: adviceSeat, calType: "analyzer", user: u.display, pool: pool, favouring: ptr(int64(favouring)),
			minutes: ptr(u.minutes.total()), currentCost: ptr(cost), recommendedCost: ptr(seat * float64(n)),
			evidence: minutesEvidence(e.months, u.minutes, minute, seat, ""),
			reason:   fmt.Sprintf("capacity cost more than a seat in %d of %d months", favouring, n)})
	}
	var kept []string
	for _, h := range holders {
		favouring, cost := 0, float64(h.minutes.total())*minute
		for _, month := range e.months {
			if float64(h.minutes[month])*minute < seat {
				favouring++
			}
		}
		if int64(favouring)*2 <= n || cost >= seat*float64(n) {
			kept = append(kept, h.key)
			continue
		}
		released = append(released, h.key)
		for month, m := range h.minutes {
			perMonth[month] += m
		}
		a.add(adviceRow{months: ptr(e.n()), advice: adviceCapacity, calType: "analyzer", user: h.display, pool: pool, favouring: ptr(int64(favouring)),
			minutes: ptr(h.minutes.total()), currentCost: ptr(seat * float64(n)), recommendedCost: ptr(cost),
			evidence: minutesEvidence(e.months, h.minutes, minute, seat, "≤ ") + fmt.Sprintf("; %d sessions", h.sessions),
			reason: fmt.Sprintf("capacity would have cost less than the seat in %d of %d months, even at the upper bound of "+
				"6 × ⌈duration / 6 min⌉ per session (a seat holder's active minutes are not logged)", favouring, n)})
	}
	if len(users) == 0 && len(holders) == 0 {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNoChange, calType: "analyzer", pool: pool, reason: "no Analyzer seat holder and no capacity use in the window"})
	}
	var needed int64
	neededMonth := ""
	for _, month := range e.months {
		if perMonth[month] > needed || neededMonth == "" {
			needed, neededMonth = perMonth[month], month
		}
	}
	pack := a.prices.CapacityPackMinutes
	budget := (needed + pack - 1) / pack * pack
	advice, reason := adviceBudget, "the most minutes a month needs, in whole packs"
	if budget == slk.CapacityMinutes {
		advice, reason = adviceNoChange, "the budget fits the most minutes a month needs, in whole packs"
	}
	a.add(adviceRow{months: ptr(e.n()), advice: advice, calType: "analyzer_capacity", pool: pool, minutes: ptr(needed),
		current: ptr(slk.CapacityMinutes), recommended: ptr(budget),
		currentCost: ptr(float64(slk.CapacityMinutes) * minute * float64(n)), recommendedCost: ptr(float64(budget) * minute * float64(n)),
		evidence: fmt.Sprintf("%s needs %s min once %d users move to seats and %d seat holders to capacity; packs of %s min",
			neededMonth, thousands(needed), len(seated), len(released), thousands(pack)),
		reason: reason})
	analyzers := slk.Analyzer - len(released) + len(seated)
	advice = adviceSeats
	if analyzers == slk.Analyzer {
		advice = adviceNoChange
	}
	a.add(adviceRow{months: ptr(e.n()), advice: advice, calType: "analyzer", pool: pool,
		current: ptr(int64(slk.Analyzer)), recommended: ptr(int64(analyzers)),
		currentCost: ptr(float64(slk.Analyzer) * seat * float64(n)), recommendedCost: ptr(float64(analyzers) * seat * float64(n)),
		evidence: fmt.Sprintf("%d seats held; %d to add, %d to release", len(holders), len(seated), len(released)),
		reason:   "Analyzer seats: the licensed ones, plus the seats advised, less those released"})
	whatIf.CapacityMinutes = budget
	if len(seated) > 0 || len(released) > 0 {
		whatIf.AnalyzerUsers = append(kept, seated...)
		whatIf.Analyzer = max(analyzers, len(whatIf.AnalyzerUsers))
	}
	return nil
}

// capacityUser is one user's logged capacity minutes in the window.
type capacityUser struct {
	key, display string
	anonymous    bool // keyed on a client machine: cannot hold a seat
	minutes      monthMinutes
}

func (a *adviser) capacityUsers(ctx context.Context, pool string, e era) ([]capacityUser, error) {
	recs, err := a.db.records(ctx, "advice-capacity-users", []Column{
		{"user_key", String, ""}, {"display", String, ""}, {"anonymous", Bool, ""}, {"month", String, ""}, {"minutes", Int, ""},
	}, `
WITH c AS (SELECT user_key, month, sum(minutes)::BIGINT AS minutes FROM capacity
           WHERE pool = $1 AND month >= $2 AND month <= $3 GROUP BY user_key, month),
u AS (SELECT user_key, min(coalesce(authenticated_user, identifying_user)) AS display,
             bool_or(lower(coalesce(client_machine_id, '')) = user_key) AS anonymous
      FROM sessions WHERE user_key IN (SELECT user_key FROM c) GROUP BY user_key)
SELECT c.user_key, coalesce(u.display, c.user_key) AS display, coalesce(u.anonymous, false) AS anonymous, c.month, c.minutes
FROM c LEFT JOIN u USING (user_key) ORDER BY c.user_key, c.month`, pool, e.months[0], e.months[len(e.months)-1])
	if err != nil {
		return nil, err
	}
	var out []capacityUser
	for _, r := range recs {
		if len(out) == 0 || out[len(out)-1].key != r.str("user_key") {
			out = append(out, capacityUser{key: r.str("user_key"), display: r.str("display"), anonymous: r["anonymous"] == true, minutes: monthMinutes{}})
		}
		out[len(out)-1].minutes[r.str("month")] = r.int("minutes")
	}
	return out, nil
}

// seatHolder is an Analyzer seat holder with the upper bound of the
// capacity minutes their sessions in the window would have cost.
type seatHolder struct {
	key, display string
	sessions     int64
	minutes      monthMinutes
}

func (a *adviser) seatHolders(ctx context.Context, pool string, e era) ([]seatHolder, error) {
	recs, err := a.db.records(ctx, "advice-seat-holders", []Column{
		{"user_key", String, ""}, {"user", String, ""}, {"month", String, ""}, {"minutes", Int, ""}, {"sessions", Int, ""},
	}, `
SELECT h.user_key, h."user", strftime(s.session_end, '%Y-%m') AS month,
       coalesce(sum(6 * greatest(1, ceil(s.duration_ms / 360000.0))), 0)::BIGINT AS minutes, count(s.session_end) AS sessions
FROM holders h
LEFT JOIN sessions s ON s.user_key = h.user_key AND s.cal_class = 'analyzer' AND list_contains(h.servers, s.server)
                    AND s.session_end >= $2 AND s.session_end < $3
WHERE h.pool = $1 AND h.cal_type = 'analyzer' AND NOT h.revoked
GROUP BY ALL ORDER BY h.user_key, month`, pool, e.start, e.end)
	if err != nil {
		return nil, err
	}
	var out []seatHolder
	for _, r := range recs {
		if len(out) == 0 || out[len(out)-1].key != r.str("user_key") {
			out = append(out, seatHolder{key: r.str("user_key"), display: r.str("user"), minutes: monthMinutes{}})
		}
		h := &out[len(out)-1]
		if month := r.str("month"); month != "" {
			h.minutes[month] = r.int("minutes")
		}
		h.sessions += r.int("sessions")
	}
	return out, nil
}

// era is the part of the window in which a pool's sessions drew on its
// CAL pools, or on its SLK pools (metering's rule: the CAL era before
// converted_at when a pool has both, the only one when it has one).
type era struct {
	start, end time.Time
	months     []string // the window's months that overlap [start, end)
}

func (e era) n() int64 { return int64(len(e.months)) }

func (a *adviser) era(calEra, hasCAL, hasSLK bool) era {
	start, end := a.w.start, a.w.end
	switch converted := a.lic.ConvertedAt.UTC(); {
	case hasCAL && hasSLK && a.lic.ConvertedAt.IsZero():
		if !calEra {
			end = start
		}
	case hasCAL && hasSLK && calEra:
		end = minTime(end, converted)
	case hasCAL && hasSLK:
		start = maxTime(start, converted)
	}
	e := era{start: start, end: end}
	for _, month := range a.w.months {
		if m, _ := time.Parse("2006-01", month); m.Before(end) && m.AddDate(0, 1, 0).After(start) {
			e.months = append(e.months, month)
		}
	}
	return e
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// adviseCAL weighs named CALs against session CALs and sizes the usage CAL
// pool in one pool.
func (a *adviser) adviseCAL(ctx context.Context, pool string, cal, whatIf *metering.CALPools, e era) error {
	if e.n() == 0 {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNotGiven, calType: "named", pool: pool,
			reason: "no month of the window is in the licence's CAL era: CAL pools not weighed"})
		return nil
	}
	if cal.DocumentTotal > 0 {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNoChange, calType: "document", pool: pool, current: ptr(int64(cal.DocumentTotal)), recommended: ptr(int64(cal.DocumentTotal)),
			reason: "Document CALs are kept as licensed: the advice does not weigh them against named CALs"})
	}
	if missing := a.missing(metering.PriceNamedCAL, metering.PriceSessionCAL); len(missing) > 0 {
		a.notPriced(pool, "session", "Session CALs for the named CAL holders who use theirs rarely", missing)
	} else if err := a.adviseSessionPool(ctx, pool, cal, whatIf, e); err != nil {
		return err
	}
	if missing := a.missing(metering.PriceUsageCAL); len(missing) > 0 {
		a.notPriced(pool, "usage", "The usage CAL pool", missing)
		return nil
	}
	return a.adviseUsagePool(ctx, pool, cal, whatIf, e)
}

// rareHolder is a named CAL holder with the days they used it per month.
type rareHolder struct {
	key, display string
	days         monthMinutes // days per month, in the same map type
}

func (a *adviser) adviseSessionPool(ctx context.Context, pool string, cal, whatIf *metering.CALPools, e era) error {
	recs, err := a.db.records(ctx, "advice-named-days", []Column{
		{"user_key", String, ""}, {"user", String, ""}, {"month", String, ""}, {"days", Int, ""},
	}, `
SELECT h.user_key, h."user", strftime(s.session_end, '%Y-%m') AS month, count(DISTINCT s.session_end::DATE) AS days
FROM holders h
LEFT JOIN sessions s ON s.user_key = h.user_key AND s.cal_class = 'named' AND list_contains(h.servers, s.server)
                    AND s.session_end >= $2 AND s.session_end < $3
WHERE h.pool = $1 AND h.cal_type = 'named' AND NOT h.revoked
GROUP BY ALL ORDER BY h.user_key, month`, pool, e.start, e.end)
	if err != nil {
		return err
	}
	var holders []rareHolder
	for _, r := range recs {
		if len(holders) == 0 || holders[len(holders)-1].key != r.str("user_key") {
			holders = append(holders, rareHolder{key: r.str("user_key"), display: r.str("user"), days: monthMinutes{}})
		}
		if month := r.str("month"); month != "" {
			holders[len(holders)-1].days[month] = r.int("days")
		}
	}
	var rare []rareHolder
	var kept []string
	for _, h := range holders {
		most := int64(0)
		for _, d := range h.days {
			most = max(most, d)
		}
		if most <= int64(a.p.RareDays) {
			rare = append(rare, h)
		} else {
			kept = append(kept, h.key)
		}
	}
	months := e.months
	if len(rare) == 0 {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNoChange, calType: "named", pool: pool, current: ptr(int64(cal.Named)), recommended: ptr(int64(cal.Named)),
			reason: fmt.Sprintf("every named CAL holder used it on more than %d days in some month", a.p.RareDays)})
		return nil
	}
	keys := make([]string, len(rare))
	for i, h := range rare {
		keys[i] = h.key
	}
	peak, peakAt, err := a.sessionPeak(ctx, pool, keys, e.start, e.end)
	if err != nil {
		return err
	}
	named, session := a.price(metering.PriceNamedCAL), a.price(metering.PriceSessionCAL)
	n := float64(len(months))
	newNamed := cal.Named - len(rare)
	current := float64(cal.Named)*named + float64(cal.Session)*session
	advised := float64(max(newNamed, 0))*named + float64(peak)*session
	evidence := fmt.Sprintf("%d named CAL holders used theirs on at most %d days a month; with the logged session CAL use, at most %d "+
		"client instances at once (%s); named CAL %s, session CAL %s a month", len(rare), a.p.RareDays, peak, peakAt, money(named), money(session))
	if advised >= current {
		a.add(adviceRow{months: ptr(e.n()), advice: adviceNoChange, calType: "session", pool: pool, peak: ptr(peak), current: ptr(int64(cal.Session)), recommended: ptr(int64(cal.Session)),
			currentCost: ptr(current * n), recommendedCost: ptr(advised * n), evidence: evidence,
			reason: "the session CALs the rare users' peaks need cost as much as or more than their named CALs"})
		return nil
	}
	for _, h := range rare {
		parts := make([]string, len(months))
		for i, month := range months {
			parts[i] = fmt.Sprintf("%s: %d days", month, h.days[month])
		}
		a.add(adviceRow{months: ptr(e.n()), advice: adviceSessionForUser, calType: "named", user: h.display, pool: pool,
			currentCost: ptr(named * n), evidence: strings.Join(parts, "; "),
			reason: fmt.Sprintf("used the named CAL on at most %d days a month: the session CAL pool carries them", a.p.RareDays)})
	}
	a.add(adviceRow{months: ptr(e.n()), advice: adviceSessionPool, calType: "session", pool: pool, peak: ptr(peak),
		current: ptr(int64(cal.Session)), recommended: ptr(peak), currentCost: ptr(current * n), recommendedCost: ptr(advised * n),
		evidence: evidence + fmt.Sprintf("; named CALs %d → %d", cal.Named, max(newNamed, 0)),
		reason:   "the rare users' named CALs cost more than the session CALs their peaks need"})
	whatIf.Session = int(peak)
	whatIf.NamedUsers = kept
	whatIf.Named = max(newNamed, len(kept))
	return nil
}

// sessionPeak replays, with metering's session CAL rule, the logged
// session CAL sessions of [start, end) together with the named CAL
// sessions of users, and returns the pool's highest daily peak.
func (a *adviser) sessionPeak(ctx context.Context, pool string, users []string, start, end time.Time) (int64, string, error) {
	rows, err := a.sessionRows(ctx, `(cal_class = 'session' OR (cal_class = 'named' AND list_contains(string_split($3, chr(0)), user_key)))`,
		start, end, strings.Join(users, "\x00"))
	if err != nil {
		return 0, "", err
	}
	for i := range rows {
		rows[i].CALClass = "session"
	}
	st, err := metering.ReplayRows(metering.Config{AsOf: end, License: a.lic}, rows)
	if err != nil {
		return 0, "", err
	}
	var peak int64
	at := "no session CAL held"
	for _, c := range st.Concurrency {
		if c.Pool == pool && c.Peak > peak {
			peak, at = c.Peak, time.UnixMilli(c.PeakAt).UTC().Format(displayTime)
		}
	}
	return peak, at, nil
}

// sessionRows reads the sessions that ended in [start, end) and match the
// condition (which may use $3 = extra) as dataset rows, for the rules.
func (a *adviser) sessionRows(ctx context.Context, condition string, start, end time.Time, extra string) ([]dataset.SessionRow, error) {
	recs, err := a.db.records(ctx, "advice-sessions", []Column{
		{"session_start", Time, ""}, {"session_end", Time, ""}, {"duration_ms", Int, ""}, {"user_key", String, ""},
		{"document_key", String, ""}, {"server", String, ""}, {"client_machine_id", String, ""}, {"client_type", String, ""},
		{"exe_version", String, ""}, {"cal_class", String, ""}, {"cal_usage_count", Int, ""}, {"source_file", String, ""},
		{"source_line", Int, ""},
	}, `
SELECT session_start, session_end, duration_ms, user_key, document_key, server, client_machine_id, client_type, exe_version,
       cal_class, cal_usage_count, source_file, source_line
FROM sessions WHERE session_end >= $1 AND session_end < $2 AND `+condition+`
ORDER BY session_end, source_file, source_line`, start, end, extra)
	if err != nil {
		return nil, err
	}
	rows := make([]dataset.SessionRow, len(recs))
	for i, r := range recs {
		opt := func(name string) *string {
			if v, ok := r[name].(string); ok {
				return &v
			}
			return nil
		}
		rows[i] = dataset.SessionRow{SessionStart: r.time("session_start").UnixMilli(), SessionEnd: r.time("session_end").UnixMilli(),
			DurationMS: r.int("duration_ms"), UserKey: r.str("user_key"), DocumentKey: r.str("document_key"), Server: r.str("server"),
			ClientMachineID: opt("client_machine_id"), ClientType: opt("client_type"), ExeVersion: opt("exe_version"),
			CALClass: r.str("cal_class"), CALUsageCount: r.intPtr("cal_usage_count"), SourceFile: r.str("source_file"),
			SourceLine: r.int("source_line")}
	}
	return rows, nil
}

// adviseUsagePool finds the smallest usage CAL pool that leaves no day of
// the window at zero: the logged usage CAL sessions (from 28 days before
// the window, which still hold CALs on its first days) replayed with
// metering's usage CAL rule for each candidate size.
func (a *adviser) adviseUsagePool(ctx context.Context, pool string, cal, whatIf *metering.CALPools, e era) error {
	start, end := e.start, e.end
	rows, err := a.sessionRows(ctx, "cal_class = 'usage' AND $3 = $3", start.AddDate(0, 0, -28), end, "")
	if err != nil {
		return err
	}
	firstDay, lastDay := start.Format(time.DateOnly), end.Add(-time.Millisecond).Format(time.DateOnly)
	// zeroDays replays the rows with a pool of size and counts the days of
	// the window that end at zero, and the most consumed within 28 days.
	zeroDays := func(size int) (days int64, peak int64, err error) {
		lic := a.lic.Clone()
		pools := map[string]*metering.CALPools{metering.DefaultPool: lic.CAL}
		for _, g := range lic.Groups {
			pools[g.Name] = g.CAL
		}
		pools[pool].Usage = size
		st, err := metering.ReplayRows(metering.Config{AsOf: end, License: lic}, rows)
		if err != nil {
			return 0, 0, err
		}
		for _, u := range st.Usage {
			if u.Pool == pool && u.Day >= firstDay && u.Day <= lastDay {
				if u.AtZero {
					days++
				}
				if u.Available != nil {
					peak = max(peak, int64(math.Ceil(float64(size)-*u.Available)))
				}
			}
		}
		return days, peak, nil
	}
	atZero, _, err := zeroDays(cal.Usage)
	if err != nil {
		return err
	}
	logged, err := smallestSize(0, func(size int) (int64, error) { days, _, err := zeroDays(size); return days, err })
	if err != nil {
		return err
	}
	_, peak, err := zeroDays(logged)
	if err != nil {
		return err
	}
	// The what-if licence may send more sessions to usage CALs than the
	// logs did (named CAL holders given up, fewer session CALs): size the
	// pool on its simulation, no smaller than the logged use needs, so that
	// no day of the window ends at zero and no session finds none left.
	short := func(size int) (int64, error) {
		whatIf.Usage = size
		st, err := a.simulate(ctx, a.whatIf)
		if err != nil {
			return 0, err
		}
		var short int64
		for _, u := range st.Usage {
			if u.Pool == pool && u.AtZero && u.Day >= firstDay && u.Day <= lastDay {
				short++
			}
		}
		for _, d := range st.Denials {
			if d.Pool == pool && d.Reason == metering.DenyNoCALFree && d.At >= start.UnixMilli() && d.At < end.UnixMilli() {
				short++
			}
		}
		return short, nil
	}
	var size int
	if cal.UsageRecharge == metering.RechargePerCAL {
		lo, hi, err := a.usageBounds(ctx, pool, e, logged)
		if err != nil {
			return err
		}
		size, err = bisect(lo, hi, short)
		if err != nil {
			return err
		}
	} else if size, err = smallestSize(logged, short); err != nil {
		return err
	}
	whatIf.Usage = size
	price := a.price(metering.PriceUsageCAL)
	n := float64(e.n())
	advice, reason := adviceUsagePool, "the smallest pool that leaves no day at zero"
	switch {
	case size == cal.Usage:
		advice, reason = adviceNoChange, "the pool is the smallest that leaves no day at zero"
	case size > cal.Usage && atZero > 0:
		reason = fmt.Sprintf("the current pool was at zero on %d days of the window (probable denials)", atZero)
	case size > cal.Usage:
		reason = "the what-if licence sends more sessions to usage CALs: the smallest pool that leaves no day of its simulation at zero"
	}
	a.add(adviceRow{months: ptr(e.n()), advice: advice, calType: "usage", pool: pool, peak: ptr(peak),
		current: ptr(int64(cal.Usage)), recommended: ptr(int64(size)),
		currentCost: ptr(float64(cal.Usage) * price * n), recommendedCost: ptr(float64(size) * price * n),
		evidence: fmt.Sprintf("%s to %s, %s recharge: the logged use was at zero on %d days with %d usage CALs, on none with %d; "+
			"the what-if licence's simulation needs %d; usage CAL %s a month",
			firstDay, lastDay, cal.UsageRecharge, atZero, cal.Usage, logged, size, money(price)),
		reason: reason})
	return nil
}

// smallestSize finds the smallest pool size from on at which zeroDays
// (monotone: never more days at zero with a larger pool) counts no day at
// zero. It tries from first, then doubles, then halves the gap: one call
// when from is the answer (each may be a replay of the dataset).
func smallestSize(from int, zeroDays func(size int) (int64, error)) (int, error) {
	lo, hi := from, from
	for {
		days, err := zeroDays(hi)
		if err != nil {
			return 0, err
		}
		if days == 0 {
			break
		}
		if hi > 1<<24 {
			return 0, fmt.Errorf("no usage CAL pool up to %d leaves no day at zero", hi)
		}
		lo, hi = hi+1, max(2*hi, 1)
	}
	return bisect(lo, hi, zeroDays)
}

// bisect finds the smallest size in [lo, hi] at which short (monotone)
// counts nothing; hi is known to be such a size.
func bisect(lo, hi int, short func(size int) (int64, error)) (int, error) {
	for lo < hi {
		mid := (lo + hi) / 2
		n, err := short(mid)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// unboundedUsage is a usage CAL pool no estate runs out of.
const unboundedUsage = 1 << 30

// usageBounds simulates the what-if licence with a usage CAL pool it
// cannot run out of, which gives the usage CALs its sessions take each day,
// and bounds the per-cal pool they need: a day ends at zero unless the pool
// holds more than the CALs taken in its 28 days, and no session can find
// none left once it holds more than those taken in 29 days (a CAL taken on
// the day before the 28 may still be out). The lower bound is at least
// logged, what the logged use needs.
func (a *adviser) usageBounds(ctx context.Context, pool string, e era, logged int) (lo, hi int, err error) {
	a.whatIfPool(pool).Usage = unboundedUsage
	st, err := a.simulate(ctx, a.whatIf)
	if err != nil {
		return 0, 0, err
	}
	consumed := map[string]int64{}
	for _, u := range st.Usage {
		if u.Pool == pool {
			consumed[u.Day] = u.Consumed
		}
	}
	lo, hi = logged, logged
	for d := e.start; d.Before(e.end); d = d.AddDate(0, 0, 1) {
		var in28, in29 int64
		for k := range 29 {
			c := consumed[d.AddDate(0, 0, -k).Format(time.DateOnly)]
			in29 += c
			if k < 28 {
				in28 += c
			}
		}
		lo, hi = max(lo, int(in28)+1), max(hi, int(in29)+1)
	}
	return lo, hi, nil
}

// whatIfPool returns the CAL pools of the what-if licence's pool.
func (a *adviser) whatIfPool(pool string) *metering.CALPools {
	for i := range a.whatIf.Groups {
		if a.whatIf.Groups[i].Name == pool {
			return a.whatIf.Groups[i].CAL
		}
	}
	return a.whatIf.CAL
}

// simulate replays the dataset up to the window's end in simulate mode
// against lic.
func (a *adviser) simulate(ctx context.Context, lic *metering.License) (*metering.State, error) {
	if a.files == nil {
		files, err := dataset.ListFiles(a.db.dir)
		if err != nil {
			return nil, err
		}
		a.files = files
	}
	return metering.Replay(ctx, a.files, metering.Config{Mode: metering.Simulate, AsOf: dataset.AsOfTime(a.w.end), License: lic})
}

// total adds the row that weighs the whole what-if licence of a pool
// against the current one, over the priced licence types.
func (a *adviser) total(pool string, cal, whatIfCAL *metering.CALPools, calEra era, slk, whatIfSLK *metering.SLKPools, slkEra era) {
	if a.prices == nil {
		return
	}
	type line struct {
		key              string
		perUnitMonthly   float64
		priced           bool
		currentN, whatIN int64
		months           int64 // of the window in the licence type's era
	}
	var lines []line
	addLine := func(key string, current, whatIf int64, e era) {
		price, ok := a.prices.Monthly(key)
		if key == metering.PriceCapacityMinutesPack {
			price, ok = a.prices.MinuteMonthly()
			key = "capacity_minutes"
		}
		lines = append(lines, line{key: key, currentN: current, whatIN: whatIf, perUnitMonthly: price, priced: ok, months: e.n()})
	}
	if cal != nil {
		addLine(metering.PriceNamedCAL, int64(cal.Named), int64(whatIfCAL.Named), calEra)
		addLine(metering.PriceDocumentCAL, int64(cal.DocumentTotal), int64(whatIfCAL.DocumentTotal), calEra)
		addLine(metering.PriceSessionCAL, int64(cal.Session), int64(whatIfCAL.Session), calEra)
		addLine(metering.PriceUsageCAL, int64(cal.Usage), int64(whatIfCAL.Usage), calEra)
	}
	if slk != nil {
		addLine(metering.PriceProfessional, int64(slk.Professional), int64(whatIfSLK.Professional), slkEra)
		addLine(metering.PriceAnalyzer, int64(slk.Analyzer), int64(whatIfSLK.Analyzer), slkEra)
		addLine(metering.PriceCapacityMinutesPack, slk.CapacityMinutes, whatIfSLK.CapacityMinutes, slkEra)
	}
	var current, whatIf float64
	var priced, unpriced []string
	for _, l := range lines {
		if !l.priced {
			if l.currentN > 0 || l.whatIN > 0 {
				unpriced = append(unpriced, l.key)
			}
			continue
		}
		current += float64(l.currentN) * l.perUnitMonthly * float64(l.months)
		whatIf += float64(l.whatIN) * l.perUnitMonthly * float64(l.months)
		if l.currentN != l.whatIN {
			priced = append(priced, fmt.Sprintf("%s %d → %d", l.key, l.currentN, l.whatIN))
		}
	}
	reason := "the what-if licence against the current one, each licence type over the months of the window in its era"
	if len(unpriced) > 0 {
		reason += "; not counted (no price): " + strings.Join(unpriced, ", ")
	}
	evidence := "no change"
	if len(priced) > 0 {
		evidence = strings.Join(priced, "; ")
	}
	a.add(adviceRow{advice: adviceTotal, pool: pool, currentCost: ptr(current), recommendedCost: ptr(whatIf), evidence: evidence, reason: reason})
}

// check simulates the current and the what-if licence over the dataset up
// to the window's end and counts the sessions of the window that only the
// what-if licence denies.
func (a *adviser) check(ctx context.Context, current, whatIf *metering.License) (int, error) {
	denied := func(lic *metering.License) (map[string]metering.DenialRow, error) {
		st, err := a.simulate(ctx, lic)
		if err != nil {
			return nil, err
		}
		out := map[string]metering.DenialRow{}
		for _, d := range st.Denials {
			if d.At >= a.w.start.UnixMilli() {
				out[fmt.Sprintf("%s:%d", d.SourceFile, d.SourceLine)] = d
			}
		}
		return out, nil
	}
	if reflect.DeepEqual(current, whatIf) {
		a.add(adviceRow{advice: adviceCheck, new: ptr(int64(0)),
			reason: "not simulated: the what-if licence is the current one (no change advised)"})
		return 0, nil
	}
	before, err := denied(current)
	if err != nil {
		return 0, err
	}
	after, err := denied(whatIf)
	if err != nil {
		return 0, err
	}
	var fresh []metering.DenialRow
	for key, d := range after {
		if _, ok := before[key]; !ok {
			fresh = append(fresh, d)
		}
	}
	slices.SortFunc(fresh, func(x, y metering.DenialRow) int {
		return cmp.Or(cmp.Compare(x.At, y.At), cmp.Compare(x.SourceFile, y.SourceFile), cmp.Compare(x.SourceLine, y.SourceLine))
	})
	evidence := fmt.Sprintf("simulated up to %s: %d sessions of the window denied on the current licence, %d on the what-if licence",
		a.w.end.Format(time.RFC3339), len(before), len(after))
	reason := "confirmed: the what-if licence denies no session the current licence grants"
	if len(fresh) > 0 {
		d := fresh[0]
		reason = fmt.Sprintf("not confirmed: %d sessions would be denied; the first %s at %s (%s, %s:%d)", len(fresh), d.User,
			time.UnixMilli(d.At).UTC().Format(displayTime), d.Reason, d.SourceFile, d.SourceLine)
	}
	a.add(adviceRow{advice: adviceCheck, new: ptr(int64(len(fresh))), evidence: evidence, reason: reason})
	return len(fresh), nil
}

// table turns the rows into the report's table; saving is derived.
func (a *adviser) table() *Table {
	t := &Table{Report: "advice", Columns: adviceColumns}
	intOrNil := func(v *int64) any {
		if v == nil {
			return nil
		}
		return *v
	}
	floatOrNil := func(v *float64) any {
		if v == nil {
			return nil
		}
		return round2(*v)
	}
	for _, r := range a.rows {
		var saving *float64
		if r.currentCost != nil && r.recommendedCost != nil {
			saving = ptr(round2(*r.currentCost) - round2(*r.recommendedCost))
		}
		t.Rows = append(t.Rows, []any{r.advice, r.calType, r.user, intOrNil(r.months), intOrNil(r.favouring), intOrNil(r.minutes),
			intOrNil(r.peak), intOrNil(r.current), intOrNil(r.recommended), floatOrNil(r.currentCost), floatOrNil(r.recommendedCost),
			floatOrNil(saving), intOrNil(r.new), r.evidence, r.reason, r.pool})
	}
	return t
}

// records runs one of the advice's own queries with its arguments.
func (db *DB) records(ctx context.Context, name string, columns []Column, query string, args ...any) ([]record, error) {
	r := &Report{Name: name, Columns: columns, build: func(Params) (string, []any, error) { return query, args, nil }}
	t, err := db.run(ctx, r, Params{})
	if err != nil {
		return nil, err
	}
	return records(t), nil
}

// encodeLicense writes a licence as TOML. Every pool size is written, a
// size the original file left out as 0: meter --simulate reads a size left
// out as none, so the file simulates the same.
func encodeLicense(lic *metering.License) (string, error) {
	var b strings.Builder
	err := toml.NewEncoder(&b).Encode(lic)
	return b.String(), err
}

// WriteLicenseFile writes lic as a licence file (encodeLicense), header
// first, through a temporary file renamed into place (created with the
// umask's permissions). The text is parsed back before it is written: what
// is written loads.
func WriteLicenseFile(path string, lic *metering.License, header string) error {
	body, err := encodeLicense(lic)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(body)
	if _, err := metering.ParseLicense(path, []byte(b.String())); err != nil {
		return fmt.Errorf("the what-if licence does not load back: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
