package metering

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPricesMonthly(t *testing.T) {
	for name, tc := range map[string]struct {
		file        string
		key         string
		want        float64
		ok          bool
		minute      float64
		minuteKnown bool
	}{
		"a monthly price is itself":           {"[prices]\nperiod = \"month\"\nanalyzer = 30\n", PriceAnalyzer, 30, true, 0, false},
		"a yearly price is a twelfth a month": {"[prices]\nperiod = \"year\"\nanalyzer = 360\n", PriceAnalyzer, 30, true, 0, false},
		"a missing price is not zero":         {"[prices]\nperiod = \"year\"\nanalyzer = 360\n", PriceNamedCAL, 0, false, 0, false},
		"a minute is the pack's monthly price over its minutes": {
			"[prices]\nperiod = \"year\"\ncapacity_minutes_pack = 1200\ncapacity_pack_minutes = 1000\n", PriceCapacityMinutesPack, 100, true, 0.1, true},
		"no [prices]": {"", PriceAnalyzer, 0, false, 0, false},
	} {
		t.Run(name, func(t *testing.T) {
			lic, err := ParseLicense("license.toml", []byte(tc.file))
			require.NoError(t, err)
			got, ok := lic.Prices.Monthly(tc.key)
			require.Equal(t, tc.ok, ok)
			require.InDelta(t, tc.want, got, 1e-9)
			minute, ok := lic.Prices.MinuteMonthly()
			require.Equal(t, tc.minuteKnown, ok)
			require.InDelta(t, tc.minute, minute, 1e-9)
		})
	}
}
