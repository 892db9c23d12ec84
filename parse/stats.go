package parse

import "slices"

// Stats counts what a decoder saw. Every complete line is exactly one of
// a row, a reject, a header or a blank line:
//
//	Lines == Rows + Rejects + Headers + BlankLines
//
// and the bytes of an incomplete last line are PartialBytes. The other
// counts are the lenient readings: values the decoder kept although the
// line did not say them the way the format does. Each is counted, so that
// the user sees how much of the data rests on them (see Lenient).
type Stats struct {
	Lines        int64 // complete lines read
	Rows         int64 // sessions decoded
	Rejects      int64 // lines rejected
	Headers      int64 // header lines, the first one included
	BlankLines   int64 // empty lines (or only a NUL run), skipped
	PartialBytes int64 // bytes after the last line break: held back, not decoded

	HeaderlessLines  int64 // rows read with a default layout: the file had no header
	UnknownColumns   int64 // header fields that are not known columns (each header line counts)
	InvalidUTF8      int64 // lines with invalid UTF-8, kept with U+FFFD
	NULRuns          int64 // lines that began after a run of NUL bytes (a crash-zeroed tail), the run skipped
	ExtraEmptyFields int64 // lines with empty fields beyond the header's, ignored

	OffsetlessTimes      int64 // times without a UTC offset, converted with Config.Location (UTC if nil)
	AmbiguousTimes       int64 // offset-less times in an autumn repeated hour: the earlier instant taken
	GapTimes             int64 // offset-less times in a spring gap: moved forward by the gap
	InvalidTimes         int64 // unreadable optional times (Server Started, Document Timestamp), stored as null
	DerivedSessionStarts int64 // unreadable Session Start, taken as Timestamp − Session Duration
	DerivedTimestamps    int64 // unreadable Timestamp, taken as Session Start + Session Duration
	DerivedDurations     int64 // unreadable Session Duration, taken as Timestamp − Session Start
	DurationFallbacks    int64 // empty or absent Session Duration, taken as Timestamp − Session Start
	DayClockDurations    int64 // durations written d.hh:mm:ss
	DayFractions         int64 // durations written as a fraction of a day (QlikView 12 bug)

	InvalidNumbers     int64 // unreadable counters or CPU, stored as null
	OverflowedCounters int64 // counters beyond a signed 64-bit integer, stored as null
	UnknownCALTypes    int64 // CAL Type values that match no known class
	ImplausibleValues  int64 // rows flagged in the implausible column

	// UnknownColumnNames lists the distinct unknown header names, as
	// spelled, in the order first seen; at most MaxUnknownColumnNames.
	UnknownColumnNames []string
}

// MaxUnknownColumnNames bounds Stats.UnknownColumnNames, so that a file of
// garbage taken for a header cannot grow it without end.
const MaxUnknownColumnNames = 32

// Count is one named count of Stats.
type Count struct {
	Name string // stable snake_case name, shown to users and stored
	N    int64
}

// statCounters names every count of Stats, in the order they are shown.
// lenient marks the lenient readings.
var statCounters = [...]struct {
	name    string
	lenient bool
	field   func(*Stats) *int64
}{
	{"lines", false, func(s *Stats) *int64 { return &s.Lines }},
	{"rows", false, func(s *Stats) *int64 { return &s.Rows }},
	{"rejects", false, func(s *Stats) *int64 { return &s.Rejects }},
	{"headers", false, func(s *Stats) *int64 { return &s.Headers }},
	{"blank_lines", false, func(s *Stats) *int64 { return &s.BlankLines }},
	{"partial_bytes", false, func(s *Stats) *int64 { return &s.PartialBytes }},
	{"headerless_lines", true, func(s *Stats) *int64 { return &s.HeaderlessLines }},
	{"unknown_columns", true, func(s *Stats) *int64 { return &s.UnknownColumns }},
	{"invalid_utf8_lines", true, func(s *Stats) *int64 { return &s.InvalidUTF8 }},
	{"nul_runs", true, func(s *Stats) *int64 { return &s.NULRuns }},
	{"extra_empty_fields", true, func(s *Stats) *int64 { return &s.ExtraEmptyFields }},
	{"offsetless_times", true, func(s *Stats) *int64 { return &s.OffsetlessTimes }},
	{"ambiguous_times", true, func(s *Stats) *int64 { return &s.AmbiguousTimes }},
	{"gap_times", true, func(s *Stats) *int64 { return &s.GapTimes }},
	{"unreadable_times", true, func(s *Stats) *int64 { return &s.InvalidTimes }},
	{"derived_session_start", true, func(s *Stats) *int64 { return &s.DerivedSessionStarts }},
	{"derived_timestamp", true, func(s *Stats) *int64 { return &s.DerivedTimestamps }},
	{"derived_duration", true, func(s *Stats) *int64 { return &s.DerivedDurations }},
	{"duration_fallbacks", true, func(s *Stats) *int64 { return &s.DurationFallbacks }},
	{"day_clock_durations", true, func(s *Stats) *int64 { return &s.DayClockDurations }},
	{"day_fraction_durations", true, func(s *Stats) *int64 { return &s.DayFractions }},
	{"unreadable_numbers", true, func(s *Stats) *int64 { return &s.InvalidNumbers }},
	{"overflowed_counters", true, func(s *Stats) *int64 { return &s.OverflowedCounters }},
	{"unknown_cal_types", true, func(s *Stats) *int64 { return &s.UnknownCALTypes }},
	{"implausible_values", true, func(s *Stats) *int64 { return &s.ImplausibleValues }},
}

// Lenient returns the lenient readings that are not zero, by stable
// snake_case name (offsetless_times, derived_timestamp, nul_runs …), in a
// fixed order: the one vocabulary of the ingest summary, the rejects report
// and the page.
func (s Stats) Lenient() []Count {
	var out []Count
	for _, c := range statCounters {
		if n := *c.field(&s); c.lenient && n != 0 {
			out = append(out, Count{c.name, n})
		}
	}
	return out
}

// LenientNames returns the names of every lenient reading, in the order
// Lenient gives them: for readers that hold the counts by name (the
// dataset's catalog) and show them in the decoder's order.
func LenientNames() []string {
	var names []string
	for _, c := range statCounters {
		if c.lenient {
			names = append(names, c.name)
		}
	}
	return names
}

// Add adds the counts of o to s (to sum files per server, or servers per
// run) and merges the unknown column names, still bounded.
func (s *Stats) Add(o Stats) {
	for _, c := range statCounters {
		*c.field(s) += *c.field(&o)
	}
	for _, name := range o.UnknownColumnNames {
		s.addUnknownColumn(name)
	}
}

// addUnknownColumn records an unknown header name once.
func (s *Stats) addUnknownColumn(name string) {
	if len(s.UnknownColumnNames) < MaxUnknownColumnNames && !slices.Contains(s.UnknownColumnNames, name) {
		s.UnknownColumnNames = append(s.UnknownColumnNames, name)
	}
}
