package metering

import (
	"github.com/qvmeter/qvmeter/parse"
)

// DefaultPool names the top-level licence of a licence file, and the one
// pool of every server when there is no licence file.
const DefaultPool = "default"

// pool is the state of one licence shared by a group of servers.
type pool struct {
	name     string
	licensed bool // a licence file describes this pool
	// absentIsZero: a size the licence leaves out is 0 (simulate, where the
	// file describes the whole licence) rather than unknown (reconstruct).
	absentIsZero bool
	cal          *CALPools
	slk          *SLKPools
	// allocations maps a document id to its allocation of document CALs.
	allocations   map[uint32]DocumentCAL
	calQuarantine quarantinePolicy
	slkQuarantine quarantinePolicy
	holders       *holderRegistry
	capacity      *capacityLedger
	sessionCALs   sessionCALSweep
	usage         *usagePool
	anomalies     []AnomalyRow
	denials       []DenialRow
	quarantined   map[quarantineKey]int64 // simulate: revoked assignments → end of quarantine
	inQuarantine  []quarantinedCAL        // simulate: revoked licences not free yet
	// assigned holds, per kind, the users the licence assigns by hand
	// (named_users, professional_users, analyzer_users) who have not had a
	// session yet: simulate keeps a licence for each of them.
	assigned [numHolderKinds]map[uint32]bool
}

// quarantineKey is one user's revoked assignment: the user may not get the
// same licence again before its quarantine ends.
type quarantineKey struct {
	kind     holderKind
	user     uint32
	document uint32
}

type quarantinedCAL struct {
	kind     holderKind
	document uint32
	until    int64
}

func newPool(name string, cal *CALPools, slk *SLKPools, licensed, absentIsZero bool, documents *Dict) *pool {
	p := &pool{name: name, licensed: licensed, absentIsZero: absentIsZero, cal: cal, slk: slk, holders: newHolderRegistry(),
		sessionCALs: newSessionCALSweep(), allocations: map[uint32]DocumentCAL{}, quarantined: map[quarantineKey]int64{}}
	p.calQuarantine = newQuarantinePolicy(QuarantineAuto)
	linear := false
	if cal != nil {
		linear = cal.UsageRecharge == RechargeLinear
		p.calQuarantine = newQuarantinePolicy(cal.Quarantine)
		for _, doc := range cal.Documents {
			p.allocations[documents.ID(parse.DocumentKey(doc.Path))] = doc
		}
	}
	usageSize, known := p.calSize("usage")
	if !known {
		usageSize = -1
	}
	p.usage = newUsagePool(usageSize, linear)
	capacityLimit := int64(-1)
	p.slkQuarantine = newQuarantinePolicy(defaultSLKQuarant)
	if slk != nil {
		p.slkQuarantine = newQuarantinePolicy(slk.Quarantine)
	}
	if budget, known := p.capacityBudget(); known {
		ceiling := int64(0)
		if slk != nil {
			ceiling, _ = slk.OverageCeiling()
		}
		if ceiling >= 0 {
			capacityLimit = budget + ceiling
		}
	}
	p.capacity = newCapacityLedger(capacityLimit)
	return p
}

// assign records the users a licence assigns by hand, as user ids.
func (p *pool) assign(users *Dict) {
	for kind, names := range map[holderKind][]string{kindNamed: calNamedUsers(p.cal), kindProfessional: slkUsers(p.slk, kindProfessional), kindAnalyzer: slkUsers(p.slk, kindAnalyzer)} {
		p.assigned[kind] = map[uint32]bool{}
		for _, name := range names {
			p.assigned[kind][users.ID(parse.UserKey(name, "", ""))] = true
		}
	}
}

func calNamedUsers(cal *CALPools) []string {
	if cal == nil {
		return nil
	}
	return cal.NamedUsers
}

func slkUsers(slk *SLKPools, kind holderKind) []string {
	switch {
	case slk == nil:
		return nil
	case kind == kindProfessional:
		return slk.ProfessionalUsers
	}
	return slk.AnalyzerUsers
}

// takeAssigned reports whether the licence assigns user a licence of kind
// by hand that the user has not taken yet, and marks it taken.
func (p *pool) takeAssigned(kind holderKind, user uint32) bool {
	if !p.assigned[kind][user] {
		return false
	}
	delete(p.assigned[kind], user)
	return true
}

// calSize is a [cal] size key's value and whether it is known: a licence
// file was given and says it (or, in simulate mode, leaving it out means
// none). An unknown size is null in every report and raises no flag.
func (p *pool) calSize(key string) (int64, bool) {
	var n int
	switch {
	case !p.licensed:
		return 0, false
	case !p.cal.Known(key):
		return 0, p.absentIsZero
	case key == "named":
		n = p.cal.Named
	case key == "document_total":
		n = p.cal.DocumentTotal
	case key == "session":
		n = p.cal.Session
	case key == "usage":
		n = p.cal.Usage
	}
	return int64(n), true
}

// slkSize is calSize for the [slk] pools (professional, analyzer).
func (p *pool) slkSize(key string) (int64, bool) {
	switch {
	case !p.licensed:
		return 0, false
	case !p.slk.Known(key):
		return 0, p.absentIsZero
	case key == "professional":
		return int64(p.slk.Professional), true
	}
	return int64(p.slk.Analyzer), true
}

// capacityBudget is the monthly Analyzer Capacity budget, and whether known.
func (p *pool) capacityBudget() (int64, bool) {
	switch {
	case !p.licensed:
		return 0, false
	case !p.slk.Known("capacity_minutes"):
		return 0, p.absentIsZero
	}
	return p.slk.CapacityMinutes, true
}

// size returns how many licences of kind the pool has, and whether that is
// known.
func (p *pool) size(kind holderKind) (int64, bool) {
	switch kind {
	case kindNamed:
		return p.calSize("named")
	case kindDocument:
		return p.calSize("document_total")
	case kindProfessional:
		return p.slkSize("professional")
	}
	return p.slkSize("analyzer")
}

// sessionCALCount returns the number of session CALs, and whether it is known.
func (p *pool) sessionCALCount() (int64, bool) { return p.calSize("session") }

// quarantine is the policy that applies to a kind of assignment.
func (p *pool) quarantine(kind holderKind) quarantinePolicy {
	if kind == kindProfessional || kind == kindAnalyzer {
		return p.slkQuarantine
	}
	return p.calQuarantine
}
