package metering

import (
	"strings"

	"github.com/qvmeter/qvmeter/parse"
)

// Denial reasons.
const (
	DenyNoCALFree         = "no_cal_free"
	DenyCapacityExhausted = "capacity_exhausted"
	DenyNoLicence         = "no_licence"
)

// simulate assigns a licence to a session at its start, in the server's
// order, and books it as reconstruct would have booked that CAL type.
func (e *Engine) simulate(s *Session) {
	p := e.poolOf(s.Server)
	e.applyIdlePolicy(s.Start)
	var assigned parse.CALClass
	var reason string
	if isCALEra(e.cfg.License, p, s.End) {
		assigned, reason = e.assignCAL(p, s)
	} else {
		assigned, reason = e.assignSLK(p, s)
	}
	if reason != "" {
		p.denials = append(p.denials, DenialRow{Pool: p.name, At: s.Start, User: e.UserDisplay(s.User), UserKey: e.Users.Name(s.User),
			DocumentKey: e.Documents.Name(s.Document), Server: e.Servers.Name(s.Server), Reason: reason,
			LoggedCALType: s.CAL.String(), SourceFile: e.SourceFiles.Name(s.SourceFile), SourceLine: s.SourceLine})
		assigned = parse.CALNone
	}
	if assigned == s.CAL {
		e.counts.agree++
	} else {
		e.counts.differ++
	}
}

// assignCAL is the CAL-era order: the user's named CAL, the user's document
// CAL, a new named CAL, a new document CAL, a session CAL, a usage CAL.
func (e *Engine) assignCAL(p *pool, s *Session) (parse.CALClass, string) {
	cal := p.cal
	if cal == nil {
		return 0, DenyNoLicence
	}
	if !e.isIdentified(s) {
		return e.assignShared(p, s)
	}
	if h := p.holders.find(kindNamed, s.User, 0); h != nil {
		h.use(s)
		return parse.CALNamed, ""
	}
	if h := p.holders.find(kindDocument, s.User, s.Document); h != nil {
		h.use(s)
		return parse.CALDocument, ""
	}
	if p.takeAssigned(kindNamed, s.User) {
		p.holders.assign(kindNamed, s.User, 0).use(s)
		return parse.CALNamed, ""
	}
	if cal.NamedDynamic && e.canAssign(p, kindNamed, s, int64(cal.Named)) {
		p.holders.assign(kindNamed, s.User, 0).use(s)
		return parse.CALNamed, ""
	}
	if alloc, ok := p.allocations[s.Document]; ok && alloc.Dynamic && e.canAssign(p, kindDocument, s, int64(alloc.Allocated)) {
		p.holders.assign(kindDocument, s.User, s.Document).use(s)
		return parse.CALDocument, ""
	}
	return e.assignShared(p, s)
}

// assignShared is the end of the CAL-era order, the CALs that anonymous
// users can have too: a session CAL, else usage CALs.
func (e *Engine) assignShared(p *pool, s *Session) (parse.CALClass, string) {
	if p.cal.Session > 0 && p.sessionCALs.canHold(s.Client, s.Start, int64(p.cal.Session)) {
		e.holdSessionCAL(p, s)
		return parse.CALSession, ""
	}
	if p.usage.take(s.Start, usageUnits(s)) > 0 {
		return parse.CALUsage, ""
	}
	return 0, DenyNoCALFree
}

// isIdentified reports whether the session's user is a named account, not
// an anonymous one keyed on its Client Machine Identification: only
// identified users can be given named, document, professional or analyzer
// licences.
func (e *Engine) isIdentified(s *Session) bool {
	e.identified = growTo(e.identified, s.User, 0)
	if e.identified[s.User] == 0 {
		machine, _, _ := strings.Cut(e.Clients.Name(s.Client), "\x00")
		e.identified[s.User] = 1
		if strings.EqualFold(machine, e.Users.Name(s.User)) {
			e.identified[s.User] = 2
		}
	}
	return e.identified[s.User] == 1
}

// assignSLK is the SLK order: the user's professional or analyzer
// assignment, a new professional, a new analyzer, Analyzer Capacity.
func (e *Engine) assignSLK(p *pool, s *Session) (parse.CALClass, string) {
	slk := p.slk
	if slk == nil {
		return 0, DenyNoLicence
	}
	if e.isIdentified(s) {
		if h := p.holders.find(kindProfessional, s.User, 0); h != nil {
			h.use(s)
			return parse.CALProfessional, ""
		}
		if h := p.holders.find(kindAnalyzer, s.User, 0); h != nil {
			h.use(s)
			return parse.CALAnalyzer, ""
		}
		if p.takeAssigned(kindProfessional, s.User) {
			p.holders.assign(kindProfessional, s.User, 0).use(s)
			return parse.CALProfessional, ""
		}
		if p.takeAssigned(kindAnalyzer, s.User) {
			p.holders.assign(kindAnalyzer, s.User, 0).use(s)
			return parse.CALAnalyzer, ""
		}
		if slk.ProfessionalDynamic && e.canAssign(p, kindProfessional, s, int64(slk.Professional)) {
			p.holders.assign(kindProfessional, s.User, 0).use(s)
			return parse.CALProfessional, ""
		}
		if slk.AnalyzerDynamic && e.canAssign(p, kindAnalyzer, s, int64(slk.Analyzer)) {
			p.holders.assign(kindAnalyzer, s.User, 0).use(s)
			return parse.CALAnalyzer, ""
		}
	}
	if !p.capacity.exhausted(s.Start) {
		minutes := s.UsageCount
		if s.CAL != parse.CALAnalyzerCapacity || minutes == NoCount {
			minutes = capacityUnit // one unit: the least a visit consumes
		}
		e.bookCapacity(p, s, minutes)
		return parse.CALAnalyzerCapacity, ""
	}
	return 0, DenyCapacityExhausted
}

// canAssign reports whether a new licence of kind (for s's document, when
// a document CAL) is free at s's start: fewer in use, counting revoked ones
// still in quarantine and those assigned by hand to users not seen yet, than
// licensed; and the user is not coming back
// during the quarantine of one taken from them.
func (e *Engine) canAssign(p *pool, kind holderKind, s *Session, licensed int64) bool {
	document := uint32(0)
	if kind == kindDocument {
		document = s.Document
	}
	if until, ok := p.quarantined[quarantineKey{kind, s.User, document}]; ok {
		if s.Start < until {
			return false
		}
		delete(p.quarantined, quarantineKey{kind, s.User, document})
	}
	inUse := int64(p.holders.active[kind]) + int64(len(p.assigned[kind])) // assigned by hand, not used yet
	if kind == kindDocument {
		inUse = int64(p.holders.activeByDoc[document])
	}
	kept := p.inQuarantine[:0]
	for _, q := range p.inQuarantine {
		if q.until > s.Start {
			kept = append(kept, q)
			if q.kind == kind && q.document == document {
				inUse++
			}
		}
	}
	p.inQuarantine = kept
	return inUse < licensed
}
