package ingest

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// Every lenient reading of the decoder is counted, per server, and shown:
// in the run's Summary (what this run read) and, cumulatively since the
// dataset was built, in the catalog's Quality, which reports and the page
// read (dataset.LoadCatalog). Per server rather than per file: the catalog
// stays bounded by the number of servers when checkpoints of deleted logs
// are dropped, and a server is what a zone is given for. Counts are per
// line read, so a copy of a log read twice counts twice. The kinds are
// parse's names (parse.Stats.Lenient): one vocabulary from the decoder to
// the page.

// zoneOf returns the zone of a server's offset-less times and the name the
// summaries and the catalog give it: the IANA name, or dataset.NoZone when
// no rule names one (the decoder then reads them as UTC).
func zoneOf(zones parse.TimeZones, server string) (*time.Location, string) {
	loc, ok := zones.For(server)
	if !ok {
		return nil, dataset.NoZone
	}
	return loc, loc.String()
}

// addStats counts a decoder's lenient readings into q, its offset-less
// times as converted with zone.
func addStats(q *dataset.ServerQuality, s parse.Stats, zone string) {
	for _, c := range s.Lenient() {
		if q.Lenient == nil {
			q.Lenient = map[string]int64{}
		}
		q.Lenient[c.Name] += c.N
	}
	if s.OffsetlessTimes > 0 {
		if q.OffsetlessByZone == nil {
			q.OffsetlessByZone = map[string]int64{}
		}
		q.OffsetlessByZone[zone] += s.OffsetlessTimes
	}
	for _, name := range s.UnknownColumnNames {
		if len(q.UnknownColumns) < parse.MaxUnknownColumnNames && !slices.Contains(q.UnknownColumns, name) {
			q.UnknownColumns = append(q.UnknownColumns, name)
		}
	}
}

// cloneQuality copies a server's counts, so that a new catalog never shares
// maps with the one it replaces.
func cloneQuality(q *dataset.ServerQuality) *dataset.ServerQuality {
	c := &dataset.ServerQuality{UnknownColumns: slices.Clone(q.UnknownColumns)}
	for _, pair := range []struct {
		dst *map[string]int64
		src map[string]int64
	}{
		{&c.Lenient, q.Lenient}, {&c.OffsetlessByZone, q.OffsetlessByZone},
	} {
		for k, n := range pair.src {
			if *pair.dst == nil {
				*pair.dst = map[string]int64{}
			}
			(*pair.dst)[k] += n
		}
	}
	return c
}

// zoneWarnings says, per server, where stored offset-less times were
// converted with another zone than the one the rules give it now: as UTC
// because no zone was given (on every run, until one is), or with a zone
// that has changed since (until the dataset is rebuilt).
func zoneWarnings(quality map[string]*dataset.ServerQuality, zones parse.TimeZones) []string {
	servers := make([]string, 0, len(quality))
	for s := range quality {
		servers = append(servers, s)
	}
	sort.Strings(servers)
	warnings := []string{}
	for _, server := range servers {
		_, now := zoneOf(zones, server)
		used := quality[server].OffsetlessByZone
		names := make([]string, 0, len(used))
		for zone := range used {
			names = append(names, zone)
		}
		sort.Strings(names)
		for _, zone := range names {
			switch {
			case zone == now && zone == dataset.NoZone:
				warnings = append(warnings, fmt.Sprintf("server %s: %d times without an offset were converted as UTC because no zone is given for it: give its zone with --timezone '%s=Area/City' or in the licence's [timezones], then run qvmeter ingest --rebuild",
					server, used[zone], server))
			case zone != now:
				warnings = append(warnings, fmt.Sprintf("server %s: %d times without an offset are stored converted with %s, but its zone is now %s: run qvmeter ingest --rebuild to read them again",
					server, used[zone], zone, now))
			}
		}
	}
	return warnings
}
