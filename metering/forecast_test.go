package metering_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/fixtures"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
)

// Issue 11 "An honest forecast", tried on every day of a generated month:
// the capacity_forecast_over_budget alert (the forecast's low end above the
// budget) fires on no day of a month that ends more than 10% under budget,
// and on or before the 20th for a month that ends 10% over.
func TestForecastAlertOnEveryDayOfAGeneratedMonth(t *testing.T) {
	logs, data := t.TempDir(), t.TempDir()
	pools := fixtures.DefaultPools(120)
	pools.CapacityMinutes, pools.Overage = 1_000_000, "unlimited" // never locked out: the month runs at its own pace
	_, err := fixtures.Generate(context.Background(), fixtures.Options{Out: logs, Users: 120, Documents: 12, Days: 60, Seed: 7,
		Start: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Era: fixtures.EraSLK, Pools: &pools})
	require.NoError(t, err)
	_, err = ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{logs}, Workers: 1, Now: func() time.Time { return farFuture }})
	require.NoError(t, err)
	files, err := dataset.ListFiles(data)
	require.NoError(t, err)
	lic := &metering.License{SLK: &metering.SLKPools{CapacityMinutes: 1, Overage: metering.OverageUnlimited}, Alerts: metering.Alerts{ForecastMinDays: metering.DefaultForecastMinDays}}

	type day struct {
		asOf     time.Time
		forecast *metering.MonthRow
	}
	var days []day
	var total int64
	for d := 1; d <= 32; d++ {
		asOf := time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC)
		st, err := metering.Replay(context.Background(), files, metering.Config{AsOf: asOf, License: lic})
		require.NoError(t, err)
		for i, m := range st.Months {
			if m.Month == "2024-03" {
				days = append(days, day{asOf, &st.Months[i]})
				total = m.Minutes
			}
		}
	}
	require.Positive(t, total)
	for _, tc := range []struct {
		name    string
		budget  int64
		firesBy time.Time // zero: never
	}{
		{"month ends 10% under budget: never fires", total * 10 / 9, time.Time{}},
		{"month ends 10% over budget: fires on or before the 20th", total * 10 / 11, time.Date(2024, 3, 21, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var firstFired time.Time
			for _, d := range days {
				m := d.forecast
				if m.ForecastLowMinutes == nil {
					require.Less(t, d.asOf, time.Date(2024, 3, 8, 0, 0, 0, 0, time.UTC), "a forecast from the 8th on")
					continue
				}
				t.Logf("as of %s: %d minutes, forecast %d [%d, %d], budget %d", d.asOf.Format(time.DateOnly), m.Minutes,
					*m.ForecastMinutes, *m.ForecastLowMinutes, *m.ForecastHighMinutes, tc.budget)
				if *m.ForecastLowMinutes > tc.budget && firstFired.IsZero() {
					firstFired = d.asOf
				}
			}
			if tc.firesBy.IsZero() {
				require.True(t, firstFired.IsZero(), "fired as of %s", firstFired)
				return
			}
			require.False(t, firstFired.IsZero(), "never fired")
			require.LessOrEqual(t, firstFired, tc.firesBy)
		})
	}
}
