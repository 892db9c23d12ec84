package metering

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// [policy] idle_days defaults to 30; never_revoke globs match as exclude's
// do; [qms] takes a url or an import, not both.
func TestLicenseRevokeAndQMSKeys(t *testing.T) {
	lic, err := ParseLicense("l.toml", []byte("[policy]\nnever_revoke = ['CORP\\ceo', 'corp\\SVC_*']\n[qms]\nurl = \"http://qms01:4799/QMS/Service\"\nuser = 'CORP\\svc'\n"))
	require.NoError(t, err)
	require.Equal(t, 30, lic.Policy.IdleDays)
	require.Equal(t, "http://qms01:4799/QMS/Service", lic.QMS.URL)
	for user, want := range map[string]bool{`CORP\CEO`: true, `corp\svc_export`: true, `CORP\ceo2`: false, `CORP\jdoe`: false} {
		require.Equal(t, want, lic.Policy.NeverRevokes(user), user)
	}
	for _, tc := range []struct{ file, key string }{
		{"[policy]\nidle_days = -1\n", "policy.idle_days"},
		{"[qms]\nurl = \"http://q:4799/QMS/Service\"\nimport = \"CalData.pgo.xml\"\n", "qms.import"},
		{"[qms]\nurl = \"qms01:4799\"\n", "qms.url"},
		{"[qms]\npassword = \"secret\"\n", "qms.password"}, // a password in the file is an unknown key
	} {
		_, err := ParseLicense("l.toml", []byte(tc.file))
		var lerr *LicenseError
		require.ErrorAs(t, err, &lerr, tc.file)
		require.Equal(t, tc.key, lerr.Key, tc.file)
	}
}

// The revoke plan's quarantine is metering's: by Exe Version under auto,
// the licence's duration otherwise, 7 days without a licence.
func TestQuarantineForRevoke(t *testing.T) {
	var none *CALPools
	require.Equal(t, 7*24*time.Hour, none.QuarantineFor(""))
	require.Equal(t, 24*time.Hour, (&CALPools{Quarantine: QuarantineAuto}).QuarantineFor("11.20.12904.0"))
	require.Equal(t, 48*time.Hour, (&CALPools{Quarantine: "2d"}).QuarantineFor("12.50.20200.0"))
}
