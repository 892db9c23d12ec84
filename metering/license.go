package metering

import "time"

// License is a licence file (TOML): what one licence grants and which
// servers share it. Every number the spec marks [guess] is a field here with
// the spec's default, so an administrator can match their server without a
// code change. The CAL era applies to sessions that end before ConvertedAt
// (all of them when it is zero and CAL pools are set); the SLK era to those
// at or after it (all of them when only SLK pools are set).
//
// Example (the README has the commented version):
//
//	servers = ["QVS-PROD-01", "QVS-PROD-02"]   # empty: every server
//	exclude = ['CORP\svc_*', 'CORP\qvservice']  # glob, case-insensitive, on user_key
//	converted_at = 2024-03-15T00:00:00Z
//
//	[cal]
//	named = 50
//	named_dynamic = true
//	document_total = 40
//	session = 10
//	usage = 100
//	usage_recharge = "per-cal"   # or "linear"
//	quarantine = "auto"          # or a duration: "168h", "24h", "7d"
//	[[cal.documents]]
//	path = 'C:\Docs\Sales.qvw'   # compared as document_key
//	allocated = 10
//	dynamic = true
//
//	[slk]
//	professional = 4
//	professional_dynamic = true
//	analyzer = 20
//	analyzer_dynamic = true
//	capacity_minutes = 8000      # per UTC calendar month
//	overage = "none"             # "none", "unlimited" or a ceiling in minutes, e.g. "2000"
//	quarantine = "7d"
//
//	[policy]
//	revoke_idle_days = 60        # simulate: revoke named/document CALs idle this long
//
//	[alerts]
//	capacity_forecast_over_budget = true
//	max_idle_named = 10          # more idle named CALs than this raises an alert
//	idle_days = 30
type License struct {
	Servers     []string  `toml:"servers"`
	Exclude     []string  `toml:"exclude"`
	ConvertedAt time.Time `toml:"converted_at"`
	CAL         *CALPools `toml:"cal"`
	SLK         *SLKPools `toml:"slk"`
	Policy      Policy    `toml:"policy"`
	Alerts      Alerts    `toml:"alerts"`
	Groups      []Group   `toml:"group"` // [[group]]: further licences in one file, each for its own servers
}

// Group is one more licence in the same file, shared by its servers.
type Group struct {
	Name    string    `toml:"name"`
	Servers []string  `toml:"servers"`
	CAL     *CALPools `toml:"cal"`
	SLK     *SLKPools `toml:"slk"`
}

// CALPools are the CAL-era (LEF) pools.
type CALPools struct {
	Named         int           `toml:"named"`
	NamedDynamic  bool          `toml:"named_dynamic"`
	DocumentTotal int           `toml:"document_total"`
	Documents     []DocumentCAL `toml:"documents"`
	Session       int           `toml:"session"`
	Usage         int           `toml:"usage"`
	UsageRecharge string        `toml:"usage_recharge"` // "per-cal" (default) or "linear"
	Quarantine    string        `toml:"quarantine"`     // "auto" (default) or a duration
}

// DocumentCAL is one document's allocation of document CALs.
type DocumentCAL struct {
	Path      string `toml:"path"`
	Allocated int    `toml:"allocated"`
	Dynamic   bool   `toml:"dynamic"`
}

// SLKPools are the Signed License Key pools.
type SLKPools struct {
	Professional        int    `toml:"professional"`
	ProfessionalDynamic bool   `toml:"professional_dynamic"`
	Analyzer            int    `toml:"analyzer"`
	AnalyzerDynamic     bool   `toml:"analyzer_dynamic"`
	CapacityMinutes     int64  `toml:"capacity_minutes"`
	Overage             string `toml:"overage"`    // "none" (default), "unlimited" or a ceiling in minutes
	Quarantine          string `toml:"quarantine"` // default "7d"
}

// Policy is what simulate mode applies on top of the server's rules.
type Policy struct {
	RevokeIdleDays int `toml:"revoke_idle_days"` // 0: never revoke
}

// Alerts are the conditions that make `qvmeter run` exit with code 3.
type Alerts struct {
	CapacityForecastOverBudget bool `toml:"capacity_forecast_over_budget"`
	MaxIdleNamed               *int `toml:"max_idle_named"`
	IdleDays                   int  `toml:"idle_days"` // default 30
}
