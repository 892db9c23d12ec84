package ingest

import (
	"fmt"
	"sort"

	"github.com/qvmeter/qvmeter/parse"
)

// Every lenient reading of the decoder is counted, per server, and shown:
// in the run's Summary (what this run read) and, cumulatively since the
// dataset was built, in the catalog's Quality, which QualityByServer
// returns for reports and the page. Per server rather than per file:
// the catalog stays bounded by the number of servers when checkpoints of
// deleted logs are dropped, and a server is what a zone is given for.
// Counts are per line read, so a copy of a log read twice counts twice.

// LenientKinds names the lenient readings counted, in the order a summary
// shows them, with what each means.
var LenientKinds = []struct{ Name, Meaning string }{
	{"offsetless_times", "times written without an offset, converted with the server's zone (or as UTC)"},
	{"invalid_times", "unreadable optional times, stored as null"},
	{"day_clock_durations", "durations written d.hh:mm:ss"},
	{"day_fraction_durations", "durations written as a fraction of a day (QlikView 12 bug)"},
	{"duration_fallbacks", "unreadable durations, taken as Timestamp - Session Start"},
	{"invalid_numbers", "unreadable counters or CPU seconds, stored as null"},
	{"invalid_utf8_lines", "lines with invalid UTF-8, kept with U+FFFD"},
	{"headerless_lines", "lines read with the default layout: the file had no header"},
	{"unknown_columns", "header fields that are not known columns, ignored"},
	{"unknown_cal_types", "CAL Type values that match no known class"},
}

// lenientCounts lists a decoder's counts by the names of LenientKinds.
func lenientCounts(s parse.Stats) []int64 {
	return []int64{
		s.LegacyTimes, s.InvalidTimes, s.DayClockDurations, s.DayFractions, s.DurationFallbacks,
		s.InvalidNumbers, s.InvalidUTF8, s.HeaderlessLines, s.UnknownColumns, s.UnknownCALTypes,
	}
}

// The functions below are not methods of ServerQuality: the catalog's types
// may live in another package than ingest's reading of the decoder.

// addStats counts a decoder's stats for lines converted with zone.
func addStats(q *ServerQuality, s parse.Stats, zone string) {
	if q.Lenient == nil {
		q.Lenient = map[string]int64{}
	}
	for i, n := range lenientCounts(s) {
		if n != 0 {
			q.Lenient[LenientKinds[i].Name] += n
		}
	}
	if s.LegacyTimes > 0 {
		if q.OffsetlessByZone == nil {
			q.OffsetlessByZone = map[string]int64{}
		}
		q.OffsetlessByZone[zone] += s.LegacyTimes
	}
}

// cloneQuality copies a server's counts, so that a new catalog never shares
// maps with the one it replaces.
func cloneQuality(q *ServerQuality) *ServerQuality {
	c := &ServerQuality{}
	for _, pair := range []struct {
		dst *map[string]int64
		src map[string]int64
	}{
		{&c.Lenient, q.Lenient}, {&c.OffsetlessByZone, q.OffsetlessByZone}, {&c.UnknownColumns, q.UnknownColumns},
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

// QualityByServer returns the lenient readings per server stored in a
// data folder's catalog: every line read since the dataset was built.
func QualityByServer(dataDir string) (map[string]*ServerQuality, error) {
	cat, err := LoadCatalog(dataDir)
	if err != nil {
		return nil, err
	}
	return cat.Quality, nil
}

// zoneWarnings says, per server, where stored offset-less times were
// converted with another zone than the one the rules give it now: as UTC
// because no zone was given (on every run, until one is), or with a zone
// that has changed since (until the dataset is rebuilt).
func zoneWarnings(quality map[string]*ServerQuality, zones *TimeZones) []string {
	servers := make([]string, 0, len(quality))
	for s := range quality {
		servers = append(servers, s)
	}
	sort.Strings(servers)
	warnings := []string{}
	for _, server := range servers {
		_, now := zones.For(server)
		used := quality[server].OffsetlessByZone
		names := make([]string, 0, len(used))
		for zone := range used {
			names = append(names, zone)
		}
		sort.Strings(names)
		for _, zone := range names {
			switch {
			case zone == now && zone == NoZone:
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
