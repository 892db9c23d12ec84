package reports

// The HTML report's charts are inline SVG that the project draws itself, so
// that index.html needs nothing from the network and no JavaScript. The Go
// code here only computes geometry (rectangles, polylines, rules, ticks) and
// the texts that go with it; html.tmpl turns a chart into SVG elements, so
// every label and tooltip, some of which come from the logs, passes through
// html/template's escaping like any other value on the page.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Every chart has the same frame (a viewBox in SVG user units; the page
// scales it to its width) and plot area inside it.
//
// On a narrow screen (a phone, 360 px) the page scales the whole chart down
// to about 40% and sets its text larger in user units (html.tmpl's media
// query), so the labels stay about 11 px; the x axis then shows only its
// major labels (at most maxMajorLabels), which are far enough apart for
// the larger text, and the y axis's abbreviated numbers (1.2M) fit in
// chartLeft.
const (
	chartWidth     = 900
	chartHeight    = 300
	chartLeft      = 72  // room for the y-axis labels
	chartRight     = 884 // chartWidth − a margin
	chartTop       = 46  // room for the unit and a rule's label above the tallest value
	chartBottom    = 256 // room for the x-axis labels below
	maxXLabels     = 16  // more slots than this get every k-th label only
	maxMajorLabels = 6   // x labels a narrow screen shows
	yGridSpacing   = 4   // about this many grid lines above zero
)

// chart is one chart as html.tmpl draws it: n slots along x (days, weeks,
// months), a linear y scale from 0 to Top, and the marks on them.
type chart struct {
	ID    string // the svg element's id
	Label string // aria-label: what the chart shows, in words
	Unit  string // what y counts, for the y-axis title

	Width, Height            int
	Left, Right, Upper, Base float64 // plot area: x from Left to Right, y from Upper (top) to Base (zero)

	Grid   []tick // y-axis labels with their grid lines
	XTicks []tick // x-axis labels
	Bars   []mark
	Lines  []mark // polylines; class "area" ones are filled down to zero
	Dots   []mark // hover targets on lines
	Rules  []rule // horizontal reference lines: budget, pool size
	Legend []legendEntry
	Note   string // under the legend: what the chart cannot show, such as an unknown budget

	slots int
	top   float64
}

// tick is an axis label at (X, Y). A minor one is left out on a narrow
// screen.
type tick struct {
	X, Y  float64
	Label string
	Minor bool
}

// mark is a bar (X, Y, W, H), a polyline (Points) or a dot (X, Y), with
// its style class and tooltip.
type mark struct {
	X, Y, W, H float64
	Points     string
	Class      string
	Title      string
}

// rule is a horizontal line at Y from X1 to X2 with a label at its end,
// or at its start (Start) when the line ends too near the left edge for
// the label to fit before it.
type rule struct {
	X1, X2, Y float64
	Class     string
	Label     string
	Start     bool
}

// ruleLabelRoom is the width, in SVG units, a rule's label needs before
// its end: "budget 9,999,999" in the phone's larger text.
const ruleLabelRoom = 260

// legendEntry explains one style class.
type legendEntry struct{ Class, Label string }

// newChart starts a chart of slots positions along x whose y axis reaches
// at least yMax (rounded up to a round number).
func newChart(id, label, unit string, slots int, yMax float64) *chart {
	step := niceStep(yMax / yGridSpacing)
	c := &chart{ID: id, Label: label, Unit: unit, Width: chartWidth, Height: chartHeight,
		Left: chartLeft, Right: chartRight, Upper: chartTop, Base: chartBottom,
		slots: max(slots, 1), top: step * math.Max(1, math.Ceil(yMax/step))}
	for v := 0.0; v <= c.top+step/2; v += step {
		c.Grid = append(c.Grid, tick{X: c.Left - 6, Y: c.y(v), Label: abbreviate(v)})
	}
	return c
}

// niceStep is the smallest whole 1, 2, 2.5 or 5 × 10^k at least v (1 for
// v ≤ 1): every chart counts whole things.
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if step := m * p; step >= v && step == math.Trunc(step) {
			return step
		}
	}
	return 10 * p
}

// slotWidth is the width of one x position.
func (c *chart) slotWidth() float64 { return (c.Right - c.Left) / float64(c.slots) }

// center is the x of the middle of slot i.
func (c *chart) center(i int) float64 { return c.Left + (float64(i)+0.5)*c.slotWidth() }

// y is the y coordinate of value v.
func (c *chart) y(v float64) float64 {
	return round1(c.Base - (c.Base-c.Upper)*math.Max(0, v)/c.top)
}

// labelX names the slots along the x axis, every k-th one when there are
// too many to read; on a narrow screen, only the major ones: every m-th of
// those, at most maxMajorLabels.
func (c *chart) labelX(labels []string) {
	every := (len(labels) + maxXLabels - 1) / maxXLabels
	shown := (len(labels) + every - 1) / every
	major := (shown + maxMajorLabels - 1) / maxMajorLabels
	for i, l := range labels {
		if i%every == 0 {
			c.XTicks = append(c.XTicks, tick{X: round1(c.center(i)), Y: c.Base + 6, Label: l, Minor: (i/every)%major != 0})
		}
	}
}

// bar draws a bar in slot i from from to to (stacked bars start where the
// one below ends).
func (c *chart) bar(i int, from, to float64, class, title string) {
	if to <= from {
		return
	}
	w := c.slotWidth()
	gap := math.Min(w*0.2, 8)
	c.Bars = append(c.Bars, mark{X: round1(c.Left + float64(i)*w + gap/2), Y: c.y(to), W: round1(w - gap),
		H: round1(c.y(from) - c.y(to)), Class: class, Title: title})
}

// line draws a polyline through the centers of slots first, first+1, …
// at the given values; an "area" class fills it down to zero.
func (c *chart) line(first int, values []float64, class, title string) {
	if len(values) == 0 {
		return
	}
	var pts []string
	point := func(i int, v float64) { pts = append(pts, fmt.Sprintf("%g,%g", round1(c.center(i)), c.y(v))) }
	if class == "area" {
		point(first, 0)
	}
	for i, v := range values {
		point(first+i, v)
	}
	if class == "area" {
		point(first+len(values)-1, 0)
	}
	c.Lines = append(c.Lines, mark{Points: strings.Join(pts, " "), Class: class, Title: title})
}

// dot marks value v in slot i, with a tooltip.
func (c *chart) dot(i int, v float64, title string) {
	c.Dots = append(c.Dots, mark{X: round1(c.center(i)), Y: c.y(v), Title: title})
}

// reference draws a reference line (a budget, a pool size) over each slot
// whose value is known, one rule per run of equal values, each labelled.
func (c *chart) reference(values []*int64, class, label string) {
	for i := 0; i < len(values); {
		if values[i] == nil {
			i++
			continue
		}
		j := i + 1
		for j < len(values) && values[j] != nil && *values[j] == *values[i] {
			j++
		}
		w := c.slotWidth()
		x1, x2 := round1(c.Left+float64(i)*w), round1(c.Left+float64(j)*w)
		c.Rules = append(c.Rules, rule{X1: x1, X2: x2, Y: c.y(float64(*values[i])), Class: class,
			Label: label + " " + thousands(*values[i]), Start: x2 < ruleLabelRoom})
		i = j
	}
}

// legend explains the style classes the chart uses, in the given order,
// and leaves out the others.
func (c *chart) legend(entries ...legendEntry) {
	used := map[string]bool{}
	for _, marks := range [][]mark{c.Bars, c.Lines} {
		for _, m := range marks {
			used[m.Class] = true
		}
	}
	for _, r := range c.Rules {
		used[r.Class] = true
	}
	for _, e := range entries {
		if used[e.Class] {
			c.Legend = append(c.Legend, e)
		}
	}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// abbreviate writes an axis value short enough for the axis on any
// screen: 950, 1.5k, 20k, 1.25M, 3B (the tooltips and tables carry the
// figures in full).
func abbreviate(v float64) string {
	for _, unit := range []struct {
		size   float64
		suffix string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= unit.size {
			return strconv.FormatFloat(math.Round(v/unit.size*100)/100, 'f', -1, 64) + unit.suffix
		}
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// thousands writes n with thousands separators: 15,006.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}
