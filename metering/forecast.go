package metering

import (
	"math"
	"time"
)

// The capacity forecast: the current month's projected total at month end,
// with a range, from the pace of whole days rather than from hours (issue
// 11: "an honest forecast").
//
// With T the as-of time and M the UTC month of the last instant before it:
//
//  1. No forecast before [alerts] forecast_min_days (default 7) whole days
//     of M have passed: a few hours or days say little about a month.
//
//  2. The pace sample is the minutes of every whole UTC day of M before T
//     that lies in the SLK era (from converted_at on, so a conversion
//     month uses only the SLK-era pace). When that is fewer than 7 days,
//     the last days of the month before fill it up to 7 (the previous
//     month's profile), if that month had capacity use and its days are in
//     the SLK era too; otherwise there is no forecast.
//
//  3. With n sample days of mean m, and r the days left from T to the end
//     of M (a fraction when T is not at midnight), the forecast is
//
//     forecast = minutes so far + m·r
//
//     and its range is forecast ∓ 1.645·σ·√(r + r²/n), a 90% interval for
//     the r days' sum plus the uncertainty of the mean, the low end never
//     below the minutes already used. σ is the spread of a day's minutes:
//     from 14 days of sample on, measured on the 7-day windows (σ = √7 ×
//     the deviation of the windows' daily pace), so that the weekly rhythm
//     of workdays and weekends is not taken for uncertainty; before that,
//     the deviation of the single days, which is wider and honest about
//     how little one week says.
//
// The capacity_forecast_over_budget alert fires on the low end: when the
// month will very probably end over budget, not on a wide guess.
const (
	// forecastPaceDays is the fewest whole days of pace a forecast uses.
	forecastPaceDays = 7
	// forecastZ is the normal quantile of a 90% two-sided interval.
	forecastZ = 1.645
)

// capacityForecast is a month's projected total and its range.
type capacityForecast struct {
	minutes, low, high int64
}

// forecastCapacity returns the forecast of the month m that contains the
// instant before asOf, from the pool's daily minutes, or false when there is
// none (too early in the month, or not enough pace). sinceMS is where the
// SLK era starts (minTime when it always applies).
func forecastCapacity(daily map[int32]int64, soFar int64, m month, asOf, sinceMS int64, prev *monthBudget, minDays int) (capacityForecast, bool) {
	monthStart := time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	monthEnd := time.Date(int(m)/12, time.Month(int(m)%12+2), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	if (asOf-monthStart)/dayMS < int64(minDays) {
		return capacityForecast{}, false
	}
	firstDay := dayOf(max(monthStart, sinceMS) + dayMS - 1) // the first whole day in the SLK era
	lastDay := dayOf(asOf)                                  // exclusive: the as-of day is not whole yet
	var sample []int64
	for d := firstDay; d < lastDay; d++ {
		sample = append(sample, daily[d])
	}
	if missing := forecastPaceDays - len(sample); missing > 0 {
		from := dayOf(monthStart) - int32(missing)
		if prev == nil || prev.minutes == 0 || int64(from)*dayMS < sinceMS {
			return capacityForecast{}, false
		}
		for d := from; d < dayOf(monthStart); d++ {
			sample = append(sample, daily[d])
		}
	}
	n := float64(len(sample))
	var sum float64
	for _, v := range sample {
		sum += float64(v)
	}
	mean := sum / n
	sd := dailySpread(sample, mean)
	left := float64(max(0, monthEnd-asOf)) / float64(dayMS)
	point := float64(soFar) + mean*left
	spread := forecastZ * sd * math.Sqrt(left+left*left/n)
	return capacityForecast{
		minutes: roundToInt64(point),
		low:     roundToInt64(max(float64(soFar), point-spread)),
		high:    roundToInt64(point + spread),
	}, true
}

// dailySpread is σ of the forecast (see above): the weekly windows' spread
// from 14 days on, the single days' before.
func dailySpread(sample []int64, mean float64) float64 {
	if len(sample) < 2*forecastPaceDays {
		return deviation(len(sample), func(i int) float64 { return float64(sample[i]) }, mean)
	}
	windows := make([]float64, len(sample)-forecastPaceDays+1)
	var sum float64
	for i, v := range sample {
		sum += float64(v)
		if i >= forecastPaceDays {
			sum -= float64(sample[i-forecastPaceDays])
		}
		if i >= forecastPaceDays-1 {
			windows[i-forecastPaceDays+1] = sum / forecastPaceDays
		}
	}
	var paceMean float64
	for _, w := range windows {
		paceMean += w / float64(len(windows))
	}
	return math.Sqrt(forecastPaceDays) * deviation(len(windows), func(i int) float64 { return windows[i] }, paceMean)
}

// deviation is the sample standard deviation of n values around mean.
func deviation(n int, value func(int) float64, mean float64) float64 {
	var squares float64
	for i := range n {
		squares += (value(i) - mean) * (value(i) - mean)
	}
	return math.Sqrt(squares / float64(n-1))
}

// forecast fills in the current month's forecast row by the formula above.
func (e *Engine) forecast(p *pool, row *MonthRow, m month, b *monthBudget) {
	since, minDays := int64(minTime), DefaultForecastMinDays
	if lic := e.cfg.License; lic != nil {
		minDays = lic.Alerts.ForecastMinDays
		if !lic.ConvertedAt.IsZero() && p.cal != nil && p.slk != nil {
			since = lic.ConvertedAt.UnixMilli()
		}
	}
	f, ok := forecastCapacity(p.capacity.daily, b.minutes, m, e.asOf, since, p.capacity.months[m-1], minDays)
	if ok {
		row.ForecastMinutes, row.ForecastLowMinutes, row.ForecastHighMinutes = &f.minutes, &f.low, &f.high
	}
}
