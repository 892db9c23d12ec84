package metering

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

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
	Servers     []string  `toml:"servers" json:"servers,omitempty"`
	Exclude     []string  `toml:"exclude" json:"exclude,omitempty"`
	ConvertedAt time.Time `toml:"converted_at" json:"converted_at,omitempty"`
	CAL         *CALPools `toml:"cal" json:"cal,omitempty"`
	SLK         *SLKPools `toml:"slk" json:"slk,omitempty"`
	Policy      Policy    `toml:"policy" json:"policy,omitempty"`
	Alerts      Alerts    `toml:"alerts" json:"alerts,omitempty"`
	Groups      []Group   `toml:"group" json:"group,omitempty"` // [[group]]: further licences in one file, each for its own servers
	// TimeZones is the [timezones] table, "GLOB" = "ZONE": the zone of the
	// offset-less times of the servers GLOB matches. Read by ingest
	// (ingest.TimeZones.AddTable), which checks the names; --timezone wins.
	TimeZones map[string]string `toml:"timezones" json:"timezones,omitempty"`
}

// Group is one more licence in the same file, shared by its servers.
type Group struct {
	Name    string    `toml:"name" json:"name,omitempty"`
	Servers []string  `toml:"servers" json:"servers,omitempty"`
	CAL     *CALPools `toml:"cal" json:"cal,omitempty"`
	SLK     *SLKPools `toml:"slk" json:"slk,omitempty"`
}

// CALPools are the CAL-era (LEF) pools.
type CALPools struct {
	Named         int           `toml:"named" json:"named,omitempty"`
	NamedDynamic  bool          `toml:"named_dynamic" json:"named_dynamic,omitempty"`
	DocumentTotal int           `toml:"document_total" json:"document_total,omitempty"`
	Documents     []DocumentCAL `toml:"documents" json:"documents,omitempty"`
	Session       int           `toml:"session" json:"session,omitempty"`
	Usage         int           `toml:"usage" json:"usage,omitempty"`
	UsageRecharge string        `toml:"usage_recharge" json:"usage_recharge,omitempty"` // "per-cal" (default) or "linear"
	Quarantine    string        `toml:"quarantine" json:"quarantine,omitempty"`         // "auto" (default) or a duration
}

// DocumentCAL is one document's allocation of document CALs.
type DocumentCAL struct {
	Path      string `toml:"path" json:"path,omitempty"`
	Allocated int    `toml:"allocated" json:"allocated,omitempty"`
	Dynamic   bool   `toml:"dynamic" json:"dynamic,omitempty"`
}

// SLKPools are the Signed License Key pools.
type SLKPools struct {
	Professional        int    `toml:"professional" json:"professional,omitempty"`
	ProfessionalDynamic bool   `toml:"professional_dynamic" json:"professional_dynamic,omitempty"`
	Analyzer            int    `toml:"analyzer" json:"analyzer,omitempty"`
	AnalyzerDynamic     bool   `toml:"analyzer_dynamic" json:"analyzer_dynamic,omitempty"`
	CapacityMinutes     int64  `toml:"capacity_minutes" json:"capacity_minutes,omitempty"`
	Overage             string `toml:"overage" json:"overage,omitempty"`       // "none" (default), "unlimited" or a ceiling in minutes
	Quarantine          string `toml:"quarantine" json:"quarantine,omitempty"` // default "7d"
}

// Policy is what simulate mode applies on top of the server's rules.
type Policy struct {
	RevokeIdleDays int `toml:"revoke_idle_days" json:"revoke_idle_days,omitempty"` // 0: never revoke
}

// Alerts are the conditions that make `qvmeter run` exit with code 3.
type Alerts struct {
	CapacityForecastOverBudget bool `toml:"capacity_forecast_over_budget" json:"capacity_forecast_over_budget,omitempty"`
	MaxIdleNamed               *int `toml:"max_idle_named" json:"max_idle_named,omitempty"`
	IdleDays                   int  `toml:"idle_days" json:"idle_days,omitempty"` // default 30
}

// Defaults the spec gives for what a licence file leaves out.
const (
	RechargePerCAL    = "per-cal" // each used Usage CAL returns 28 days later
	RechargeLinear    = "linear"  // the pool recovers size/28 per day
	QuarantineAuto    = "auto"    // by the server's Exe Version: 7 days or 24 hours
	OverageNone       = "none"
	OverageUnlimited  = "unlimited"
	defaultSLKQuarant = "7d"
	defaultIdleDays   = 30
)

// LicenseError is a licence file that cannot be used: which file, which line
// (0 when unknown) and which key (dotted, as in the file) are at fault.
type LicenseError struct {
	File    string
	Line    int
	Key     string
	Message string
}

func (e *LicenseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	return b.String()
}

// LoadLicense reads and validates a licence file. It returns the licence
// with the spec's defaults filled in and the SHA-256 of the file's bytes
// (recorded in state.json).
func LoadLicense(path string) (*License, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	lic, err := ParseLicense(path, data)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return lic, hex.EncodeToString(sum[:]), nil
}

// tomlErrorAt picks the line and key out of the decoder's own messages,
// which are not ParseErrors: `toml: line 7 (last key "cal.named"): ...`.
var tomlErrorAt = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// ParseLicense decodes and validates a licence file's contents; name is used
// in errors only.
func ParseLicense(name string, data []byte) (*License, error) {
	var lic License
	md, err := toml.Decode(string(data), &lic)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, &LicenseError{File: name, Line: perr.Position.Line, Key: perr.LastKey, Message: perr.Message}
		}
		if m := tomlErrorAt.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &LicenseError{File: name, Line: line, Key: m[2], Message: m[3]}
		}
		return nil, &LicenseError{File: name, Message: err.Error()}
	}
	src := licenseSource{name: name, lines: strings.Split(string(data), "\n")}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, src.errorAt(undecoded[0], "unknown key")
	}
	if err := lic.validate(src); err != nil {
		return nil, err
	}
	return &lic, nil
}

// licenseSource finds the line of a key for validation errors: the decoder
// keeps key positions to itself.
type licenseSource struct {
	name  string
	lines []string
}

// errorAt returns a LicenseError for key, a dotted path whose array-table
// elements carry their index ("cal.documents.1.allocated", "group.0.name").
func (s licenseSource) errorAt(key []string, format string, args ...any) error {
	return &LicenseError{File: s.name, Line: s.lineOf(key), Key: strings.Join(key, "."), Message: fmt.Sprintf(format, args...)}
}

// lineOf scans the file for key: the line `name =` inside the table that
// key names, counting [[array]] headers to reach the indexed element. It
// returns 0 when the key is not written in the file (a missing value).
func (s licenseSource) lineOf(key []string) int {
	table := strings.Join(key[:len(key)-1], ".") // indexes included
	leaf := key[len(key)-1]
	seen := map[string]int{}  // array-table header → occurrences so far
	var current, plain string // the table the scan is in, with and without array indexes
	for i, raw := range s.lines {
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(strings.SplitN(line, "]]", 2)[0], "[ "))
			current, plain = name+"."+strconv.Itoa(seen[name]), name
			seen[name]++
		case strings.HasPrefix(line, "["):
			current = strings.TrimSpace(strings.Trim(strings.SplitN(line, "]", 2)[0], "[ "))
			plain = current
		default:
			name, _, ok := strings.Cut(line, "=")
			if ok && strings.Trim(strings.TrimSpace(name), `"'`) == leaf && (current == table || plain == table) {
				return i + 1
			}
		}
	}
	return 0
}

func (lic *License) validate(src licenseSource) error {
	if lic.Alerts.IdleDays == 0 {
		lic.Alerts.IdleDays = defaultIdleDays
	}
	if lic.Alerts.IdleDays < 0 {
		return src.errorAt([]string{"alerts", "idle_days"}, "must be positive, got %d", lic.Alerts.IdleDays)
	}
	if lic.Policy.RevokeIdleDays < 0 {
		return src.errorAt([]string{"policy", "revoke_idle_days"}, "must be 0 (never) or positive, got %d", lic.Policy.RevokeIdleDays)
	}
	if err := validatePools(src, nil, lic.CAL, lic.SLK); err != nil {
		return err
	}
	owner := map[string]string{}
	claim := func(key []string, group string, servers []string) error {
		for _, server := range servers {
			folded := strings.ToLower(server)
			if other, dup := owner[folded]; dup {
				return src.errorAt(key, "server %q is already in %s", server, other)
			}
			owner[folded] = group
		}
		return nil
	}
	if err := claim([]string{"servers"}, "the top-level servers", lic.Servers); err != nil {
		return err
	}
	names := map[string]bool{DefaultPool: true}
	for i := range lic.Groups {
		g := &lic.Groups[i]
		prefix := []string{"group", strconv.Itoa(i)}
		switch {
		case g.Name == "":
			return src.errorAt(append(prefix, "name"), "a group needs a name")
		case names[g.Name]:
			return src.errorAt(append(prefix, "name"), "group name %q is used twice (or is reserved)", g.Name)
		case len(g.Servers) == 0:
			return src.errorAt(append(prefix, "servers"), "group %q lists no servers", g.Name)
		}
		names[g.Name] = true
		if err := claim(append(prefix, "servers"), "group "+strconv.Quote(g.Name), g.Servers); err != nil {
			return err
		}
		if err := validatePools(src, prefix, g.CAL, g.SLK); err != nil {
			return err
		}
	}
	return nil
}

// validatePools checks one licence's pools and fills in their defaults;
// prefix is the key path of the group (nil for the top level).
func validatePools(src licenseSource, prefix []string, cal *CALPools, slk *SLKPools) error {
	at := func(parts ...string) []string { return append(append([]string(nil), prefix...), parts...) }
	if cal != nil {
		for _, n := range []struct {
			key   string
			value int
		}{{"named", cal.Named}, {"document_total", cal.DocumentTotal}, {"session", cal.Session}, {"usage", cal.Usage}} {
			if n.value < 0 {
				return src.errorAt(at("cal", n.key), "must not be negative, got %d", n.value)
			}
		}
		switch cal.UsageRecharge {
		case "":
			cal.UsageRecharge = RechargePerCAL
		case RechargePerCAL, RechargeLinear:
		default:
			return src.errorAt(at("cal", "usage_recharge"), "want %q or %q, got %q", RechargePerCAL, RechargeLinear, cal.UsageRecharge)
		}
		if cal.Quarantine == "" {
			cal.Quarantine = QuarantineAuto
		}
		if cal.Quarantine != QuarantineAuto {
			if _, err := ParseDuration(cal.Quarantine); err != nil {
				return src.errorAt(at("cal", "quarantine"), "want %q or a duration such as \"7d\" or \"24h\": %v", QuarantineAuto, err)
			}
		}
		allocated := 0
		paths := map[string]bool{}
		for i, doc := range cal.Documents {
			key := at("cal", "documents", strconv.Itoa(i))
			switch {
			case doc.Path == "":
				return src.errorAt(append(key, "path"), "a document allocation needs a path")
			case paths[DocumentKey(doc.Path)]:
				return src.errorAt(append(key, "path"), "document %q is allocated twice", doc.Path)
			case doc.Allocated < 0:
				return src.errorAt(append(key, "allocated"), "must not be negative, got %d", doc.Allocated)
			}
			paths[DocumentKey(doc.Path)] = true
			allocated += doc.Allocated
		}
		if allocated > cal.DocumentTotal {
			return src.errorAt(at("cal", "document_total"), "%d document CALs are allocated to documents but only %d are licensed", allocated, cal.DocumentTotal)
		}
	}
	if slk != nil {
		for _, n := range []struct {
			key   string
			value int64
		}{{"professional", int64(slk.Professional)}, {"analyzer", int64(slk.Analyzer)}, {"capacity_minutes", slk.CapacityMinutes}} {
			if n.value < 0 {
				return src.errorAt(at("slk", n.key), "must not be negative, got %d", n.value)
			}
		}
		if slk.Overage == "" {
			slk.Overage = OverageNone
		}
		if _, err := slk.OverageCeiling(); err != nil {
			return src.errorAt(at("slk", "overage"), "%v", err)
		}
		if slk.Quarantine == "" {
			slk.Quarantine = defaultSLKQuarant
		}
		if _, err := ParseDuration(slk.Quarantine); err != nil {
			return src.errorAt(at("slk", "quarantine"), "want a duration such as \"7d\": %v", err)
		}
	}
	return nil
}

// OverageCeiling returns the extra capacity minutes a month may use beyond
// the budget: 0 for "none", -1 for "unlimited", else the ceiling.
func (p *SLKPools) OverageCeiling() (int64, error) {
	switch p.Overage {
	case "", OverageNone:
		return 0, nil
	case OverageUnlimited:
		return -1, nil
	}
	n, err := strconv.ParseInt(p.Overage, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want %q, %q or a number of minutes, got %q", OverageNone, OverageUnlimited, p.Overage)
	}
	return n, nil
}

// ParseDuration reads a Go duration ("24h", "90m") with an optional leading
// number of days ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if d, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad number of days in %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		if rest == "" {
			return days, nil
		}
		s = rest
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return days + d, nil
}

// DocumentKey folds a document path the way the dataset's document_key
// column does: `\` turned into `/`, lower-cased.
func DocumentKey(path string) string {
	return strings.ToLower(strings.ReplaceAll(path, `\`, "/"))
}
