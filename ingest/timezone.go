package ingest

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	// The zone database is embedded so that --timezone works where the
	// system has none (Windows, minimal containers).
	_ "time/tzdata"
)

// NoZone is how a summary names the zone of offset-less times converted as
// UTC because no zone was given for their server.
const NoZone = "UTC (no zone given)"

// TimeZones says which zone each server's offset-less times are in
// (QlikView 11.x writes "2016-01-29 08:58:02" in the server's local time).
// Rules come from --timezone [GLOB=]ZONE flags and from the licence file's
// [timezones] table ("GLOB" = "ZONE"). ZONE is an IANA name
// ("America/New_York", "UTC"); GLOB matches server names case-insensitively
// with *, ? and [...]. A server takes the first rule that matches, in this
// order: the flags' globs in the order given, the table's globs (the
// longest first), the flags' default (a flag without GLOB), the table's
// "*". So a rule that names servers beats a default, and between two rules
// of the same kind the flag wins. The zero value has no rules: every
// server's offset-less times are UTC.
type TimeZones struct {
	rules []zoneRule
}

type zoneRule struct {
	glob  string // lower-cased; "" = default
	name  string
	loc   *time.Location
	order int // see TimeZones
}

// Rule orders.
const (
	orderFlagGlob = iota
	orderTableGlob
	orderFlagDefault
	orderTableDefault
)

// AddFlag adds one --timezone value, [GLOB=]ZONE.
func (z *TimeZones) AddFlag(spec string) error {
	glob, zone, found := strings.Cut(spec, "=")
	if !found {
		glob, zone = "", spec
	}
	glob, zone = strings.TrimSpace(glob), strings.TrimSpace(zone)
	if found && glob == "" {
		return fmt.Errorf("--timezone %q: empty GLOB before '='", spec)
	}
	order := orderFlagGlob
	if !found {
		order = orderFlagDefault
	}
	if err := z.add(glob, zone, order); err != nil {
		return fmt.Errorf("--timezone %q: %w", spec, err)
	}
	return nil
}

// AddTable adds a licence file's [timezones] table; file names it in errors.
func (z *TimeZones) AddTable(file string, table map[string]string) error {
	globs := make([]string, 0, len(table))
	for glob := range table {
		globs = append(globs, glob)
	}
	sort.Slice(globs, func(i, j int) bool {
		if len(globs[i]) != len(globs[j]) {
			return len(globs[i]) > len(globs[j])
		}
		return globs[i] < globs[j]
	})
	for _, glob := range globs {
		order := orderTableGlob
		if strings.TrimSpace(glob) == "*" {
			order = orderTableDefault
		}
		if err := z.add(strings.TrimSpace(glob), strings.TrimSpace(table[glob]), order); err != nil {
			return fmt.Errorf("%s: [timezones] %q = %q: %w", file, glob, table[glob], err)
		}
	}
	return nil
}

func (z *TimeZones) add(glob, zone string, order int) error {
	if zone == "" || zone == "Local" {
		return fmt.Errorf("give an IANA zone name such as America/New_York or UTC")
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fmt.Errorf("unknown time zone %q (an IANA name such as America/New_York)", zone)
	}
	glob = strings.ToLower(glob)
	if _, err := path.Match(glob, ""); err != nil {
		return fmt.Errorf("bad GLOB %q: %w", glob, err)
	}
	z.rules = append(z.rules, zoneRule{glob: glob, name: zone, loc: loc, order: order})
	sort.SliceStable(z.rules, func(i, j int) bool { return z.rules[i].order < z.rules[j].order })
	return nil
}

// For returns the zone of a server's offset-less times and its name, or
// (nil, NoZone) when no rule matches: the decoder then takes them as UTC.
func (z *TimeZones) For(server string) (*time.Location, string) {
	if z != nil {
		lower := strings.ToLower(server)
		for _, r := range z.rules {
			if r.order == orderFlagDefault {
				return r.loc, r.name
			}
			if ok, _ := path.Match(r.glob, lower); ok {
				return r.loc, r.name
			}
		}
	}
	return nil, NoZone
}
