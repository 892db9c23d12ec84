package metering

import (
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
		e.bookUsage(p, s)
	case parse.CALUnknown:
		e.countUnknownCAL(p, s)
	}
	if e.cfg.License != nil && !e.cfg.License.ConvertedAt.IsZero() {
		if calEra, ok := isCALEraClass(s.CAL); ok && calEra != isCALEra(e.cfg.License, p, s.End) {
			e.countOutsideEra(p, s)
		}
	}
}

// sessionAnomaly is an anomaly row that points at one session's line.
func (e *Engine) sessionAnomaly(s *Session) AnomalyRow {
	at := s.End
	return AnomalyRow{At: &at, Day: dayString(dayOf(s.End)), User: e.UserDisplay(s.User), UserKey: e.Users.Name(s.User),
		DocumentKey: e.Documents.Name(s.Document), Server: e.Servers.Name(s.Server),
		SourceFile: e.SourceFiles.Name(s.SourceFile), SourceLine: s.SourceLine}
}
