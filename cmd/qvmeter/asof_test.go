package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestParseAsOf pins every form --as-of accepts (a value without a zone is
// UTC) and that a value it cannot read is refused saying why.
func TestParseAsOf(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("CET", 3600))
	utc := func(y int, m time.Month, d, h, min, s, ns int) time.Time {
		return time.Date(y, m, d, h, min, s, ns, time.UTC)
	}
	tests := []struct {
		name, text string
		want       time.Time
		err        string
	}{
		{"a date is 00:00 UTC", "2024-03-31", utc(2024, 3, 31, 0, 0, 0, 0), ""},
		{"hours and minutes without a zone are UTC", "2024-03-31T10:00", utc(2024, 3, 31, 10, 0, 0, 0), ""},
		{"seconds without a zone", "2024-03-31T10:00:30", utc(2024, 3, 31, 10, 0, 30, 0), ""},
		{"milliseconds without a zone", "2024-03-31T10:00:30.250", utc(2024, 3, 31, 10, 0, 30, 250_000_000), ""},
		{"a space for the T", "2024-03-31 10:00", utc(2024, 3, 31, 10, 0, 0, 0), ""},
		{"a space and seconds", "2024-03-31 10:00:30", utc(2024, 3, 31, 10, 0, 30, 0), ""},
		{"Z", "2024-03-31T10:00Z", utc(2024, 3, 31, 10, 0, 0, 0), ""},
		{"RFC 3339 with an offset is converted to UTC", "2024-03-31T20:00:00+02:00", utc(2024, 3, 31, 18, 0, 0, 0), ""},
		{"a space, milliseconds and an offset", "2024-03-31 20:00:00.5-01:00", utc(2024, 3, 31, 21, 0, 0, 500_000_000), ""},
		{"lower-case t and z", "2024-03-31t10:00z", utc(2024, 3, 31, 10, 0, 0, 0), ""},
		{"now is the instant, in UTC", "now", now.UTC(), ""},
		{"keywords in any case", "NOW", now.UTC(), ""},
		{"today is 00:00 UTC of today", "today", utc(2025, 1, 2, 0, 0, 0, 0), ""},
		{"yesterday is 00:00 UTC of yesterday", "Yesterday", utc(2025, 1, 1, 0, 0, 0, 0), ""},
		{"a day that does not exist is named", "2024-02-30", time.Time{}, "day out of range"},
		{"an hour that does not exist is named", "2024-03-31T25:00", time.Time{}, "hour out of range"},
		{"a day first is refused", "31/03/2024", time.Time{}, "want a date (2024-03-31)"},
		{"hours alone are refused", "2024-03-31T10", time.Time{}, "want a date"},
		{"a word is refused", "tomorrow", time.Time{}, "want a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAsOf(tt.text, now)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.ErrorContains(t, err, `--as-of "`+tt.text+`"`)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, time.UTC, got.Location())
		})
	}
}
