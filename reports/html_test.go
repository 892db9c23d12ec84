package reports

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
)

// htmlSections are the ids of the page's sections, each a question the
// page answers.
// The anomalies come after the revoke list (and the retired licences): the
// list is what an administrator acts on.
var htmlSections = []string{"summary", "capacity", "holders", "concurrency", "top", "top-users", "top-documents", "revoke", "retired", "anomalies", "data-quality", "advice"}

// pageText is an HTML page's (or section's) text without its markup, such
// as the spans and <wbr>s that let long identifiers wrap at separators.
func pageText(doc string) string {
	return markup.ReplaceAllString(doc, "")
}

var markup = regexp.MustCompile(`<[^>]*>`)

// estateHTML is the HTML report of a data folder.
func estateHTML(t *testing.T, data string) string {
	t.Helper()
	ctx := context.Background()
	db, err := openStored(t, ctx, data)
	require.NoError(t, err)
	defer db.Close()
	var out bytes.Buffer
	require.NoError(t, WriteHTML(ctx, &out, db, DefaultParams()))
	return out.String()
}

// TestHTMLHasEverySectionAndFetchesNothing pins that the page on the
// sample estate has every section and its charts, and that it is
// self-contained: nothing in it would make a browser fetch anything.
func TestHTMLHasEverySectionAndFetchesNothing(t *testing.T) {
	doc := estateHTML(t, estates[dataRecon])
	for _, id := range htmlSections {
		require.True(t, strings.Contains(doc, `id="`+id+`"`), "no section %s", id)
	}
	require.GreaterOrEqual(t, strings.Count(doc, "<svg"), 4)
	for _, id := range []string{"chart-capacity-burn", "chart-capacity-months", "chart-named-holders", "chart-concurrency-1"} {
		require.True(t, strings.Contains(doc, `<svg id="`+id+`"`), "no chart %s", id)
	}
	for _, fetch := range []string{"http://", "https://", "src=", "<link", "url(", "@import", "<script"} {
		require.False(t, strings.Contains(doc, fetch), "the page has %q", fetch)
	}
}

// writeHostileLog writes a log whose user is hostileUsers[4]
// (<script>alert(1)</script>) into DIR/logs and returns that folder. The
// user holds a named CAL and a document CAL on hostileDocument from
// February (idle by the as-of time: on the revoke list), takes a session
// CAL and, in March, Analyzer Capacity; the server, QVS-TEST, is in no
// licence.
func writeHostileLog(t *testing.T, dir string) string {
	t.Helper()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	feb, mar := time.Date(2024, 2, 5, 9, 0, 0, 0, time.UTC), time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)
	lines := []string{strings.Join(logHeader, "\t"),
		sessionLine(1, hostileUsers[4], `C:\Docs\Sales.qvw`, "Named User", feb, 30),
		sessionLine(2, hostileUsers[4], hostileDocument, "Document", feb.Add(time.Hour), 20),
		sessionLine(3, hostileUsers[4], hostileDocument, "Session", feb.Add(2*time.Hour), 20),
		sessionLine(4, hostileUsers[4], hostileDocument, "Analyzer Capacity", mar, 12)}
	// sessionLine logs a CAL Usage Count of 0: the capacity session used 12.
	capacity := lines[len(lines)-1]
	lines[len(lines)-1] = capacity[:strings.LastIndexByte(capacity, '\t')+1] + "12"
	require.NoError(t, os.WriteFile(filepath.Join(logs, "Sessions_QVS-TEST_2024-02-05.log"), []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644))
	return logs
}

// hostileHTMLEstate is the sample estate plus writeHostileLog's log,
// metered with the sample licence.
func hostileHTMLEstate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.CopyFS(data, os.DirFS(estates[dataRecon])))
	ctx := context.Background()
	_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{writeHostileLog(t, dir)}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	recomputed, err := ensureStored(ctx, data, StateOptions{AsOf: asOf, License: estateLic})
	require.NoError(t, err)
	require.True(t, recomputed)
	return data
}

// TestHTMLShowsUnknownPoolsAsUnknown pins that without a licence the page
// says the budget and the pool sizes are unknown, never 0, and that
// sections without data say so.
func TestHTMLShowsUnknownPoolsAsUnknown(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ctx := context.Background()
	_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{writeHostileLog(t, dir)}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	_, err = ensureStored(ctx, data, StateOptions{AsOf: asOf})
	require.NoError(t, err)
	doc := estateHTML(t, data)
	for _, want := range []string{"licence: none (pool sizes unknown)", "budget unknown", "pool unknown",
		"The budget is unknown: no licence gives one.", "The pool size is unknown: no licence gives one.",
		`<svg id="chart-capacity-burn"`, `<svg id="chart-capacity-months"`, `<svg id="chart-named-holders"`,
		`<svg id="chart-concurrency-1"`, "&lt;script&gt;alert(1)&lt;/"} {
		require.True(t, strings.Contains(doc, want), "the page lacks %q", want)
	}
	for _, zero := range []string{"budget 0", "pool 0", "pool size 0"} {
		require.False(t, strings.Contains(doc, zero), "the page has %q", zero)
	}
	require.False(t, strings.Contains(doc, "<script>"), "the page has a script element")
}

// chromium finds the browser for TestHTMLInBrowser: skipped without one on
// a developer's machine, a failure in CI, which must run the test.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI needs Chromium for the browser test (.ci/run installs it): %v", err)
	}
	t.Skipf("no chromium (%v): apt-get install chromium to run the browser test", err)
	return ""
}

// pageCheck is what TestHTMLInBrowser reads from the rendered page.
type pageCheck struct {
	Sections      []string `json:"sections"`
	Charts        []string `json:"charts"`
	ChartsDrawn   int      `json:"chartsDrawn"` // charts with a label and marks
	RevokeRows    int      `json:"revokeRows"`
	RevokeHeaders []string `json:"revokeHeaders"`
	RevokeText    string   `json:"revokeText"`
	RetiredText   string   `json:"retiredText"`
	AnomalyText   string   `json:"anomalyText"`
	Scripts       int      `json:"scripts"`
	Bold          int      `json:"bold"` // <b> elements: a document name parsed as HTML
	Width         int      `json:"width"`
	ScrollWidth   int      `json:"scrollWidth"`
	// Overflowing are elements (outside a table's scroll box) that reach
	// past the window's right edge.
	Overflowing []string `json:"overflowing"`
	// BrokenWords are table cells' pieces without a space that the
	// browser laid out on more than one line: an identifier broken
	// mid-word.
	BrokenWords []string `json:"brokenWords"`
	// ClippedLabels are chart texts that reach outside their chart.
	ClippedLabels []string `json:"clippedLabels"`
	// SmallestLabel is the smallest rendered height, in CSS pixels, of a
	// visible chart text.
	SmallestLabel float64 `json:"smallestLabel"`
	// InfoColors are the text colours of the informational anomaly rows.
	InfoColors []string `json:"infoColors"`
	MutedColor string   `json:"mutedColor"`
}

const pageCheckJS = `(() => {
  const text = sel => (document.querySelector(sel) || {}).textContent || "";
  return {
    sections: [...document.querySelectorAll("section[id], div[id^=top-]")].map(e => e.id),
    charts: [...document.querySelectorAll("svg.chart")].map(e => e.id),
    chartsDrawn: [...document.querySelectorAll("svg.chart[role=img]")].filter(s =>
      s.getAttribute("aria-label") && s.querySelector("title") &&
      s.querySelectorAll("rect, polyline").length > 0 && s.getBoundingClientRect().height > 100).length,
    revokeRows: document.querySelectorAll("#revoke tbody tr").length,
    revokeHeaders: [...document.querySelectorAll("#revoke thead th")].map(e => e.textContent),
    revokeText: text("#revoke"),
    retiredText: text("#retired"),
    anomalyText: text("#anomalies"),
    scripts: document.querySelectorAll("script").length,
    bold: document.querySelectorAll("main b").length,
    width: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    overflowing: [...document.querySelectorAll("body *")].filter(e =>
      !e.closest(".scroll") && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
    ).map(e => e.tagName + (e.id ? "#" + e.id : "") + " " + (e.textContent || "").slice(0, 40)),
    brokenWords: [...document.querySelectorAll("td, th")].flatMap(cell => {
      const texts = [], walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) texts.push(walk.currentNode);
      return texts;
    }).filter(n => !/\s/.test(n.textContent.trim()) && n.textContent.length > 1 && (() => {
        const r = document.createRange(); r.selectNodeContents(n);
        return new Set([...r.getClientRects()].map(rect => Math.round(rect.top))).size > 1;
      })()).map(n => n.textContent),
    clippedLabels: [...document.querySelectorAll("svg.chart text")].filter(t => {
      if (getComputedStyle(t).display === "none") return false;
      const b = t.getBBox(), vb = t.ownerSVGElement.viewBox.baseVal;
      return b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5;
    }).map(t => t.textContent),
    smallestLabel: Math.min(...[...document.querySelectorAll("svg.chart text")].filter(t =>
      getComputedStyle(t).display !== "none").map(t => t.getBoundingClientRect().height)),
    infoColors: [...document.querySelectorAll("#anomalies tr.info td")].map(td => getComputedStyle(td).color),
    mutedColor: (() => { const p = document.querySelector(".note"); return p ? getComputedStyle(p).color : ""; })(),
  };
})()`

// TestHTMLInBrowser opens the page of the sample estate, plus a log with a
// hostile user name, in headless Chromium at a desktop's width (1400 px)
// and a phone's (400 px): no console error, no exception, no failed
// request, no dialog; the charts and tables are there; the hostile name is
// text; nothing reaches past the window (tables scroll inside their box),
// no identifier is broken inside a word, no chart label is clipped or too
// small to read, and informational anomalies are grey. It saves a
// full-page screenshot per width (and the page) in the test's artifact
// directory (go test -artifacts -outputdir DIR keeps them): look at them.
func TestHTMLInBrowser(t *testing.T) {
	exe := chromium(t)
	out := t.ArtifactDir()
	html := filepath.Join(out, "index.html")
	require.NoError(t, os.WriteFile(html, []byte(estateHTML(t, hostileHTMLEstate(t))), 0o644))

	for _, width := range []int{1400, 400} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			check, problems, png := inChromium(t, exe, html, width)
			shot := filepath.Join(out, fmt.Sprintf("index-%d.png", width))
			require.NoError(t, os.WriteFile(shot, png, 0o644))
			t.Logf("screenshot: %s", shot)

			require.Empty(t, problems)
			require.Equal(t, htmlSections, check.Sections)
			require.Equal(t, []string{"chart-capacity-burn", "chart-capacity-months", "chart-named-holders", "chart-concurrency-1"}, check.Charts)
			require.Equal(t, len(check.Charts), check.ChartsDrawn, "every chart is labelled, titled, drawn and tall enough to read")
			require.Contains(t, check.RevokeHeaders, "frees_at")
			// The estate's CAL-era holders are retired at the conversion: the
			// revoke list holds the SLK-era idle holders and the hostile ones.
			require.GreaterOrEqual(t, check.RevokeRows, 5)
			// The hostile users hold CAL-era licences, retired at the conversion.
			require.Contains(t, check.RetiredText, hostileUsers[4], "the hostile user name is text on the retired list")
			require.Contains(t, check.RetiredText, `c:/docs/it's "odd"; 100% <b>x</b>.qvw`)
			require.Contains(t, check.AnomalyText, "QVS-TEST")
			require.Zero(t, check.Scripts, "no script element, from the page or the data")
			require.Zero(t, check.Bold, "no element from the data")
			require.Equal(t, width, check.Width)
			require.LessOrEqual(t, check.ScrollWidth, check.Width, "nothing wider than the window")
			require.Empty(t, check.Overflowing, "elements past the window's right edge")
			require.Empty(t, check.BrokenWords, "identifiers broken inside a word")
			require.Empty(t, check.ClippedLabels, "chart labels outside their chart")
			require.GreaterOrEqual(t, check.SmallestLabel, 9.0, "chart text at least 9 px high")
			require.NotEmpty(t, check.InfoColors, "the sample estate has informational anomalies")
			for _, c := range check.InfoColors {
				require.Equal(t, check.MutedColor, c, "informational anomalies are grey")
			}
		})
	}
}

// inChromium opens the HTML file in headless Chromium, in a window width
// CSS pixels wide (no sandbox, for root in a container; nothing in the
// background that would reach for the network) and returns what pageCheckJS reads from it, the problems the
// browser reported (console errors, exceptions, error log entries, failed
// requests, dialogs) and a full-page PNG screenshot.
func inChromium(t *testing.T, exe, file string, width int) (pageCheck, []string, []byte) {
	t.Helper()
	file, err := filepath.Abs(file)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, 900))
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()

	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	// The listener sees every event from the tab's start; it runs in the
	// tab's read loop, so it only records, and leaves closing a dialog (which
	// would block the page's load) to another goroutine.
	var tab context.Context
	tab, cancelTab := chromedp.NewContext(ctx, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problem("console.error: %s", strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problem("exception: %s", ev.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				problem("log error: %s %s", ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventLoadingFailed:
			problem("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
		case *page.EventJavascriptDialogOpening:
			problem("dialog opened: %s %q", ev.Type, ev.Message)
			go chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}
	}))
	defer cancelTab()

	require.NoError(t, chromedp.Do(tab, chromedp.EmulateViewport(int64(width), 900)))
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate((&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String())))
	check, err := chromedp.Run(tab, chromedp.Evaluate[pageCheck](pageCheckJS))
	require.NoError(t, err)
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	return check, slices.Clone(problems), png
}

// TestInChromiumReportsProblems pins that the browser test can fail: a
// page with a console error, an alert, an exception and two failed
// requests gives one problem each.
func TestInChromiumReportsProblems(t *testing.T) {
	exe := chromium(t)
	file := filepath.Join(t.TempDir(), "broken.html")
	require.NoError(t, os.WriteFile(file, []byte(`<!DOCTYPE html><title>broken</title><img src="missing.png">`+
		`<script>console.error("boom"); alert(1); throw new Error("thrown")</script><img src="http://127.0.0.1:9/x.png">`), 0o644))
	_, problems, _ := inChromium(t, exe, file, 800)
	for _, want := range []string{"ERR_FILE_NOT_FOUND", "ERR_UNSAFE_PORT", `console.error: "boom"`, `dialog opened: alert "1"`, "exception: Uncaught"} {
		require.True(t, slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }), "no problem with %q in %q", want, problems)
	}
}

// TestPageQueriesAgreeWithTheReports pins the page's own queries to the
// registry's reports on the sample estate: the burn chart's days add up to
// the summary's month (as logged: a simulation grants other minutes), and
// the last week of the named-CAL chart counts the named CALs idle-cals
// lists, idle and not.
func TestPageQueriesAgreeWithTheReports(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{dataRecon, dataMidMar, dataSim} {
		t.Run(name, func(t *testing.T) {
			db := openEstate(t, name)
			p := DefaultParams()
			sum, err := db.Run(ctx, "summary", p)
			require.NoError(t, err)
			days, err := db.run(ctx, capacityDaysReport, p)
			require.NoError(t, err)
			var minutes int64
			for _, d := range records(days) {
				minutes += d.int("minutes")
			}
			require.NotZero(t, minutes)
			if db.Info().Mode == metering.Reconstruct {
				require.Equal(t, records(sum)[0].int("capacity_minutes"), minutes)
			}

			weeks, err := db.run(ctx, namedWeeksReport, p)
			require.NoError(t, err)
			named, err := db.Run(ctx, "idle-cals", Params{IdleDays: p.IdleDays, CALType: "named", All: true})
			require.NoError(t, err)
			var idle int64
			for _, r := range records(named) {
				if r["idle"] == true {
					idle++
				}
			}
			last := records(weeks)[len(weeks.Rows)-1]
			require.Equal(t, int64(len(named.Rows)), last.int("holders"))
			require.Equal(t, idle, last.int("idle"))
			require.Equal(t, last.int("holders")-idle, last.int("active"))
		})
	}
}

// TestNiceStep pins the charts' y-axis steps: round and whole, about four
// to a chart.
func TestNiceStep(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 1: 1, 1.5: 2, 2.25: 5, 4: 5, 20.25: 25, 26: 50, 3751.5: 5000, 2400: 2500} {
		require.Equal(t, want, niceStep(v), "niceStep(%g)", v)
	}
}

// TestHTMLShowsUsersAsTheLogsSpellThem pins that the page's top users are
// the logs' spelling of the capacity report's user keys, not the keys.
func TestHTMLShowsUsersAsTheLogsSpellThem(t *testing.T) {
	ctx := context.Background()
	db := openEstate(t, dataRecon)
	pg, err := buildPage(ctx, db, DefaultParams())
	require.NoError(t, err)
	require.NotEmpty(t, pg.TopUsers)
	byUser, err := db.Run(ctx, "capacity", Params{By: "user", Month: pg.CapacityMonth})
	require.NoError(t, err)
	keys := map[string]bool{}
	for _, r := range records(byUser) {
		keys[strings.ToLower(r.str("user"))] = true
	}
	spelled := 0
	for _, u := range pg.TopUsers {
		name := strings.Join(u.Name, "")
		require.True(t, keys[strings.ToLower(name)], "%s is a user of the month", name)
		if name != strings.ToLower(name) {
			spelled++
		}
	}
	require.Positive(t, spelled, "the sample estate's users are spelled CORP\\Name")
}

// TestChartLabelsFitInBrowser draws charts of 7- and 8-digit figures and
// pins, at a desktop's and a phone's width, that no axis label is clipped.
func TestChartLabelsFitInBrowser(t *testing.T) {
	exe := chromium(t)
	big := newChart("chart-big", "big figures", "minutes", 31, 12_345_678)
	labels := make([]string, 31)
	values := make([]float64, 31)
	for i := range labels {
		labels[i] = strconv.Itoa(i + 1)
		values[i] = float64(i) * 400_000
	}
	big.labelX(labels)
	big.line(0, values, "used", "minutes")
	budget := int64(9_999_999)
	big.reference([]*int64{&budget, &budget}, "budget", "budget")
	months := newChart("chart-months", "7 digits", "minutes", 12, 1_234_567)
	months.labelX([]string{"Apr 2023", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan 2024", "Feb", "Mar"})
	months.bar(11, 0, 1_234_567, "used", "")
	var out bytes.Buffer
	require.NoError(t, htmlTemplate.Execute(&out, &htmlPage{AsOf: "2024-04-01 00:00 UTC", Burn: big, Months: months}))
	file := filepath.Join(t.TempDir(), "big.html")
	require.NoError(t, os.WriteFile(file, out.Bytes(), 0o644))
	for _, width := range []int{1400, 400} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			check, problems, _ := inChromium(t, exe, file, width)
			require.Empty(t, problems)
			require.Equal(t, []string{"chart-big", "chart-months"}, check.Charts)
			require.Empty(t, check.ClippedLabels, "chart labels outside their chart")
			require.Empty(t, check.Overflowing)
		})
	}
}

// Issue 11 "An honest forecast": the burn chart shows the forecast's 90%
// range beside the forecast, and the page lists the retired CAL-era holders
// in a folded section, not among the licences to revoke.
func TestHTMLBurnChartShowsTheForecastRangeAndRetiredHoldersApart(t *testing.T) {
	doc := estateHTML(t, estates[dataMidMar])
	require.Contains(t, doc, "forecast range at month end (90%): 17,555 to 22,219 minutes")
	require.Contains(t, doc, "(90% range 17,555 to 22,219)")
	retired := doc[strings.Index(doc, `<section id="retired"`):]
	require.Contains(t, retired, "<details>")
	require.Contains(t, pageText(retired), `CORP\EBerg`, "a named CAL holder of the CAL era")
	revoke := doc[strings.Index(doc, `<section id="revoke"`):strings.Index(doc, `<section id="retired"`)]
	require.NotContains(t, pageText(revoke), `CORP\EBerg`)
}
