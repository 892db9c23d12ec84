package metering

import "github.com/qvmeter/qvmeter/parse"

// calRetirement tells whether the pool's CAL licence is gone at the as-of
// time, and since when: the licence was converted to a Signed License Key
// (converted_at) at or before the as-of time, and the pool has SLK pools
// for the conversion to lead to.
func (e *Engine) calRetirement(p *pool) (int64, bool) {
	lic := e.cfg.License
	if lic == nil || lic.ConvertedAt.IsZero() || p.slk == nil || isCALEra(lic, p, e.asOf) {
		return 0, false
	}
	return lic.ConvertedAt.UnixMilli(), true
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

// isCALEra tells which pools a session draws on: the CAL era before the
// licence's conversion to a Signed License Key, the SLK era after.
func isCALEra(lic *License, p *pool, end int64) bool {
	switch {
	case p.cal == nil || p.slk == nil:
		return p.cal != nil || p.slk == nil
	case lic == nil || lic.ConvertedAt.IsZero():
		return true
	}
	return end < lic.ConvertedAt.UnixMilli()
}

// isCALEraClass reports whether a logged class belongs to the CAL era
// (true), the SLK era (false), or neither (ok = false).
func isCALEraClass(c parse.CALClass) (calEra, ok bool) {
	switch c {
	case parse.CALNamed, parse.CALDocument, parse.CALSession, parse.CALUsage:
		return true, true
	case parse.CALProfessional, parse.CALAnalyzer, parse.CALAnalyzerCapacity:
		return false, true
	}
	return false, false
}
