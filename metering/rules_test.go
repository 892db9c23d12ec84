package metering

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuarantineIsSevenDaysFrom1120SR18And1200SR6And1210(t *testing.T) {
	for version, want := range map[string]time.Duration{
		"11.20.12904.0409.10": 24 * time.Hour, // SR12
		"11.20.13900.0":       7 * 24 * time.Hour,
		"11.00.11282.0":       24 * time.Hour,
		"12.00.20500.0":       24 * time.Hour,
		"12.00.20600.0":       7 * 24 * time.Hour,
		"12.10.20000.0":       7 * 24 * time.Hour,
		"12.50.20200.0":       7 * 24 * time.Hour,
		"":                    7 * 24 * time.Hour, // unreadable: taken as new
	} {
		got, _ := newQuarantinePolicy(QuarantineAuto).of(version)
		require.Equal(t, want, got, version)
	}
	fixed, rule := newQuarantinePolicy("36h").of("11.20.12904.0409.10")
	require.Equal(t, 36*time.Hour, fixed)
	require.Equal(t, "license", rule)
}

func TestExcludePatternsAreCaseInsensitiveGlobsWithLiteralBackslash(t *testing.T) {
	for _, tc := range []struct {
		pattern, key string
		want         bool
	}{
		{`corp\svc_*`, `corp\svc_reload`, true},
		{`corp\svc_*`, `corp\svc`, false},
		{`corp\svc_*`, `corpxsvc_reload`, false},
		{`?admin`, `xadmin`, true},
		{`*@corp.com`, `anna@corp.com`, true},
		{`*`, ``, true},
		{`a*b*c`, `axxbyyc`, true},
		{`a*b*c`, `axxbyy`, false},
	} {
		require.Equal(t, tc.want, globMatch(tc.pattern, tc.key), "%s ~ %s", tc.pattern, tc.key)
	}
}

func TestDurationsAcceptDays(t *testing.T) {
	for text, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "24h": 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute} {
		got, err := ParseDuration(text)
		require.NoError(t, err, text)
		require.Equal(t, want, got, text)
	}
	for _, bad := range []string{"a week", "xd", "-5h", ""} {
		_, err := ParseDuration(bad)
		require.Error(t, err, bad)
	}
}

func TestLicenseDefaultsFromTheSpec(t *testing.T) {
	lic, err := ParseLicense("l.toml", []byte("[cal]\nnamed = 1\n[slk]\nanalyzer = 1\n"))
	require.NoError(t, err)
	require.Equal(t, QuarantineAuto, lic.CAL.Quarantine)
	require.Equal(t, RechargePerCAL, lic.CAL.UsageRecharge)
	require.Equal(t, Overage(OverageNone), lic.SLK.Overage)
	require.Equal(t, "7d", lic.SLK.Quarantine)
	require.Equal(t, 30, lic.Alerts.IdleDays)
}

func TestLicenseErrorsNameFileLineAndKey(t *testing.T) {
	_, err := ParseLicense("site.toml", []byte("servers = [\"A\"]\n\n[slk]\ncapacity_minutes = 10\noverage = \"some\"\n"))
	var lerr *LicenseError
	require.ErrorAs(t, err, &lerr)
	require.Equal(t, LicenseError{File: "site.toml", Line: 5, Key: "slk.overage", Message: lerr.Message}, *lerr)
	require.Contains(t, err.Error(), "site.toml:5: slk.overage:")
}

// A session CAL is held [start, max(end, start + 15 min)]; one client's
// overlapping or touching intervals are one hold.
func TestSessionCALMinimumHoldAndMerging(t *testing.T) {
	at := func(hhmm string) int64 {
		tm, err := time.Parse("2006-01-02 15:04", "2024-03-01 "+hhmm)
		require.NoError(t, err)
		return tm.UnixMilli()
	}
	w := newSessionCALSweep()
	w.add(1, at("09:00"), at("09:01")) // held to 09:15
	w.add(2, at("09:14"), at("09:20")) // overlaps: 2 at 09:14
	w.add(1, at("09:15"), at("09:16")) // touches its own hold: still one CAL
	w.add(3, at("09:30"), at("09:31")) // 1 held to 09:30 (released), 2 to 09:29: 1 at 09:30
	rows := w.finish()
	require.Equal(t, []ConcurrencyRow{{Day: "2024-03-01", Peak: 2, PeakAt: at("09:14"), Clients: 3}}, rows)
}
