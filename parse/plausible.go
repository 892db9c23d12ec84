package parse

import "time"

// A value that cannot be real is kept as written but flagged in the
// implausible column with one of the reasons below, so that no sum
// downstream trusts it: a corrupt Session Start in year 0001 would make
// decades of concurrency rows, and a CAL Usage Count of 5·10^18 on two
// lines overflows any 64-bit sum. Readers keep flagged rows out of figures
// and show them as anomalies. Only the values that figures are computed
// from are checked: Session Start, Timestamp, Session Duration and CAL
// Usage Count.
const (
	ImplausibleTimeBeforeQlikView   = "time_before_qlikview"   // Session Start or Timestamp before QlikViewEpoch
	ImplausibleTimeAfterFile        = "time_after_file"        // Session Start or Timestamp after Config.NotAfter + FileTimeSlack
	ImplausibleDurationAboveCeiling = "duration_above_ceiling" // a session longer than DurationCeiling
	ImplausibleCountNegative        = "count_negative"         // a CAL Usage Count below zero (other than -1, which is null)
	ImplausibleCountAboveCeiling    = "count_above_ceiling"    // a CAL Usage Count above CALUsageCeiling
)

// QlikViewEpoch is the earliest time a session log can hold: QlikTech was
// founded in 1993 and its product first shipped in 1994, so a session before
// 1993 is a corrupt field (or a zero time: 0001-01-01, 1970-01-01).
var QlikViewEpoch = time.Date(1993, 1, 1, 0, 0, 0, 0, time.UTC)

// FileTimeSlack is how far past Config.NotAfter (the log file's modification
// time) a session time may lie and still be trusted: a day for clocks that
// disagree and for a file copied with a new time, plus the widest UTC offset
// (14 h) for offset-less times read in the wrong zone.
const FileTimeSlack = 24*time.Hour + 14*time.Hour

// CALUsageCeiling is the largest CAL Usage Count a session can have:
// Analyzer Capacity counts minutes, and no session consumes more minutes
// than a 31-day month has (31 × 24 × 60). Usage CALs count one per started
// hour, far below it.
const CALUsageCeiling = 31 * 24 * 60

// DurationCeiling is the longest session that can be real: a year. A
// QlikView session ends at the idle timeout (30 minutes by default) or when
// the service restarts, which updates and maintenance do far more often.
const DurationCeiling = 366 * 24 * time.Hour

// plausibility holds the bounds of one decoder, in milliseconds.
type plausibility struct {
	earliest, latest int64 // latest = 0: no check
}

func newPlausibility(notAfter time.Time) plausibility {
	p := plausibility{earliest: QlikViewEpoch.UnixMilli()}
	if !notAfter.IsZero() {
		p.latest = notAfter.Add(FileTimeSlack).UnixMilli()
	}
	return p
}

// reason returns why a row's values cannot be real, or "" if they can.
// count is the CAL Usage Count, hasCount false when it is null.
func (p plausibility) reason(start, end, durationMS, count int64, hasCount bool) string {
	switch {
	case start < p.earliest || end < p.earliest:
		return ImplausibleTimeBeforeQlikView
	case p.latest != 0 && (start > p.latest || end > p.latest):
		return ImplausibleTimeAfterFile
	case durationMS > DurationCeiling.Milliseconds():
		return ImplausibleDurationAboveCeiling
	case hasCount && count < 0:
		return ImplausibleCountNegative
	case hasCount && count > CALUsageCeiling:
		return ImplausibleCountAboveCeiling
	}
	return ""
}
