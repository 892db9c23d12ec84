package metering

import (
	"fmt"

	"github.com/qvmeter/qvmeter/parse"
)

// reconstruct books a session under the CAL type its line records. Session
// CALs are booked later, in start order (takeInStartOrder).
func (e *Engine) reconstruct(s *Session) {
	p := e.poolOf(s.Server)
	if kind, ok := holderKindOf(s.CAL); ok {
		p.holders.findOrAssign(kind, s.User, s.Document).use(s)
	}
	switch s.CAL {
	case parse.CALAnalyzerCapacity:
		e.bookCapacity(p, s, s.UsageCount)
	case parse.CALUsage:
		p.usage.consumeHourly(s.Start, usageUnits(s))
		if implied := impliedUsageUnits(s); s.UsageCount > 0 && s.UsageCount != implied {
			row := e.sessionAnomaly(s)
			row.Kind, row.CALType, row.Day = AnomalyUsageCountMismatch, parse.CALUsage.String(), dayString(dayOf(s.Start))
			row.Observed, row.Limit = s.UsageCount, implied
			row.Detail = fmt.Sprintf("CAL Usage Count %d, the duration implies %d (one per started hour): the logged count is used", s.UsageCount, implied)
			p.anomalies = append(p.anomalies, row)
		}
	case parse.CALUnknown:
		e.countUnknownCAL(p, s)
	}
	if e.cfg.License != nil && !e.cfg.License.ConvertedAt.IsZero() {
		if calEra, ok := isCALEraClass(s.CAL); ok && calEra != isCALEra(e.cfg.License, p, s.End) {
			e.countOutsideEra(p, s)
		}
	}
}

// bookCapacity records capacity minutes and turns a flagged count or a
// session across a month boundary into a traceable anomaly.
func (e *Engine) bookCapacity(p *pool, s *Session, minutes int64) {
	check := p.capacity.record(s, minutes)
	if !check.flagged() && !check.spansMonth {
		return
	}
	row := e.sessionAnomaly(s)
	row.CALType = parse.CALAnalyzerCapacity.String()
	row.Month = monthOf(s.End).String()
	if check.flagged() {
		flagged := row
		flagged.Kind, flagged.Observed, flagged.Limit = AnomalyCapacityCount, max(0, minutes), check.bound
		switch {
		case check.missing:
			flagged.Detail = fmt.Sprintf("no CAL Usage Count: between %d and %d minutes", capacityUnit, check.bound)
		case check.notMultipleOf6 && check.aboveDuration:
			flagged.Detail = "count not a multiple of 6 and above 6 × ceil(duration / 6 min)"
		case check.notMultipleOf6:
			flagged.Detail = "count not a multiple of 6"
		default:
			flagged.Detail = "count above 6 × ceil(duration / 6 min)"
		}
		p.anomalies = append(p.anomalies, flagged)
	}
	if check.spansMonth {
		row.Kind, row.Observed = AnomalySpansMonth, max(0, minutes)
		row.Detail = "started in " + monthOf(s.Start).String() + ": booked in the month it ended"
		p.anomalies = append(p.anomalies, row)
	}
}

// sessionAnomaly is an anomaly row that points at one session's line.
func (e *Engine) sessionAnomaly(s *Session) AnomalyRow {
	at := s.End
	return AnomalyRow{At: &at, Day: dayString(dayOf(s.End)), User: e.UserDisplay(s.User), UserKey: e.Users.Name(s.User),
		DocumentKey: e.Documents.Name(s.Document), Server: e.Servers.Name(s.Server),
		SourceFile: e.SourceFiles.Name(s.SourceFile), SourceLine: s.SourceLine}
}

// countUnknownCAL keeps one anomaly per pool and CAL Type text, with the
// earliest line that had it (by session end, then line) and how many did.
func (e *Engine) countUnknownCAL(p *pool, s *Session) {
	e.countPerText(e.unknownCALs, p, s, s.CALText, AnomalyUnknownCALType, "CAL Type not recognised: "+quoteText(e.CALTexts.Name(s.CALText)))
}

func (e *Engine) countOutsideEra(p *pool, s *Session) {
	e.countPerText(e.outsideEra, p, s, uint32(s.CAL), AnomalyEraMismatch, s.CAL.String()+" session on the other side of converted_at")
}

func (e *Engine) countPerText(seen map[[2]uint32]*AnomalyRow, p *pool, s *Session, text uint32, kind, detail string) {
	key := [2]uint32{uint32(e.serverPool[s.Server]), text}
	row := seen[key]
	if row == nil || s.End < *row.At || (s.End == *row.At && s.SourceLine < row.SourceLine) {
		earliest := e.sessionAnomaly(s)
		earliest.Pool, earliest.Kind, earliest.CALType, earliest.Detail = p.name, kind, s.CAL.String(), detail
		if row != nil {
			earliest.Observed = row.Observed
		}
		row = &earliest
		seen[key] = row
	}
	row.Observed++
}

func quoteText(s string) string { return "\"" + s + "\"" }
