package reports

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/metering"
)

// estateWithLicense is the sample estate metered as of asOf with its
// bundled licence edited by the replacements (old, new, old, new …).
func estateWithLicense(t *testing.T, asOf time.Time, replacements ...string) *DB {
	t.Helper()
	text, err := os.ReadFile(estateLic)
	require.NoError(t, err)
	edited := string(text)
	for i := 0; i < len(replacements); i += 2 {
		require.Contains(t, edited, replacements[i])
		edited = strings.Replace(edited, replacements[i], replacements[i+1], 1)
	}
	dir := t.TempDir()
	license := filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte(edited), 0o644))
	data := filepath.Join(dir, "data")
	require.NoError(t, os.CopyFS(data, os.DirFS(estates[dataRecon])))
	st, _, err := EnsureState(context.Background(), data, StateOptions{AsOf: asOf, License: license, Store: true})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	db, err := Open(context.Background(), data, st)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAlertCapacityForecastOverBudget(t *testing.T) {
	ctx := context.Background()
	on := metering.Alerts{CapacityForecastOverBudget: true}
	t.Run("fires: mid-March forecast range 17,555–22,219 above the 15,000 budget", func(t *testing.T) {
		alerts, err := openEstate(t, dataMidMar).Alerts(ctx, on, 0)
		require.NoError(t, err)
		require.Equal(t, []Alert{{Kind: AlertCapacityForecast, Pool: "default", Month: "2024-03", Observed: 17555, Limit: 15000,
			Message: "the Analyzer Capacity forecast for 2024-03 (pool default) is 19887 minutes (90% range 17555 to 22219), above the budget of 15000"}}, alerts)
	})
	t.Run("quiet: the same day with a budget of 20,000", func(t *testing.T) {
		db := estateWithLicense(t, midMarch, "capacity_minutes = 15000", "capacity_minutes = 20000")
		alerts, err := db.Alerts(ctx, on, 0)
		require.NoError(t, err)
		require.Empty(t, alerts)
	})
	t.Run("quiet: before forecast_min_days, no forecast and no alert", func(t *testing.T) {
		db := estateWithLicense(t, time.Date(2024, 3, 7, 0, 0, 0, 0, time.UTC), "capacity_minutes = 15000", "capacity_minutes = 10")
		alerts, err := db.Alerts(ctx, on, 0)
		require.NoError(t, err)
		require.Empty(t, alerts)
	})
	t.Run("quiet: not configured", func(t *testing.T) {
		alerts, err := openEstate(t, dataMidMar).Alerts(ctx, metering.Alerts{}, 0)
		require.NoError(t, err)
		require.Empty(t, alerts)
	})
}

func TestAlertMaxIdleNamed(t *testing.T) {
	ctx := context.Background()
	five := 5
	t.Run("fires: without the conversion the CAL licence still holds idle named CALs", func(t *testing.T) {
		db := estateWithLicense(t, asOf, "converted_at = 2024-02-19T00:00:00Z\n", "")
		alerts, err := db.Alerts(ctx, metering.Alerts{MaxIdleNamed: &five}, 0)
		require.NoError(t, err)
		require.Len(t, alerts, 1)
		require.Equal(t, AlertMaxIdleNamed, alerts[0].Kind)
		require.Greater(t, alerts[0].Observed, int64(5))
		require.Contains(t, alerts[0].Error(), "named CALs have been idle 30 days or more")
	})
	t.Run("quiet: after the conversion the named CALs are retired, not idle", func(t *testing.T) {
		zero := 0
		alerts, err := openEstate(t, dataRecon).Alerts(ctx, metering.Alerts{MaxIdleNamed: &zero}, 0)
		require.NoError(t, err)
		require.Empty(t, alerts)
	})
	t.Run("quiet: --idle-days above every holder's idle time", func(t *testing.T) {
		db := estateWithLicense(t, asOf, "converted_at = 2024-02-19T00:00:00Z\n", "")
		alerts, err := db.Alerts(ctx, metering.Alerts{MaxIdleNamed: &five}, 365)
		require.NoError(t, err)
		require.Empty(t, alerts)
	})
}

// Issue 11 "One idle threshold": the licence's [policy] idle_days drives
// idle-cals, the summary, the page and the alert; --idle-days (Params)
// overrides it for one run.
func TestOneIdleThresholdFromThePolicy(t *testing.T) {
	ctx := context.Background()
	db := estateWithLicense(t, asOf, "[policy]", "[policy]\n  idle_days = 7")
	require.Equal(t, 7, db.IdleDays())
	byLicence, err := db.Run(ctx, "idle-cals", DefaultParams())
	require.NoError(t, err)
	explicit, err := db.Run(ctx, "idle-cals", Params{IdleDays: 7})
	require.NoError(t, err)
	require.Equal(t, explicit.Rows, byLicence.Rows)
	require.Greater(t, len(byLicence.Rows), 6, "7 days makes more holders idle than the default 30")
	for _, r := range records(byLicence) {
		require.GreaterOrEqual(t, r.int("idle_days"), int64(7))
	}
	sum, err := db.Run(ctx, "summary", DefaultParams())
	require.NoError(t, err)
	require.Equal(t, int64(7), records(sum)[0].int("idle_days"))
	sum, err = db.Run(ctx, "summary", Params{IdleDays: 45})
	require.NoError(t, err)
	require.Equal(t, int64(45), records(sum)[0].int("idle_days"))
}
