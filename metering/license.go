package metering

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/qvmeter/qvmeter/parse"
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
	ConvertedAt time.Time `toml:"converted_at,omitempty" json:"converted_at,omitempty"`
	CAL         *CALPools `toml:"cal" json:"cal,omitempty"`
	SLK         *SLKPools `toml:"slk" json:"slk,omitempty"`
	Policy      Policy    `toml:"policy" json:"policy,omitempty"`
	Alerts      Alerts    `toml:"alerts" json:"alerts,omitempty"`
	Groups      []Group   `toml:"group" json:"group,omitempty"` // [[group]]: further licences in one file, each for its own servers
	// Prices are what each licence type costs (prices.go).
	Prices *Prices `toml:"prices" json:"prices,omitempty"`
	QMS    QMS     `toml:"qms,omitempty" json:"qms,omitzero"` // where qvmeter run reads the server's own CAL state
	// TimeZones is the [timezones] table, "GLOB" = "ZONE": the zone of the
	// offset-less times of the servers GLOB matches (parse.TimeZones, in
	// the order the file gives them). Checked when the file is read; ingest
	// and run take them from Zones, under --timezone.
	TimeZones map[string]string `toml:"timezones" json:"timezones,omitempty"`
	zones     parse.TimeZones
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
	// unset names the size keys the file leaves out (see License.unknown).
	unset map[string]bool
	// NamedUsers are users (user keys, any case) assigned a named CAL by
	// hand: simulate mode gives them theirs at their first session and keeps
	// it for them until then, so dynamic assignment cannot take it.
	NamedUsers []string `toml:"named_users,omitempty" json:"named_users,omitempty"`
}

// DocumentCAL is one document's allocation of document CALs.
type DocumentCAL struct {
	Path      string `toml:"path" json:"path,omitempty"`
	Allocated int    `toml:"allocated" json:"allocated,omitempty"`
	Dynamic   bool   `toml:"dynamic" json:"dynamic,omitempty"`
}

// SLKPools are the Signed License Key pools.
type SLKPools struct {
	Professional        int     `toml:"professional" json:"professional,omitempty"`
	ProfessionalDynamic bool    `toml:"professional_dynamic" json:"professional_dynamic,omitempty"`
	Analyzer            int     `toml:"analyzer" json:"analyzer,omitempty"`
	AnalyzerDynamic     bool    `toml:"analyzer_dynamic" json:"analyzer_dynamic,omitempty"`
	CapacityMinutes     int64   `toml:"capacity_minutes" json:"capacity_minutes,omitempty"`
	Overage             Overage `toml:"overage" json:"overage,omitempty"`       // "none" (default), "unlimited" or a ceiling in minutes
	Quarantine          string  `toml:"quarantine" json:"quarantine,omitempty"` // default "7d"
	// unset names the size keys the file leaves out (see License.unknown).
	unset map[string]bool
	// ProfessionalUsers and AnalyzerUsers are assigned by hand, as
	// CALPools.NamedUsers.
	ProfessionalUsers []string `toml:"professional_users,omitempty" json:"professional_users,omitempty"`
	AnalyzerUsers     []string `toml:"analyzer_users,omitempty" json:"analyzer_users,omitempty"`
}

// Overage is the slk.overage setting: "none", "unlimited" or a ceiling in
// minutes, written as a string ("2000") or an integer (2000) alike.
type Overage string

// UnmarshalTOML accepts an integer ceiling as well as a string.
func (o *Overage) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*o = Overage(v)
	case int64:
		*o = Overage(strconv.FormatInt(v, 10))
	default:
		return fmt.Errorf("want %q, %q or a number of minutes, got %v", OverageNone, OverageUnlimited, v)
	}
	return nil
}

// Policy is how licences are judged: the one idle threshold every report,
// the qmc list and the alerts use, and what simulate mode applies on top of
// the server's rules.
type Policy struct {
	// IdleDays: a licence unused this many whole days or more is idle
	// (default 30). `[alerts] idle_days` is an alias of it; `--idle-days`
	// overrides it for one command.
	IdleDays int `toml:"idle_days,omitzero" json:"idle_days,omitempty"`
	// RevokeIdleDays: simulate revokes named and document CALs idle this
	// long (0: never). It is the same threshold as IdleDays: a file that
	// gives both must give the same number.
	RevokeIdleDays int `toml:"revoke_idle_days" json:"revoke_idle_days,omitempty"`
	// NeverRevoke: users (globs as in exclude) qvmeter revoke never plans.
	NeverRevoke []string `toml:"never_revoke,omitempty" json:"never_revoke,omitempty"`
}

// Alerts are the conditions that make `qvmeter run` exit with code 3.
type Alerts struct {
	CapacityForecastOverBudget bool `toml:"capacity_forecast_over_budget" json:"capacity_forecast_over_budget,omitempty"`
	MaxIdleNamed               *int `toml:"max_idle_named" json:"max_idle_named,omitempty"`
	// IdleDays is the former name of [policy] idle_days, kept as an alias:
	// after loading it always equals Policy.IdleDays.
	IdleDays int `toml:"idle_days" json:"idle_days,omitempty"`
	// ForecastMinDays: no capacity forecast (and no forecast alert) before
	// this many whole days of the month have passed (default 7).
	ForecastMinDays int `toml:"forecast_min_days,omitzero" json:"forecast_min_days,omitempty"`
	// SilentServerDays is a fixed limit of days without a session after
	// which a server counts as silent; unset, each server's own limit is
	// its longest gap over the previous eight weeks and at least two days.
	SilentServerDays *int `toml:"silent_server_days" json:"silent_server_days,omitempty"`
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
	// DefaultForecastMinDays is [alerts] forecast_min_days unless set.
	DefaultForecastMinDays = 7
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
	src := licenseSource{name: name, lines: strings.Split(string(data), "\n"), defined: md.IsDefined}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, src.errorAt(undecoded[0], "unknown key")
	}
	if err := lic.validate(src); err != nil {
		return nil, err
	}
	var raw map[string]any // to tell a size left out from a size of 0
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, &LicenseError{File: name, Message: err.Error()}
	}
	markUnset(raw, lic.CAL, lic.SLK)
	groups, _ := raw["group"].([]map[string]any)
	for i := range lic.Groups {
		if i < len(groups) {
			markUnset(groups[i], lic.Groups[i].CAL, lic.Groups[i].SLK)
		}
	}
	return &lic, nil
}

// Pool size keys: a licence file that leaves one out does not say the
// size, so reports show it as unknown, never as zero.
var (
	calSizeKeys = []string{"named", "document_total", "session", "usage"}
	slkSizeKeys = []string{"professional", "analyzer", "capacity_minutes"}
)

// markUnset records which size keys a licence's [cal] and [slk] sections
// (raw: the decoded table that holds them) leave out.
func markUnset(raw map[string]any, cal *CALPools, slk *SLKPools) {
	unset := func(section string, keys []string) map[string]bool {
		table, _ := raw[section].(map[string]any)
		out := map[string]bool{}
		for _, k := range keys {
			if _, ok := table[k]; !ok {
				out[k] = true
			}
		}
		return out
	}
	if cal != nil {
		cal.unset = unset("cal", calSizeKeys)
	}
	if slk != nil {
		slk.unset = unset("slk", slkSizeKeys)
	}
}

// Known reports whether the licence gives the size key (one of named,
// document_total, session, usage): a section or key left out is unknown.
// A CALPools built in code knows every size it has.
func (c *CALPools) Known(key string) bool { return c != nil && !c.unset[key] }

// Known reports whether the licence gives the size key (one of
// professional, analyzer, capacity_minutes).
func (p *SLKPools) Known(key string) bool { return p != nil && !p.unset[key] }

// Clone returns a deep copy of the licence, unknown sizes kept unknown: a
// what-if licence starts from one.
func (lic *License) Clone() *License {
	raw, err := json.Marshal(lic)
	if err != nil {
		panic(fmt.Sprintf("metering: a licence that does not marshal: %v", err))
	}
	var out License
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("metering: a licence that does not unmarshal: %v", err))
	}
	keepUnset := func(from, to *CALPools, fromSLK, toSLK *SLKPools) {
		if from != nil {
			to.unset = maps.Clone(from.unset)
		}
		if fromSLK != nil {
			toSLK.unset = maps.Clone(fromSLK.unset)
		}
	}
	keepUnset(lic.CAL, out.CAL, lic.SLK, out.SLK)
	for i, g := range lic.Groups {
		keepUnset(g.CAL, out.Groups[i].CAL, g.SLK, out.Groups[i].SLK)
	}
	return &out
}

// HasPoolSizes reports whether the licence gives any pool size at all: a
// file with none (only exclude patterns, say) says so once, in anomalies.
func (lic *License) HasPoolSizes() bool {
	any := func(cal *CALPools, slk *SLKPools) bool {
		for _, k := range calSizeKeys {
			if cal.Known(k) {
				return true
			}
		}
		for _, k := range slkSizeKeys {
			if slk.Known(k) {
				return true
			}
		}
		return false
	}
	if any(lic.CAL, lic.SLK) {
		return true
	}
	for _, g := range lic.Groups {
		if any(g.CAL, g.SLK) {
			return true
		}
	}
	return false
}

// licenseSource finds the line of a key for validation errors: the decoder
// keeps key positions to itself.
type licenseSource struct {
	name    string
	lines   []string
	defined func(key ...string) bool // whether the file gives the key
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
	if err := lic.validateIdleDays(src); err != nil {
		return err
	}
	if err := lic.validateRevoke(src); err != nil {
		return err
	}
	switch {
	case lic.Alerts.ForecastMinDays == 0:
		lic.Alerts.ForecastMinDays = DefaultForecastMinDays
	case lic.Alerts.ForecastMinDays < 0 || lic.Alerts.ForecastMinDays > 28:
		return src.errorAt([]string{"alerts", "forecast_min_days"}, "want 1 to 28 days, got %d", lic.Alerts.ForecastMinDays)
	}
	if d := lic.Alerts.SilentServerDays; d != nil && *d <= 0 {
		return src.errorAt([]string{"alerts", "silent_server_days"}, "must be positive, got %d", *d)
	}
	for i, pattern := range lic.Exclude {
		if err := checkGlob(pattern); err != nil {
			return &LicenseError{File: src.name, Line: src.lineOf([]string{"exclude"}), Key: "exclude." + strconv.Itoa(i),
				Message: fmt.Sprintf("pattern %q: %v", pattern, err)}
		}
	}
	if err := validatePools(src, nil, lic.CAL, lic.SLK); err != nil {
		return err
	}
	if err := lic.Prices.validate(src); err != nil {
		return err
	}
	if err := lic.validateTimeZones(src); err != nil {
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

// validateTimeZones reads the [timezones] table into zone rules, in the
// order the file gives them: of two patterns that match a server, the later
// wins, as with repeated --timezone flags (parse.TimeZones).
func (lic *License) validateTimeZones(src licenseSource) error {
	globs := make([]string, 0, len(lic.TimeZones))
	for glob := range lic.TimeZones {
		globs = append(globs, glob)
	}
	line := func(glob string) int { return src.lineOf([]string{"timezones", glob}) }
	slices.SortFunc(globs, func(a, b string) int { return cmp.Or(cmp.Compare(line(a), line(b)), cmp.Compare(a, b)) })
	for _, glob := range globs {
		if err := lic.zones.Add(glob, lic.TimeZones[glob], true); err != nil {
			return src.errorAt([]string{"timezones", glob}, "%v", err)
		}
	}
	return nil
}

// Zones returns the [timezones] table as zone rules: what ingest and run
// put under their --timezone flags (flags.Over(lic.Zones())).
func (lic *License) Zones() parse.TimeZones {
	if lic == nil {
		return parse.TimeZones{}
	}
	return lic.zones
}

// validateIdleDays settles the one idle threshold, [policy] idle_days, and
// its two older spellings: [alerts] idle_days (an alias) and [policy]
// revoke_idle_days (simulate's revocation, which uses the same threshold).
// A file that gives two of them with different numbers is refused, naming
// [policy] idle_days.
func (lic *License) validateIdleDays(src licenseSource) error {
	p, a := &lic.Policy, &lic.Alerts
	for _, k := range []struct {
		key   []string
		value int
	}{{[]string{"policy", "idle_days"}, p.IdleDays}, {[]string{"alerts", "idle_days"}, a.IdleDays}, {[]string{"policy", "revoke_idle_days"}, p.RevokeIdleDays}} {
		if k.value < 0 {
			return src.errorAt(k.key, "must not be negative, got %d", k.value)
		}
	}
	for _, alias := range []struct {
		key   []string
		value int
	}{{[]string{"alerts", "idle_days"}, a.IdleDays}, {[]string{"policy", "revoke_idle_days"}, p.RevokeIdleDays}} {
		switch {
		case alias.value == 0: // not given (0 never meant a threshold of 0 days)
		case p.IdleDays == 0:
			p.IdleDays = alias.value
		case p.IdleDays != alias.value:
			return src.errorAt(alias.key, "%d disagrees with the idle threshold of %d days: there is one threshold, policy.idle_days; "+
				"give it once (%s is its older name)", alias.value, p.IdleDays, strings.Join(alias.key, "."))
		}
	}
	if p.IdleDays == 0 {
		p.IdleDays = defaultIdleDays
	}
	a.IdleDays = p.IdleDays
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
		if err := validateAssigned(src, at("cal", "named_users"), cal.NamedUsers, cal.Named); err != nil {
			return err
		}
		allocated := 0
		paths := map[string]bool{}
		for i, doc := range cal.Documents {
			key := at("cal", "documents", strconv.Itoa(i))
			switch {
			case doc.Path == "":
				return src.errorAt(append(key, "path"), "a document allocation needs a path")
			case paths[parse.DocumentKey(doc.Path)]:
				return src.errorAt(append(key, "path"), "document %q is allocated twice", doc.Path)
			case doc.Allocated < 0:
				return src.errorAt(append(key, "allocated"), "must not be negative, got %d", doc.Allocated)
			}
			paths[parse.DocumentKey(doc.Path)] = true
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
		if err := validateAssigned(src, at("slk", "professional_users"), slk.ProfessionalUsers, slk.Professional); err != nil {
			return err
		}
		if err := validateAssigned(src, at("slk", "analyzer_users"), slk.AnalyzerUsers, slk.Analyzer); err != nil {
			return err
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

// validateAssigned checks a list of users assigned by hand: no user twice,
// no more users than the pool has licences.
func validateAssigned(src licenseSource, key []string, users []string, licensed int) error {
	seen := map[string]bool{}
	for _, u := range users {
		folded := parse.UserKey(u, "", "")
		if folded == "" || seen[folded] {
			return src.errorAt(key, "user %q is empty or listed twice", u)
		}
		seen[folded] = true
	}
	if len(users) > licensed {
		return src.errorAt(key, "%d users assigned but only %d licensed", len(users), licensed)
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
	n, err := strconv.ParseInt(string(p.Overage), 10, 64)
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

// QMS is the [qms] section: where `qvmeter run` pulls or imports the
// server's own CAL state before the reports (see qvmeter qms).
type QMS struct {
	URL          string `toml:"url,omitempty" json:"url,omitempty"`                     // http://<qms-host>:4799/QMS/Service
	User         string `toml:"user,omitempty" json:"user,omitempty"`                   // DOMAIN\name, member of "QlikView Management API"
	PasswordFile string `toml:"password_file,omitempty" json:"password_file,omitempty"` // else QVMETER_QMS_PASSWORD
	Import       string `toml:"import,omitempty" json:"import,omitempty"`               // a CalData.pgo.xml, BorrowedCalData.pgo.xml, CSV or JSON file
	Server       string `toml:"server,omitempty" json:"server,omitempty"`               // the server a PGO file comes from
}

// validateRevoke checks [qms] and the revoke keys of [policy].
func (lic *License) validateRevoke(src licenseSource) error {
	for i, pattern := range lic.Policy.NeverRevoke {
		if strings.TrimSpace(pattern) == "" {
			return src.errorAt([]string{"policy", "never_revoke"}, "pattern %d is empty", i+1)
		}
	}
	if lic.QMS.URL != "" && lic.QMS.Import != "" {
		return src.errorAt([]string{"qms", "import"}, "set url or import, not both")
	}
	if u := lic.QMS.URL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return src.errorAt([]string{"qms", "url"}, "want http://<qms-host>:4799/QMS/Service, got %q", u)
	}
	return nil
}

// NeverRevokes reports whether user matches a [policy] never_revoke glob
// (case-insensitive, * and ?, backslashes literal, as exclude).
func (p Policy) NeverRevokes(user string) bool {
	key := strings.ToLower(user)
	for _, pattern := range p.NeverRevoke {
		if globMatch(strings.ToLower(pattern), key) {
			return true
		}
	}
	return false
}

// QuarantineFor is how long a CAL of these pools stays occupied after its
// removal when its holder's latest session ran on a server with
// exeVersion ("" when unknown): the pools' quarantine setting, or by
// version when it is auto.
func (c *CALPools) QuarantineFor(exeVersion string) time.Duration {
	setting := QuarantineAuto
	if c != nil {
		setting = c.Quarantine
	}
	d, _ := newQuarantinePolicy(setting).of(exeVersion)
	return d
}
