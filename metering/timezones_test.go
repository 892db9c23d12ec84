package metering

import (
	"testing"

	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

// The licence's [timezones] table (issue 10, "Server time zones"): GLOBs
// case-insensitive, of two that match a server the later line wins as with
// repeated --timezone flags, any flag rule for a server wins over the
// table, and a bad zone names its line.
func TestLicenseTimeZones(t *testing.T) {
	lic, err := ParseLicense("l.toml", []byte("[timezones]\n\"QVS-OLD-7\" = \"Europe/Berlin\"\n\"qvs-old-*\" = \"America/New_York\"\n\"QVS-EU\" = \"Europe/Paris\"\n"))
	require.NoError(t, err)
	flags, err := parse.ParseTimeZones("QVS-EU=Europe/Lisbon")
	require.NoError(t, err)
	for _, tt := range []struct{ rule, server, want string }{
		{"a GLOB matches case-insensitively", "QVS-OLD-1", "America/New_York"},
		{"the later of two matching lines wins", "QVS-OLD-7", "America/New_York"},
		{"a flag for the server wins over the table", "QVS-EU", "Europe/Lisbon"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			loc, ok := flags.Over(lic.Zones()).For(tt.server)
			require.True(t, ok)
			require.Equal(t, tt.want, loc.String())
		})
	}
	_, ok := flags.Over(lic.Zones()).For("QVS-NEW")
	require.False(t, ok, "no rule: no zone")

	_, err = ParseLicense("l.toml", []byte("servers = []\n[timezones]\n\"QVS-*\" = \"Mars/Olympus\"\n"))
	var lerr *LicenseError
	require.ErrorAs(t, err, &lerr)
	require.Equal(t, 3, lerr.Line)
	require.Equal(t, "timezones.QVS-*", lerr.Key)
	require.ErrorContains(t, err, `unknown zone "Mars/Olympus"`)
}
