package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/qvmeter/qvmeter/parse"
)

// dataMix is an estate whose cheapest licence mix is known by
// construction (mixLicense, buildMixEstate), metered as of 2024-04-01: the
// advice weighs January to March 2024.
const dataMix = "known-mix"

// mixLicense has two pools. The default one (server SLK) is a Signed
// License Key whose two Analyzer seats are held by a busy user (keeps it)
// and an idle one (cheaper on capacity), and whose capacity budget is ten
// times what is needed once two heavy capacity users get seats. The group
// "cal" (server CAL) has five named CALs, three of them used one day a
// month (cheaper as session CALs, whose pool of one their peaks fit), and a
// usage CAL pool of 10 that a day of 12 one-hour sessions takes to zero.
const mixLicense = `servers = ["SLK"]

[slk]
analyzer = 2
capacity_minutes = 10000

[[group]]
name = "cal"
servers = ["CAL"]
[group.cal]
named = 5
named_dynamic = true
session = 1
usage = 10

[prices]
period = "month"
named_cal = 30
session_cal = 100
usage_cal = 2
analyzer = 30
capacity_minutes_pack = 50
capacity_pack_minutes = 1000
`

// mixSessions writes the estate's sessions: per month of January to March
// 2024 (days 2 to 21, so that no session crosses a month):
//   - heavy1, heavy2: 15 capacity sessions of 102 minutes a month (1,530
//     minutes = 76.50 a month, above the 30.00 seat);
//   - light1..3: 2 capacity sessions of 30 minutes a month (3.00);
//   - seat_busy: 20 Analyzer sessions of 60 minutes (upper bound 1,200
//     minutes = 60.00: keeps the seat); seat_idle: 2 of 10 minutes (upper
//     bound 24 minutes = 1.20: releases it);
//   - daily1, daily2: named CAL sessions every day; rare1..3: one named CAL
//     session a month, each on its own day at 14:00;
//   - sess1: a session CAL session at 10:00 every day;
//   - on 10 January, u01..u12 take a usage CAL each at 10:00.
func mixSessions() []dataset.SessionRow {
	var rows []dataset.SessionRow
	add := func(user, server, cal string, start time.Time, minutes int, count int64) {
		doc, client, ctype, exe := "C:/Docs/Sales.qvw", "pc-"+user, "Ajax", "12.50.20200.0"
		calType := cal
		end := start.Add(time.Duration(minutes) * time.Minute)
		row := dataset.SessionRow{SessionStart: start.UnixMilli(), SessionEnd: end.UnixMilli(), DurationMS: end.Sub(start).Milliseconds(),
			AuthenticatedUser: ptr(`CORP\` + user), UserKey: `corp\` + user, Document: &doc, DocumentKey: metering.DocumentKey(doc),
			Server: server, ExeVersion: &exe, CALType: &calType, CALClass: parse.ClassifyCAL([]byte(cal)).String(),
			ClientMachineID: &client, ClientType: &ctype, ExitClass: "client_close",
			SourceFile: fmt.Sprintf("Sessions_%s_%s.log", server, start.Format(time.DateOnly))}
		if count > 0 {
			row.CALUsageCount = &count
		}
		rows = append(rows, row)
	}
	for month := time.January; month <= time.March; month++ {
		day := func(d, hour, minute int) time.Time { return time.Date(2024, month, d, hour, minute, 0, 0, time.UTC) }
		for d := 2; d <= 21; d++ {
			if d <= 16 {
				add("heavy1", "SLK", "Analyzer Capacity", day(d, 8, 0), 102, 102)
				add("heavy2", "SLK", "Analyzer Capacity", day(d, 9, 0), 102, 102)
			}
			add("seat_busy", "SLK", "Analyzer", day(d, 13, 0), 60, 0)
			add("daily1", "CAL", "Named User", day(d, 8, 0), 30, 0)
			add("daily2", "CAL", "Named User", day(d, 9, 0), 30, 0)
			add("sess1", "CAL", "Session", day(d, 10, 0), 30, 0)
		}
		for i, user := range []string{"light1", "light2", "light3"} {
			add(user, "SLK", "Analyzer Capacity", day(3+i, 15, 0), 30, 30)
			add(user, "SLK", "Analyzer Capacity", day(12+i, 15, 0), 30, 30)
		}
		add("seat_idle", "SLK", "Analyzer", day(5, 16, 0), 10, 0)
		add("seat_idle", "SLK", "Analyzer", day(19, 16, 0), 10, 0)
		for i, user := range []string{"rare1", "rare2", "rare3"} {
			add(user, "CAL", "Named User", day(4+3*i, 14, 0), 40, 0)
		}
	}
	for i := 1; i <= 12; i++ {
		add(fmt.Sprintf("u%02d", i), "CAL", "Usage", time.Date(2024, time.January, 10, 10, 0, 0, 0, time.UTC), 50, 0)
	}
	for i := range rows {
		rows[i].SourceLine = int64(i + 2)
	}
	return rows
}

// buildMixEstate writes the known-mix estate's sessions (one Parquet file
// per month partition, as ingest lays them out), its licence, and meters it.
func buildMixEstate(ctx context.Context, dir string) error {
	byMonth := map[string][]dataset.SessionRow{}
	for _, r := range mixSessions() {
		month := time.UnixMilli(r.SessionEnd).UTC().Format("2006-01")
		byMonth[month] = append(byMonth[month], r)
	}
	for month, rows := range byMonth {
		folder := filepath.Join(dir, dataset.SessionsDir, "month="+month)
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return err
		}
		if err := parquet.WriteFile(filepath.Join(folder, "part-0.parquet"), rows); err != nil {
			return err
		}
	}
	license := filepath.Join(dir, "license.toml")
	if err := os.WriteFile(license, []byte(mixLicense), 0o644); err != nil {
		return err
	}
	_, err := ensureStored(ctx, dir, StateOptions{AsOf: asOf, License: license})
	return err
}

// adviceRows runs the advice and keys its rows by advice, pool and user.
func adviceRows(t *testing.T, db *DB, p Params) (*Advice, map[string]record) {
	t.Helper()
	a, err := Advise(context.Background(), db, p)
	require.NoError(t, err)
	out := map[string]record{}
	for _, r := range records(a.Table) {
		key := strings.Join([]string{r.str("advice"), r.str("pool"), r.str("cal_type"), r.str("user")}, "|")
		require.NotContains(t, out, key, "two rows for %s", key)
		out[key] = r
	}
	return a, out
}

func TestAdviceFindsTheCheapestMixOfAKnownEstate(t *testing.T) {
	db := openEstate(t, dataMix)
	a, rows := adviceRows(t, db, DefaultParams())
	require.Equal(t, []string{"2024-01", "2024-02", "2024-03"}, a.Months)
	type want struct {
		favouring, minutes, peak, current, recommended any
		currentCost, recommendedCost, saving           float64
	}
	for key, w := range map[string]want{
		// Heavy capacity users: 1,530 min × 0.05 = 76.50 a month against a 30.00 seat.
		"analyzer_seat|default|analyzer|CORP\\heavy1": {int64(3), int64(4590), nil, nil, nil, 229.5, 90, 139.5},
		"analyzer_seat|default|analyzer|CORP\\heavy2": {int64(3), int64(4590), nil, nil, nil, 229.5, 90, 139.5},
		// The idle seat holder: 2 × 12 min (upper bound) a month = 1.20.
		"capacity_instead_of_seat|default|analyzer|CORP\\seat_idle": {int64(3), int64(72), nil, nil, nil, 90, 3.6, 86.4},
		// Left on capacity: 3 light users × 60 min + 24 min of seat_idle = 204 a month: one pack.
		"capacity_budget|default|analyzer_capacity|": {nil, int64(204), nil, int64(10000), int64(1000), 1500, 150, 1350},
		"analyzer_seats|default|analyzer|":           {nil, nil, nil, int64(2), int64(3), 180, 270, -90},
		// Three named CALs used one day a month go; one session CAL still carries every peak.
		"session_cal_pool|cal|session|": {nil, nil, int64(1), int64(1), int64(1), 750, 480, 270},
		// 12 usage CALs taken on one day: 13 leave the day above zero.
		"usage_cal_pool|cal|usage|": {nil, nil, int64(12), int64(10), int64(13), 60, 78, -18},
		"total|default||":           {nil, nil, nil, nil, nil, 1680, 420, 1260},
		"total|cal||":               {nil, nil, nil, nil, nil, 810, 558, 252},
	} {
		t.Run(key, func(t *testing.T) {
			r, ok := rows[key]
			require.True(t, ok, "no row %s", key)
			require.Equal(t, w.favouring, r["months_favouring"])
			require.Equal(t, w.minutes, r["minutes"])
			require.Equal(t, w.peak, r["peak"])
			require.Equal(t, w.current, r["current"])
			require.Equal(t, w.recommended, r["recommended"])
			require.Equal(t, w.currentCost, r["current_cost"])
			require.Equal(t, w.recommendedCost, r["recommended_cost"])
			require.Equal(t, w.saving, r["saving"])
			require.NotEmpty(t, r.str("evidence"))
		})
	}
	for _, user := range []string{"rare1", "rare2", "rare3"} {
		require.Contains(t, rows, "session_cal_instead_of_named|cal|named|CORP\\"+user)
	}
	for key := range rows {
		for _, kept := range []string{"light", "seat_busy", "daily", "sess1"} {
			require.NotContains(t, key, kept, "advice for a user whose licence is the cheapest already")
		}
	}
	check := rows["simulate_check|||"]
	require.Equal(t, int64(0), check["new_denials"], check.str("reason"))
	require.Contains(t, check.str("reason"), "confirmed")
	require.Zero(t, a.NewDenials)

	slk, cal := a.WhatIf.SLK, a.WhatIf.Groups[0].CAL
	require.ElementsMatch(t, []string{`corp\seat_busy`, `corp\heavy1`, `corp\heavy2`}, slk.AnalyzerUsers)
	require.Equal(t, 3, slk.Analyzer)
	require.Equal(t, int64(1000), slk.CapacityMinutes)
	require.ElementsMatch(t, []string{`corp\daily1`, `corp\daily2`}, cal.NamedUsers)
	require.Equal(t, 2, cal.Named)
	require.Equal(t, 1, cal.Session)
	require.Equal(t, 13, cal.Usage)
}

// TestAdviceSimulateCheckFindsNewDenials pins that the check is real: a
// what-if licence without session CALs and with one usage CAL must show
// new denials.
func TestAdviceSimulateCheckFindsNewDenials(t *testing.T) {
	db := openEstate(t, dataMix)
	a := &adviser{db: db, p: DefaultParams(), w: newWindow(db.asOf, 3, time.Time{})}
	lic, _, err := metering.LoadLicense(db.info.LicenseFile)
	require.NoError(t, err)
	a.lic = lic
	current, err := a.assignedAsLogged(context.Background())
	require.NoError(t, err)
	whatIf := current.Clone()
	whatIf.Groups[0].CAL.Usage = 1
	whatIf.Groups[0].CAL.Session = 0
	fresh, err := a.check(context.Background(), current, whatIf)
	require.NoError(t, err)
	require.Positive(t, fresh)
	require.Contains(t, a.rows[len(a.rows)-1].reason, "not confirmed")
}

func TestAdviceWritesALicenceThatLoadsBack(t *testing.T) {
	db := openEstate(t, dataMix)
	path := filepath.Join(t.TempDir(), "what-if.toml")
	p := DefaultParams()
	p.WriteLicense = path
	table, err := db.Run(context.Background(), "advice", p)
	require.NoError(t, err)
	require.NotEmpty(t, table.Rows)
	lic, _, err := metering.LoadLicense(path)
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), "# What-if licence written by qvmeter report advice"))
	again, err := encodeLicense(lic)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(raw), "\n"+again), "the licence read back writes out the same")
	a, _ := adviceRows(t, db, DefaultParams())
	require.Equal(t, a.WhatIf.SLK.AnalyzerUsers, lic.SLK.AnalyzerUsers)
	require.Equal(t, a.WhatIf.SLK.CapacityMinutes, lic.SLK.CapacityMinutes)
	require.Equal(t, a.WhatIf.Groups[0].CAL.NamedUsers, lic.Groups[0].CAL.NamedUsers)
	require.Equal(t, a.WhatIf.Groups[0].CAL.Usage, lic.Groups[0].CAL.Usage)
	require.Equal(t, *a.WhatIf.Prices, *lic.Prices)
}

func TestAdviceSaysWhyItGivesNoAdvice(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		data   string
		params func(*Params)
		want   []string
	}{
		"a licence without [prices] weighs nothing": {data: dataRecon, want: []string{
			"the licence file has no [prices] table", "[prices] lacks analyzer and capacity_minutes_pack",
			"[prices] lacks named_cal and session_cal", "[prices] lacks usage_cal"}},
		"rare means at most --rare-days days in every month": {data: dataMix, params: func(p *Params) { p.RareDays = 0 },
			want: []string{"every named CAL holder used it on more than 0 days in some month"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := DefaultParams()
			if tc.params != nil {
				tc.params(&p)
			}
			table, err := openEstate(t, tc.data).Run(ctx, "advice", p)
			require.NoError(t, err)
			var reasons []string
			for _, r := range records(table) {
				reasons = append(reasons, r.str("reason"))
			}
			for _, want := range tc.want {
				require.Contains(t, strings.Join(reasons, "\n"), want)
			}
		})
	}
	db := openEstate(t, dataMix)
	for _, p := range []Params{{Months: 0, RareDays: 2}, {Months: 3, RareDays: -1}} {
		_, err := db.Run(ctx, "advice", p)
		require.Error(t, err)
	}
}

func TestAdviceWindowIsTheLastFullMonths(t *testing.T) {
	for name, tc := range map[string]struct {
		asOf, first time.Time
		months      int
		want        []string
	}{
		"as of a month's first instant: the months before it": {time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Time{}, 3, []string{"2024-01", "2024-02", "2024-03"}},
		"as of mid-month: that month is not full":             {time.Date(2024, 4, 15, 12, 0, 0, 0, time.UTC), time.Time{}, 2, []string{"2024-02", "2024-03"}},
		"across a year":                    {time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Time{}, 3, []string{"2023-11", "2023-12", "2024-01"}},
		"cut at the first month with data": {time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 20, 0, 0, 0, 0, time.UTC), 3, []string{"2024-02", "2024-03"}},
		"no full month of data":            {time.Date(2024, 4, 10, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC), 3, nil},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, newWindow(tc.asOf, tc.months, tc.first).months)
		})
	}
}

// TestHTMLShowsTheAdvice pins the page's advice panel: the advice rows of
// the known-mix estate, and the simulation's outcome.
func TestHTMLShowsTheAdvice(t *testing.T) {
	doc := estateHTML(t, estates[dataMix])
	i := strings.Index(doc, `<section id="advice"`)
	require.True(t, i >= 0, "no advice section")
	// The page's text, without the markup that lets long cells wrap.
	panel := pageText(doc[i : i+strings.Index(doc[i:], "</section>")])
	for _, want := range []string{"2024-01, 2024-02, 2024-03", "analyzer_seat", `CORP\heavy1`, "capacity_instead_of_seat",
		"session_cal_pool", "usage_cal_pool", "simulate_check", "confirmed: the what-if licence denies no session", "1350", "2024-03: 1,530 min = 76.50; Analyzer seat 30.00 a month"} {
		require.Contains(t, panel, want)
	}
}

// TestAdviceOnASimulatedStateSaysWhy pins that a simulated state gets a
// reason, not an error: the page is written whatever the state's mode.
func TestAdviceOnASimulatedStateSaysWhy(t *testing.T) {
	table, err := openEstate(t, dataSim).Run(context.Background(), "advice", DefaultParams())
	require.NoError(t, err)
	require.Len(t, table.Rows, 1)
	require.Contains(t, records(table)[0].str("reason"), "the state is a simulation")
}
