package reports

import (
	"testing"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/stretchr/testify/require"
)

// The data-quality rows (issue 10, "Every lenient reading is visible"):
// per server in the decoder's order, offset-less times one row per zone
// they were converted with (as UTC named as such), unknown columns with
// their names, zero counts left out, a kind of another version last.
func TestDataQualityRows(t *testing.T) {
	rows := qualityRows(map[string]*dataset.ServerQuality{
		"QVS-OLD": {
			Lenient:          map[string]int64{"offsetless_times": 6, "day_fraction_durations": 2, "unknown_columns": 1, "nul_runs": 0, "from_the_future": 3},
			OffsetlessByZone: map[string]int64{"America/New_York": 4, dataset.NoZone: 2},
			UnknownColumns:   []string{"SessionGuid", "Extra"},
		},
		"QVS-A": {Lenient: map[string]int64{"derived_timestamp": 1}},
	})
	type row struct {
		server, kind string
		count        int64
		detail       string
	}
	var got []row
	for _, r := range rows {
		got = append(got, row{r.server, r.kind, r.count, r.detail})
	}
	require.Equal(t, []row{
		{"QVS-A", "derived_timestamp", 1, ""},
		{"QVS-OLD", "unknown_columns", 1, `"SessionGuid", "Extra"`},
		{"QVS-OLD", "offsetless_times", 2, "converted as UTC: no zone given for the server (--timezone or the licence's [timezones], then qvmeter ingest --rebuild)"},
		{"QVS-OLD", "offsetless_times", 4, "converted with America/New_York"},
		{"QVS-OLD", "day_fraction_durations", 2, ""},
		{"QVS-OLD", "from_the_future", 3, ""},
	}, got)
}
