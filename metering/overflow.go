package metering

import (
	"fmt"
	"math"

	"github.com/qvmeter/qvmeter/parse"
)

// Sums that cannot overflow. The decoder sets aside counts that cannot be
// real (implausible.go), but a dataset written before it did, or a hand-made
// one, may still hold a CAL Usage Count near the largest 64-bit integer: two
// of them would wrap a month's sum to a negative number without a word. The
// ledger's sums saturate instead, at the largest (or smallest) 64-bit
// integer, and the first session that saturates one is shown as a
// sum_saturated anomaly: the figure is then a bound, not a count.

// addSaturating returns a + b, held at math.MaxInt64 or math.MinInt64
// where it would overflow, and whether this addition took it to the limit
// (adding to a sum already held there is not reported again).
func addSaturating(a, b int64) (int64, bool) {
	sum := a + b
	switch {
	case b > 0 && sum < a:
		return math.MaxInt64, a != math.MaxInt64
	case b < 0 && sum > a:
		return math.MinInt64, a != math.MinInt64
	}
	return sum, false
}

// saturatedAnomaly records that a sum of one of the pool's figures reached
// the 64-bit limit with session s, which added value to it.
func (e *Engine) saturatedAnomaly(p *pool, s *Session, figure string, value int64) {
	row := e.sessionAnomaly(s)
	row.Kind, row.CALType, row.Observed, row.Limit = AnomalySumSaturated, s.CAL.String(), value, math.MaxInt64
	row.Detail = fmt.Sprintf("%s reached the 64-bit limit with this session's %d: held there, the figure is a bound", figure, value)
	p.anomalies = append(p.anomalies, row)
}

// roundToInt64 rounds f to the nearest int64, held at the 64-bit limits
// (a conversion out of range would give an arbitrary value): a forecast
// from a saturated month stays at the limit.
func roundToInt64(f float64) int64 {
	switch r := math.Round(f); {
	case r >= math.MaxInt64:
		return math.MaxInt64
	case r <= math.MinInt64:
		return math.MinInt64
	default:
		return int64(r)
	}
}

// usageUnitsCeiling is the most usage CALs a session can take: one an
// hour for a 31-day month (parse.CALUsageCeiling is that month's minutes).
const usageUnitsCeiling = parse.CALUsageCeiling / 60

// boundedUsageUnits is usageUnits held at usageUnitsCeiling: the server
// takes usage CALs one per hour, and a count beyond it (possible only in a
// dataset older than the implausible column, which sets such a row aside)
// would book one unit an hour for millennia. The session held there is a
// sum_saturated anomaly.
func (e *Engine) boundedUsageUnits(p *pool, s *Session) int64 {
	units := usageUnits(s)
	if units <= usageUnitsCeiling {
		return units
	}
	row := e.sessionAnomaly(s)
	row.Kind, row.CALType, row.Observed, row.Limit = AnomalySumSaturated, s.CAL.String(), units, usageUnitsCeiling
	row.Detail = fmt.Sprintf("usage CALs of a session held at %d (a 31-day month of hours): its count %d cannot be real", usageUnitsCeiling, units)
	p.anomalies = append(p.anomalies, row)
	return usageUnitsCeiling
}
