package parse

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // RFC 3339 UTC; "" = unreadable
		how  timeRead
	}{
		{"compact with offset, as servers write it", "20210412T133617.000+0200", "2021-04-12T11:36:17Z", timeWithOffset},
		{"negative offset", "20240310T015959.500-0500", "2024-03-10T06:59:59.5Z", timeWithOffset},
		{"offset after the US DST change", "20240310T030000.000-0400", "2024-03-10T07:00:00Z", timeWithOffset},
		{"offset with colon", "20210412T133617.000+02:00", "2021-04-12T11:36:17Z", timeWithOffset},
		{"no fraction", "20210412T133617+0200", "2021-04-12T11:36:17Z", timeWithOffset},
		{"no offset means UTC", "20210412T133617.250", "2021-04-12T13:36:17.25Z", timeOffsetless},
		{"Z suffix", "20210412T133617Z", "2021-04-12T13:36:17Z", timeWithOffset},
		{"QlikView 11 2006-01-02 15:04:05", "2015-03-02 08:00:00", "2015-03-02T08:00:00Z", timeOffsetless},
		{"QlikView 11 form with T and offset", "2015-03-02T08:00:00+01:00", "2015-03-02T07:00:00Z", timeWithOffset},
		{"leap day", "20240229T120000.000+0000", "2024-02-29T12:00:00Z", timeWithOffset},
		{"not a leap year", "20230229T120000.000+0000", "", 0},
		{"month 13", "20231301T120000.000+0000", "", 0},
		{"hour 24", "20230101T240000.000+0000", "", 0},
		{"letters", "2023O101T120000.000+0000", "", 0},
		{"truncated", "20230101T1200", "", 0},
		{"bad offset", "20230101T120000.000+2x00", "", 0},
		{"empty", "", "", 0},
		// The compact form's digits are read eight bytes at a time: a
		// non-digit anywhere in them, above or below '0'..'9', is no time.
		{"byte below '0' in the date", "2023010/T120000.000+0000", "", 0},
		{"byte above '9' in the clock", "20230101T12000:.000+0000", "", 0},
		{"high byte in the clock", "20230101T1\xb00000.000+0000", "", 0},
		{"space in the year", "2 230101T120000.000+0000", "", 0},
		{"every digit", "19870623T195948.000+0000", "1987-06-23T19:59:48Z", timeWithOffset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			utc := newZone(nil)
			ms, how, ok := parseTime([]byte(tt.in), &utc)
			if tt.want == "" {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			want, err := time.Parse(time.RFC3339Nano, tt.want)
			require.NoError(t, err)
			require.Equal(t, want.UnixMilli(), ms)
			require.Equal(t, tt.how, how)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64 // ms; -1 = unreadable
		form durationForm
	}{
		{"h:mm:ss", "00:00:16", 16000, durationClock},
		{"hours over 24", "26:00:00", 26 * 3600000, durationClock},
		{"many hour digits", "1234:05:06", (1234*3600 + 5*60 + 6) * 1000, durationClock},
		{"with fraction", "00:00:01.500", 1500, durationClock},
		{"d.hh:mm:ss", "2.01:00:00", 49 * 3600000, durationDayClock},
		{"fraction of a day (QlikView 12 bug)", "0.0123", 1062720, durationDayFraction},
		{"whole day as a number", "1", 86400000, durationDayFraction},
		{"minutes out of range", "00:60:00", -1, 0},
		{"missing seconds", "00:10", -1, 0},
		{"text", "n/a", -1, 0},
		{"empty", "", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, form, ok := parseDuration([]byte(tt.in))
			if tt.want < 0 {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, ms)
			require.Equal(t, tt.form, form)
		})
	}
}

func TestParseNumbers(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		how  intRead
	}{
		{"4747", 4747, intOK}, {"-1", -1, intOK}, {"+3", 3, intOK}, {"0", 0, intOK},
		{"9223372036854775807", 9223372036854775807, intOK},
		{"-9223372036854775808", -9223372036854775808, intOK},
		{"leading zeros are a number: 00000000000000000000006", 6, intOK},
		{"12a", 0, intInvalid}, {"-", 0, intInvalid}, {"", 0, intInvalid}, {"1.5", 0, intInvalid},
		{"a counter beyond int64 is null, never wrapped: 9223372036854775808", 0, intOverflow},
		{"19 digits: 9999999999999999999", 0, intOverflow},
		{"20 digits: 18446744073709551616", 0, intOverflow},
		{"-9223372036854775809", 0, intOverflow},
		{"99999999999999999999x", 0, intInvalid},
	}
	for _, tt := range ints {
		in := tt.in
		if i := strings.LastIndex(in, ": "); i >= 0 {
			in = in[i+2:]
		}
		v, how := parseInt([]byte(in))
		require.Equal(t, tt.how, how, tt.in)
		require.Equal(t, tt.want, v, tt.in)
	}
	floats := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.000000", 0, true}, {"1.250000", 1.25, true}, {"12", 12, true}, {"0.1", 0.1, true},
		{"-3.5", -3.5, true}, {"1e3", 1000, true}, {"0.12345678901234567890", 0.12345678901234568, true},
		{"abc", 0, false}, {".", 0, false}, {"", 0, false},
	}
	for _, tt := range floats {
		v, ok := parseDecimal([]byte(tt.in))
		require.Equal(t, tt.ok, ok, tt.in)
		require.Equal(t, tt.want, v, tt.in)
	}
}

func TestClassifyCAL(t *testing.T) {
	tests := []struct {
		raw  string
		want CALClass
	}{
		{"Named User", CALNamed}, {"named user", CALNamed}, {"Document", CALDocument},
		{"Session", CALSession}, {"Usage", CALUsage}, {"Professional", CALProfessional},
		{"Analyzer", CALAnalyzer}, {"Analyzer Capacity", CALAnalyzerCapacity},
		{"ANALYZER_CAPACITY", CALAnalyzerCapacity}, {"None", CALNone}, {"", CALNone},
		{"Full Use", CALNamed}, {"Something New", CALUnknown},
		{"a very long value that is no CAL type at all", CALUnknown},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ClassifyCAL([]byte(tt.raw)), tt.raw)
	}
}

func TestClassifyExit(t *testing.T) {
	tests := []struct {
		raw  string
		want ExitClass
	}{
		{"Socket closed by client", ExitClientClose},
		{"Socket closed", ExitClientClose}, // the help's wording
		{"Session expired after idle time", ExitIdleTimeout},
		{"LRU (Least Recently Used) session terminated", ExitLRU},
		{"Shutdown of the service", ExitShutdown},
		{"Server shut down", ExitShutdown},
		{"Document unloaded", ExitOther},
		{"", ExitOther},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ClassifyExit([]byte(tt.raw)), tt.raw)
	}
}
