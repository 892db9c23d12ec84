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

// TestCloneIsDeepAndKeepsUnknownSizes pins License.Clone, which what-if
// licences start from: equal to the original, unknown sizes included, and
// sharing nothing with it.
func TestCloneIsDeepAndKeepsUnknownSizes(t *testing.T) {
	lic, err := ParseLicense("license.toml", []byte(`servers = ["A"]
exclude = ['corp\svc_*']
converted_at = 2024-03-15T00:00:00Z
[cal]
named = 5
named_users = ['corp\a']
document_total = 2
[[cal.documents]]
path = 'x.qvw'
allocated = 1
[slk]
analyzer = 2
[[group]]
name = "g"
servers = ["B"]
[group.slk]
capacity_minutes = 100
[prices]
period = "month"
analyzer = 30
`))
	require.NoError(t, err)
	clone := lic.Clone()
	require.Equal(t, lic, clone)
	require.False(t, clone.CAL.Known("session"), "an unknown size stays unknown")
	clone.CAL.Named, clone.CAL.NamedUsers[0], clone.CAL.Documents[0].Allocated = 9, "other", 7
	clone.Groups[0].SLK.CapacityMinutes, *clone.Prices.Analyzer = 1, 1
	require.Equal(t, 5, lic.CAL.Named)
	require.Equal(t, `corp\a`, lic.CAL.NamedUsers[0])
	require.Equal(t, 1, lic.CAL.Documents[0].Allocated)
	require.Equal(t, int64(100), lic.Groups[0].SLK.CapacityMinutes)
	require.Equal(t, 30.0, *lic.Prices.Analyzer)
}
