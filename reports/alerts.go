package reports

import (
	"context"
	"fmt"

	"github.com/qvmeter/qvmeter/metering"
)

// Alert kinds: the licence file's [alerts] keys.
const (
	AlertCapacityForecast = "capacity_forecast_over_budget"
	AlertMaxIdleNamed     = "max_idle_named"
)

// Alert is one [alerts] condition of the licence file that holds: what
// `qvmeter run` exits with code 3 for. Observed and Limit are the figures
// compared.
type Alert struct {
	Kind     string
	Pool     string // capacity: the licence group; empty for the whole licence
	Month    string // capacity: the UTC month
	Observed int64  // the forecast's low end, or the idle named CALs
	Limit    int64  // the budget, or max_idle_named
	Message  string
}

func (a Alert) Error() string { return "alert: " + a.Message }

// Alerts evaluates cfg against the state's figures, read as typed columns
// (a renamed column is an error here, never a silent pass):
//
//   - capacity_forecast_over_budget: the current month's forecast is very
//     probably above the budget, i.e. the low end of its 90% range
//     (forecast_low_minutes, metering/forecast.go) is; no forecast before
//     [alerts] forecast_min_days, so no alert either;
//   - max_idle_named: more named CALs held (not revoked, not retired at the
//     conversion) and idle idleDays or more than allowed.
//
// idleDays 0 means the licence's [policy] idle_days.
func (db *DB) Alerts(ctx context.Context, cfg metering.Alerts, idleDays int) ([]Alert, error) {
	if idleDays == 0 {
		idleDays = db.IdleDays()
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	var alerts []Alert
	if cfg.CapacityForecastOverBudget {
		rows, err := db.conn.QueryContext(ctx, `
SELECT pool, month, forecast_minutes, forecast_low_minutes, forecast_high_minutes, budget FROM months
WHERE month = `+currentMonthSQL+` AND forecast_low_minutes > budget ORDER BY pool`)
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", AlertCapacityForecast, err)
		}
		defer rows.Close()
		for rows.Next() {
			var a Alert
			var forecast, high int64
			if err := rows.Scan(&a.Pool, &a.Month, &forecast, &a.Observed, &high, &a.Limit); err != nil {
				return nil, fmt.Errorf("alert %s: %w", AlertCapacityForecast, err)
			}
			a.Kind = AlertCapacityForecast
			a.Message = fmt.Sprintf("the Analyzer Capacity forecast for %s (pool %s) is %d minutes (90%% range %d to %d), above the budget of %d",
				a.Month, a.Pool, forecast, a.Observed, high, a.Limit)
			alerts = append(alerts, a)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if cfg.MaxIdleNamed != nil {
		var idle int64
		err := db.conn.QueryRowContext(ctx, `
SELECT count(*) FROM holders WHERE cal_type = 'named' AND NOT revoked AND NOT retired AND idle_days >= $1`, idleDays).Scan(&idle)
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", AlertMaxIdleNamed, err)
		}
		if limit := int64(*cfg.MaxIdleNamed); idle > limit {
			alerts = append(alerts, Alert{Kind: AlertMaxIdleNamed, Observed: idle, Limit: limit,
				Message: fmt.Sprintf("%d named CALs have been idle %d days or more, more than the %d allowed", idle, idleDays, limit)})
		}
	}
	return alerts, nil
}
