package metering_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
)

// Issue 11 "Done when": on the sample estate with its bundled licence and
// a budget of 20,000 minutes, no as-of day of March 2024 raises the
// forecast alert (the forecast's low end above the budget), and no CAL-era
// holder is held (so none is idle). The month's first week runs at 1.6
// times the pace of the others: the point forecast of the 8th (27,236) is
// above 20,000, its 90% range [16,466, 38,005] says how little a week tells.
func TestSampleEstateMarchForecastStaysUnderBudgetAndNoCALEraHolderIsHeld(t *testing.T) {
	const estate = "../fixtures/estate"
	lic, _, err := metering.LoadLicense(filepath.Join(estate, "license.toml"))
	require.NoError(t, err)
	lic.SLK.CapacityMinutes = 20000
	data := t.TempDir()
	_, err = ingest.Run(context.Background(), ingest.Options{Data: data, Paths: []string{estate}, Workers: 1, Now: func() time.Time { return farFuture }})
	require.NoError(t, err)
	files, err := dataset.ListFiles(data)
	require.NoError(t, err)
	for day := 1; day <= 31; day++ {
		asOf := time.Date(2024, 3, day, 0, 0, 0, 0, time.UTC)
		st, err := metering.Replay(context.Background(), files, metering.Config{AsOf: asOf, License: lic})
		require.NoError(t, err)
		for _, m := range st.Months {
			if m.ForecastLowMinutes != nil {
				require.LessOrEqual(t, *m.ForecastLowMinutes, int64(20000), "as of %s: the forecast alert would fire", asOf)
			}
		}
		for _, h := range st.Holders {
			if h.CALType == "named" || h.CALType == "document" {
				require.True(t, h.Retired, "as of %s: %s holds a %s CAL after the conversion", asOf, h.User, h.CALType)
			}
		}
	}
}
