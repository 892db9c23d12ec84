package metering

import (
	"fmt"
	"time"

	"github.com/qvmeter/qvmeter/parse"
)

// Implausible values are set aside, not trusted (issue 10). The decoder
// flags a row whose times or CAL Usage Count cannot be real in the
// dataset's implausible column (parse/plausible.go): a Session Start in
// year 0001 would make decades of session CAL days from 1970 and millions
// of Usage CALs, and a count of 5·10^18 on two lines overflows a month's
// sum. Such a row is kept out of every figure of the state (holders,
// capacity minutes, months, concurrency, usage CALs) and shown instead as
// one implausible_value anomaly with its file and line; an Analyzer
// Capacity row adds its count to its month's implausible_minutes, by how
// much the month would differ if the server's count were taken, which
// billing reconciliation needs beside the trusted figure.

// Implausibility says why a session's values cannot be real: the dataset's
// implausible column folded to a small code; zero for a plausible session.
type Implausibility uint8

const (
	plausible Implausibility = iota
	implausibleTimeBeforeQlikView
	implausibleTimeAfterFile
	implausibleDurationAboveCeiling
	implausibleCountNegative
	implausibleCountAboveCeiling
	// implausibleOther is a reason this version does not know (a dataset
	// written by a newer one): still set aside.
	implausibleOther
)

// implausibleReasons are the implausible column's texts, by code.
var implausibleReasons = [...]string{
	implausibleTimeBeforeQlikView:   parse.ImplausibleTimeBeforeQlikView,
	implausibleTimeAfterFile:        parse.ImplausibleTimeAfterFile,
	implausibleDurationAboveCeiling: parse.ImplausibleDurationAboveCeiling,
	implausibleCountNegative:        parse.ImplausibleCountNegative,
	implausibleCountAboveCeiling:    parse.ImplausibleCountAboveCeiling,
	implausibleOther:                "unknown_reason",
}

// implausibilityOf folds an implausible column's value ("" for null).
func implausibilityOf(reason string) Implausibility {
	if reason == "" {
		return plausible
	}
	for code, text := range implausibleReasons {
		if code != int(plausible) && text == reason {
			return Implausibility(code)
		}
	}
	return implausibleOther
}

// String is the reason as the implausible column writes it, "" when plausible.
func (r Implausibility) String() string { return implausibleReasons[r] }

// aboutTime tells whether the session's times are what cannot be real: then
// they cannot place it before or after the as-of time either.
func (r Implausibility) aboutTime() bool {
	return r == implausibleTimeBeforeQlikView || r == implausibleTimeAfterFile
}

// setAside takes a session whose values cannot be real out of every figure
// and records it as an implausible_value anomaly. A session the as-of time
// or an exclude pattern leaves out is left out as any other, unless its
// times are what cannot be real: then it is shown whatever the as-of time.
func (e *Engine) setAside(s *Session) {
	if s.End > e.asOf && !s.Implausible.aboutTime() {
		e.counts.later++
		return
	}
	if e.isExcluded(s.User) {
		e.counts.excluded++
		return
	}
	p := e.poolOf(s.Server)
	row := e.sessionAnomaly(s)
	row.Kind, row.CALType = AnomalyImplausibleValue, s.CAL.String()
	row.Observed, row.Limit, row.Detail = describeImplausible(s)
	if s.CAL == parse.CALAnalyzerCapacity && s.UsageCount != NoCount && s.End <= e.asOf {
		row.Month = monthOf(s.End).String()
		p.capacity.setAside(s.End, s.UsageCount)
	}
	p.anomalies = append(p.anomalies, row)
}

// describeImplausible returns an implausible_value anomaly's observed
// value, the limit it broke and its detail, which starts with the reason.
// Times are in ms since the Unix epoch, durations in minutes.
func describeImplausible(s *Session) (observed, limit int64, detail string) {
	span := fmt.Sprintf("session from %s to %s", formatMS(s.Start), formatMS(s.End))
	switch s.Implausible {
	case implausibleTimeBeforeQlikView:
		observed, limit = min(s.Start, s.End), parse.QlikViewEpoch.UnixMilli()
		detail = span + ", before QlikView existed (" + formatMS(limit) + ")"
	case implausibleTimeAfterFile:
		observed = max(s.Start, s.End)
		detail = span + ", later than its log file was last written"
	case implausibleDurationAboveCeiling:
		observed, limit = s.DurationMS/minuteMS, parse.DurationCeiling.Milliseconds()/minuteMS
		detail = fmt.Sprintf("a session of %d minutes, longer than the ceiling of %d", observed, limit)
	case implausibleCountNegative:
		observed = s.UsageCount
		detail = fmt.Sprintf("CAL Usage Count %d below zero", s.UsageCount)
	case implausibleCountAboveCeiling:
		observed, limit = s.UsageCount, parse.CALUsageCeiling
		detail = fmt.Sprintf("CAL Usage Count %d above %d, the minutes of a 31-day month", s.UsageCount, limit)
	default:
		observed = max(0, s.UsageCount)
		detail = "a reason this version of qvmeter does not know (the dataset was written by a newer one)"
	}
	return observed, limit, s.Implausible.String() + ": " + detail
}

func formatMS(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// setAside adds an implausible capacity session's count to the
// implausible_minutes of the month it ended in, never to its minutes.
func (l *capacityLedger) setAside(end, minutes int64) {
	b := l.month(l.endMonth.of(end))
	b.implausible, _ = addSaturating(b.implausible, minutes)
}
