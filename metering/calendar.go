package metering

import (
	"math"
	"time"
)

const (
	minuteMS = int64(time.Minute / time.Millisecond)
	hourMS   = int64(time.Hour / time.Millisecond)
	dayMS    = int64(24 * time.Hour / time.Millisecond)
)

// dayOf is the UTC day number (days since 1970-01-01) of a time in ms.
func dayOf(ms int64) int32 {
	d := ms / dayMS
	if ms%dayMS < 0 {
		d--
	}
	return int32(d)
}

// dayString formats a day number as YYYY-MM-DD.
func dayString(day int32) string {
	return time.UnixMilli(int64(day) * dayMS).UTC().Format(time.DateOnly)
}

// month is a UTC calendar month as year*12 + month-1, so months compare
// and subtract as integers.
type month int32

// noMonth is before every month, maxMonth after.
const (
	noMonth  month = math.MinInt32
	maxMonth month = math.MaxInt32
)

// monthOf returns the UTC calendar month of a time in ms: Analyzer Capacity
// resets at 00:00 UTC on the 1st, whatever the server's offset.
func monthOf(ms int64) month {
	t := time.UnixMilli(ms).UTC()
	return month(t.Year()*12 + int(t.Month()) - 1)
}

func (m month) String() string {
	return time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// monthCache answers monthOf quickly for the sessions of one month, which
// arrive together.
type monthCache struct {
	from, until int64 // [from, until) in ms
	m           month
}

func (c *monthCache) of(ms int64) month {
	if ms >= c.from && ms < c.until {
		return c.m
	}
	m := monthOf(ms)
	c.m = m
	c.from = time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	c.until = time.Date(int(m)/12, time.Month(int(m)%12+2), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	return m
}

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
