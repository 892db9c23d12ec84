package metering

import (
	"fmt"
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// Usage CAL rules of the spec: one CAL per started 60 minutes of a session,
// recharged over a 28-day cycle.
const (
	usageCALHour      = 60 * minuteMS
	usageRechargeDays = 28
	usageRecharge     = usageRechargeDays * dayMS
)

// usageUnits is how many Usage CALs a session consumes: its logged count
// where there is one (the spec: trust the log), else one per started hour
// (at least one).
func usageUnits(s *Session) int64 {
	if s.UsageCount > 0 {
		return s.UsageCount
	}
	return impliedUsageUnits(s)
}

// impliedUsageUnits is what the duration implies: one per started hour.
func impliedUsageUnits(s *Session) int64 { return max(1, ceilDiv(s.End-s.Start, usageCALHour)) }

// consumeHourly books a session's units the way the server takes them: the
// k-th at start + (k−1) h, on that UTC day, so a long session across
// midnight consumes on both days.
func (u *usagePool) consumeHourly(start, units int64) {
	for k := range units {
		u.consumed[dayOf(start+k*usageCALHour)]++
	}
}

// usagePool is one pool's Usage CALs. In reconstruct mode the k-th unit of
// a session is counted at start + (k−1) h (the spec's "Usage CAL"); simulate
// mode takes a session's units at its start, where it is granted or denied.
// consumed feeds the daily table (memory grows
// with days); returns and level are the live pool that simulate mode draws
// on, in start order (memory grows with the pool size).
type usagePool struct {
	size     int64 // < 0: unknown
	linear   bool  // the "linear" recharge model, else "per-cal"
	consumed map[int32]int64

	returns []int64 // per-cal: when each unit out comes back, increasing
	level   float64 // linear: CALs left at levelAt
	levelAt int64
}

func newUsagePool(size int64, linear bool) *usagePool {
	return &usagePool{size: size, linear: linear, consumed: map[int32]int64{}, level: float64(size), levelAt: minTime}
}

// consume books units used at start (reconstruct: the log says they were).
func (u *usagePool) consume(start, units int64) {
	u.consumed[dayOf(start)] += units
}

// take gives a session starting at start up to want units from the live
// pool and returns how many it got (0: none left). Calls come in start order.
func (u *usagePool) take(start, want int64) int64 {
	var available int64
	if u.linear {
		if u.levelAt != minTime {
			u.level = min(float64(u.size), u.level+float64(u.size)*float64(start-u.levelAt)/float64(usageRecharge))
		}
		u.levelAt = start
		available = int64(u.level)
	} else {
		back := 0
		for back < len(u.returns) && u.returns[back] <= start {
			back++
		}
		u.returns = u.returns[back:]
		available = u.size - int64(len(u.returns))
	}
	taken := min(available, want)
	if taken <= 0 {
		return 0
	}
	if u.linear {
		u.level -= float64(taken)
	} else {
		for range taken {
			u.returns = append(u.returns, start+usageRecharge)
		}
	}
	u.consume(start, taken)
	return taken
}

// rows returns the daily table from the first consumption to lastDay (the
// as-of day): what was consumed, and what was left at the end of the day —
// size minus the units of the last 28 days (per-cal), or the recurrence
// min(size, yesterday + size/28) − today (linear). Days with no consumption
// on which the pool is full (or of unknown size) are left out.
func (u *usagePool) rows(lastDay int32) []UsageRow {
	days := make([]int32, 0, len(u.consumed))
	for d := range u.consumed {
		days = append(days, d)
	}
	if len(days) == 0 {
		return nil
	}
	slices.Sort(days)
	var out []UsageRow
	var window, level = int64(0), float64(u.size) // per-cal: units of the last 28 days; linear: CALs left
	for day := days[0]; day <= max(lastDay, days[len(days)-1]); day++ {
		row := UsageRow{Day: dayString(day), Consumed: u.consumed[day]}
		window += row.Consumed - u.consumed[day-usageRechargeDays]
		if u.size < 0 {
			if row.Consumed > 0 {
				out = append(out, row)
			}
			continue
		}
		available := float64(u.size - window)
		if u.linear {
			level = min(float64(u.size), level+float64(u.size)/usageRechargeDays) - float64(row.Consumed)
			available = level
		}
		if row.Consumed == 0 && available >= float64(u.size) {
			continue
		}
		row.Available, row.AtZero = &available, available <= 0
		out = append(out, row)
	}
	return out
}

// bookUsage books a usage-CAL session as logged, hour by hour, and flags a
// logged count that differs from what its duration implies.
func (e *Engine) bookUsage(p *pool, s *Session) {
	p.usage.consumeHourly(s.Start, e.boundedUsageUnits(p, s))
	if implied := impliedUsageUnits(s); s.UsageCount > 0 && s.UsageCount != implied {
		row := e.sessionAnomaly(s)
		row.Kind, row.CALType, row.Day = AnomalyUsageCountMismatch, parse.CALUsage.String(), dayString(dayOf(s.Start))
		row.Observed, row.Limit = s.UsageCount, implied
		row.Detail = fmt.Sprintf("CAL Usage Count %d, the duration implies %d (one per started hour): the logged count is used", s.UsageCount, implied)
		p.anomalies = append(p.anomalies, row)
	}
}

// finishUsage emits the pool's usage-CAL days, with the overdrawn ones as
// anomalies.
func (e *Engine) finishUsage(st *State, p *pool) {
	for _, row := range p.usage.rows(dayOf(e.asOf)) {
		row.Pool = p.name
		if row.Available != nil && *row.Available < 0 && row.Consumed > 0 {
			st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyPoolExceeded, CALType: "usage", Day: row.Day,
				Observed: row.Consumed, Limit: p.usage.size, Detail: fmt.Sprintf("usage CALs overdrawn: %.2f available", *row.Available)})
		}
		st.Usage = append(st.Usage, row)
	}
}
