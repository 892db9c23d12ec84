package metering

import (
	"strings"

	"github.com/qvmeter/qvmeter/parse"
)

// DefaultPool names the top-level licence of a licence file, and the one
// pool of every server when there is no licence file.
const DefaultPool = "default"

// pool is the state of one licence shared by a group of servers.
type pool struct {
	name     string
	licensed bool // a licence file describes this pool: sizes are known
	cal      *CALPools
	slk      *SLKPools
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
	lastPolicyDay int32                   // simulate: last day the idle policy ran
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

func newPool(name string, cal *CALPools, slk *SLKPools, licensed bool, documents *Dict) *pool {
	p := &pool{name: name, licensed: licensed, cal: cal, slk: slk, holders: newHolderRegistry(), sessionCALs: newSessionCALSweep(),
		allocations: map[uint32]DocumentCAL{}, quarantined: map[quarantineKey]int64{}}
	usageSize, linear := int64(-1), false
	p.calQuarantine = newQuarantinePolicy(QuarantineAuto)
	if cal != nil {
		usageSize, linear = int64(cal.Usage), cal.UsageRecharge == RechargeLinear
		p.calQuarantine = newQuarantinePolicy(cal.Quarantine)
		for _, doc := range cal.Documents {
			p.allocations[documents.ID(DocumentKey(doc.Path))] = doc
		}
	} else if licensed {
		usageSize = 0
	}
	p.usage = newUsagePool(usageSize, linear)
	capacityLimit := int64(-1)
	p.slkQuarantine = newQuarantinePolicy(defaultSLKQuarant)
	if slk != nil {
		p.slkQuarantine = newQuarantinePolicy(slk.Quarantine)
		if ceiling, _ := slk.OverageCeiling(); ceiling >= 0 {
			capacityLimit = slk.CapacityMinutes + ceiling
		}
	} else if licensed {
		capacityLimit = 0
	}
	p.capacity = newCapacityLedger(capacityLimit)
	return p
}

// assign records the users a licence assigns by hand, as user ids.
func (p *pool) assign(users *Dict) {
	for kind, names := range map[holderKind][]string{kindNamed: calNamedUsers(p.cal), kindProfessional: slkUsers(p.slk, kindProfessional), kindAnalyzer: slkUsers(p.slk, kindAnalyzer)} {
		p.assigned[kind] = map[uint32]bool{}
		for _, name := range names {
			p.assigned[kind][users.ID(strings.ToLower(name))] = true
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

// size returns how many licences of kind the pool has, and whether that is
// known (a licence file was given; a section it leaves out has none).
func (p *pool) size(kind holderKind) (int64, bool) {
	if !p.licensed {
		return 0, false
	}
	switch {
	case kind == kindNamed && p.cal != nil:
		return int64(p.cal.Named), true
	case kind == kindDocument && p.cal != nil:
		return int64(p.cal.DocumentTotal), true
	case kind == kindProfessional && p.slk != nil:
		return int64(p.slk.Professional), true
	case kind == kindAnalyzer && p.slk != nil:
		return int64(p.slk.Analyzer), true
	}
	return 0, true
}

// sessionCALs returns the number of session CALs, and whether it is known.
func (p *pool) sessionCALCount() (int64, bool) {
	if !p.licensed {
		return 0, false
	}
	if p.cal == nil {
		return 0, true
	}
	return int64(p.cal.Session), true
}

// quarantine is the policy that applies to a kind of assignment.
func (p *pool) quarantine(kind holderKind) quarantinePolicy {
	if kind == kindProfessional || kind == kindAnalyzer {
		return p.slkQuarantine
	}
	return p.calQuarantine
}

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
