package metering

import "slices"

// Usage CAL rules of the spec: one CAL per started 60 minutes of a session,
// recharged over a 28-day cycle.
const (
	usageCALHour      = 60 * minuteMS
	usageRechargeDays = 28
)

// usageUnits is how many Usage CALs a session consumed: its logged count
// where there is one, else one per started hour (at least one).
func usageUnits(s *Session) int64 {
	if s.UsageCount > 0 {
		return s.UsageCount
	}
	return max(1, ceilDiv(s.End-s.Start, usageCALHour))
}

// usagePool is one pool's Usage CALs: consumption per UTC day, and the
// availability it leaves under the recharge model. Memory grows with days.
type usagePool struct {
	size     int64 // < 0: unknown
	linear   bool  // the "linear" recharge model, else "per-cal"
	consumed map[int32]int64
	// linear model: available at the end of day cachedDay (NaN-free cache
	// of the recurrence, valid while no consumption is added before it).
	cachedDay   int32
	cachedAvail float64
	cacheValid  bool
}

func newUsagePool(size int64, linear bool) *usagePool {
	return &usagePool{size: size, linear: linear, consumed: map[int32]int64{}}
}

// consume records a session's units: the k-th at start + k hours.
func (u *usagePool) consume(start int64, units int64) {
	for k := int64(0); k < units; k++ {
		day := dayOf(start + k*usageCALHour)
		u.consumed[day]++
		if u.cacheValid && day <= u.cachedDay {
			u.cacheValid = false
		}
	}
}

// availableAt is what is left during day after the consumption recorded so
// far: size minus the units of the last 28 days (per-cal), or the linear
// recurrence min(size, yesterday + size/28) − today.
func (u *usagePool) availableAt(day int32) float64 {
	if !u.linear {
		used := int64(0)
		for d := day - usageRechargeDays + 1; d <= day; d++ {
			used += u.consumed[d]
		}
		return float64(u.size - used)
	}
	if !u.cacheValid || u.cachedDay > day {
		first := day
		for d := range u.consumed {
			first = min(first, d)
		}
		u.cachedDay, u.cachedAvail, u.cacheValid = first-1, float64(u.size), true
	}
	for u.cachedDay < day {
		u.cachedDay++
		u.cachedAvail = min(float64(u.size), u.cachedAvail+float64(u.size)/usageRechargeDays) - float64(u.consumed[u.cachedDay])
	}
	return u.cachedAvail
}

// rows returns one row per day from the first consumption to lastDay
// (the as-of day), skipping days with no consumption on which the pool is
// full or unknown.
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
	for day := days[0]; day <= max(lastDay, days[len(days)-1]); day++ {
		row := UsageRow{Day: dayString(day), Consumed: u.consumed[day]}
		if u.size >= 0 {
			avail := u.availableAt(day)
			if row.Consumed == 0 && avail >= float64(u.size) {
				continue
			}
			row.Available, row.AtZero = &avail, avail <= 0
		} else if row.Consumed == 0 {
			continue
		}
		out = append(out, row)
	}
	return out
}
