package parse

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	// The zone database is compiled in: Windows has no IANA database, and a
	// server's zone must convert the same on every machine.
	_ "time/tzdata"
)

// TimeZones maps server names to the zone their offset-less times are
// written in (QlikView 11.x writes "2016-01-29 08:58:02" in the server's
// local time). It is built from rules of the form [GLOB=]ZONE, as given to
// --timezone (repeatable) or in the licence file's [timezones] table.
//
// Which rule applies to a server:
//
//  1. A layer given by Over is consulted before the layer under it
//     (command-line flags over the licence file), and a layer that has any
//     rule for the server decides: its default beats a GLOB rule of the
//     layer below.
//  2. Within a layer, a GLOB rule that matches the server beats the
//     default (a rule without GLOB).
//  3. Among several matching GLOB rules, or several defaults, the one
//     given last wins, as with any repeated flag.
//
// GLOB is a path.Match pattern (*, ?, [a-z]) matched against the whole
// server name, case-insensitively. ZONE is an IANA name such as
// America/New_York (or UTC); "Local" is refused, because it would make the
// stored instants depend on the machine that reads the logs.
//
// The zero TimeZones has no rules. A TimeZones is a flag.Value.
type TimeZones struct {
	rules []zoneRule
}

type zoneRule struct {
	layer int    // 0 = the top layer; Over pushes the layer below down
	glob  string // lower-cased pattern; "" = the default
	spec  string // the rule as given, for String and messages
	loc   *time.Location
}

// ErrTimeZoneRule is wrapped by every error of ParseTimeZones and Set.
var ErrTimeZoneRule = errors.New("bad time zone rule")

// ParseTimeZones reads rules of the form [GLOB=]ZONE.
func ParseTimeZones(rules ...string) (TimeZones, error) {
	var z TimeZones
	for _, r := range rules {
		if err := z.Set(r); err != nil {
			return TimeZones{}, err
		}
	}
	return z, nil
}

// Set adds one rule of the form [GLOB=]ZONE to the top layer.
func (z *TimeZones) Set(rule string) error {
	glob, zone, hasGlob := strings.Cut(rule, "=")
	if !hasGlob {
		glob, zone = "", rule
	}
	return z.Add(glob, zone, hasGlob)
}

// Add adds a rule given as its parts, as a table such as the licence file's
// [timezones] gives them: glob is the server pattern (ignored unless
// hasGlob), zone the IANA name.
func (z *TimeZones) Add(glob, zone string, hasGlob bool) error {
	spec := zone
	if hasGlob {
		spec = glob + "=" + zone
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrTimeZoneRule, spec, fmt.Sprintf(format, args...))
	}
	glob, zone = strings.TrimSpace(glob), strings.TrimSpace(zone)
	if hasGlob {
		if glob == "" {
			return fail("the server pattern before '=' is empty (write ZONE alone for every server)")
		}
		glob = strings.ToLower(glob)
		if _, err := path.Match(glob, ""); err != nil {
			return fail("server pattern %q: %v", glob, err)
		}
	}
	switch zone {
	case "":
		return fail("no zone: want an IANA name such as America/New_York")
	case "Local", "local":
		return fail("zone Local depends on the machine reading the logs: name the servers' zone, such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fail("unknown zone %q: want an IANA name such as America/New_York or Europe/Berlin", zone)
	}
	z.rules = append(z.rules, zoneRule{glob: glob, spec: spec, loc: loc})
	return nil
}

// Over returns the rules of z consulted before those of below: flags over
// the licence file.
func (z TimeZones) Over(below TimeZones) TimeZones {
	top := 0
	for _, r := range z.rules {
		top = max(top, r.layer+1)
	}
	out := TimeZones{rules: append([]zoneRule(nil), z.rules...)}
	for _, r := range below.rules {
		r.layer += top
		out.rules = append(out.rules, r)
	}
	return out
}

// For returns the zone of a server's offset-less times, and false when no
// rule names one (the decoder then reads them as UTC).
func (z TimeZones) For(server string) (*time.Location, bool) {
	server = strings.ToLower(server)
	var best *zoneRule
	for i := range z.rules {
		r := &z.rules[i]
		if r.glob != "" {
			if ok, _ := path.Match(r.glob, server); !ok {
				continue
			}
		}
		switch {
		case best == nil, r.layer < best.layer:
			best = r
		case r.layer > best.layer:
		case r.glob != "" || best.glob == "":
			best = r // a GLOB beats the default; the later of two alike wins
		}
	}
	if best == nil {
		return nil, false
	}
	return best.loc, true
}

// Empty tells whether there are no rules.
func (z TimeZones) Empty() bool { return len(z.rules) == 0 }

// String returns the rules as given, comma-separated, top layer first.
func (z *TimeZones) String() string {
	if z == nil {
		return ""
	}
	specs := make([]string, len(z.rules))
	for i, r := range z.rules {
		specs[i] = r.spec
	}
	return strings.Join(specs, ",")
}

// timeRead says how an accepted time was written.
type timeRead uint8

const (
	timeWithOffset timeRead = iota // the line carries its offset (or Z)
	timeOffsetless                 // local time, converted with the zone
	timeAmbiguous                  // offset-less, in an autumn repeated hour: the earlier instant
	timeInGap                      // offset-less, in a spring gap: moved forward by the gap
)

// zone converts offset-less local times to instants with daylight saving
// applied. Go's time.Date "makes no guarantee" which instant it returns for
// a repeated or skipped local time, so the rule is implemented here: an
// ambiguous time takes the earlier instant, a time in a gap moves forward
// by the gap (02:30 on a spring-forward night at 02:00 → 03:30). It keeps
// the last zone period looked up, so the lines of one season cost one
// comparison, not a search of the zone's transitions.
type zone struct {
	loc        *time.Location // nil or UTC: no conversion
	start, end int64          // the cached period, Unix seconds [start, end)
	offset     int64          // its UTC offset in seconds
}

func newZone(loc *time.Location) zone {
	if loc == time.UTC {
		loc = nil
	}
	return zone{loc: loc, start: 1, end: 0}
}

// offsetAt returns the UTC offset in seconds in effect at a Unix second.
func (z *zone) offsetAt(sec int64) int64 {
	if sec >= z.start && sec < z.end {
		return z.offset
	}
	t := time.Unix(sec, 0).In(z.loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	z.offset, z.start, z.end = int64(off), minUnix, maxUnix
	if !start.IsZero() {
		z.start = start.Unix()
	}
	if !end.IsZero() {
		z.end = end.Unix()
	}
	return z.offset
}

const (
	minUnix = -1 << 62
	maxUnix = 1 << 62
)

// maxZoneOffset bounds every UTC offset in the zone database (±14 h).
const maxZoneOffset = 14 * 3600

// toUTC converts a local wall time, in milliseconds since the epoch as if
// it were UTC, to the instant in z.
func (z *zone) toUTC(localMS int64) (int64, timeRead) {
	if z.loc == nil {
		return localMS, timeOffsetless
	}
	sec := floorDiv(localMS, 1000)
	// The offsets in effect just before and just after this wall time:
	// with no transition within the ±14 h window they are equal.
	before := z.offsetAt(sec - maxZoneOffset)
	after := z.offsetAt(sec + maxZoneOffset)
	if before == after {
		return localMS - before*1000, timeOffsetless
	}
	earlier, later := before, after // the larger offset gives the earlier instant
	if later > earlier {
		earlier, later = later, earlier
	}
	validEarlier := z.offsetAt(sec-earlier) == earlier
	validLater := z.offsetAt(sec-later) == later
	switch {
	case validEarlier && validLater:
		return localMS - earlier*1000, timeAmbiguous
	case validEarlier:
		return localMS - earlier*1000, timeOffsetless
	case validLater:
		return localMS - later*1000, timeOffsetless
	}
	// In the gap: read with the offset before the transition, which lands
	// the same distance past it (local time moved forward by the gap).
	return localMS - before*1000, timeInGap
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
