package metering

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// holderKind is a licence that stays with a user until removed: named and
// document CALs, professional and analyzer users.
type holderKind uint8

const (
	kindNamed holderKind = iota
	kindDocument
	kindProfessional
	kindAnalyzer
	numHolderKinds
)

var holderKindNames = [numHolderKinds]string{"named", "document", "professional", "analyzer"}

func (k holderKind) String() string { return holderKindNames[k] }

// holderKindOf maps a logged CAL class to the licence it assigns, if any.
func holderKindOf(c parse.CALClass) (holderKind, bool) {
	switch c {
	case parse.CALNamed:
		return kindNamed, true
	case parse.CALDocument:
		return kindDocument, true
	case parse.CALProfessional:
		return kindProfessional, true
	case parse.CALAnalyzer:
		return kindAnalyzer, true
	}
	return 0, false
}

// holder is one assignment and how it was used.
type holder struct {
	kind       holderKind
	user       uint32
	document   uint32 // only for kindDocument
	firstUsed  int64  // earliest session end
	lastUsed   int64  // latest session end
	sessions   int64
	servers    serverSet
	documents  []uint32 // distinct
	document1  uint32   // the document of the latest use, to skip the set most of the time
	exeVersion uint32   // of the session with the latest end
	revoked    bool     // simulate: taken away by the idle policy
	revokedAt  int64
}

// use records one session under the assignment.
func (h *holder) use(s *Session) {
	if h.sessions == 0 || s.End < h.firstUsed {
		h.firstUsed = s.End
	}
	if h.sessions == 0 || s.End >= h.lastUsed {
		h.lastUsed = s.End
		h.exeVersion = s.ExeVersion
	}
	h.sessions++
	h.servers.add(s.Server)
	if h.sessions == 1 || s.Document != h.document1 {
		h.document1 = s.Document
		h.documents = addDistinct(h.documents, s.Document)
	}
}

// serverSet is a set of server ids: a bit mask for the first 64 servers
// (every deployment seen), a slice beyond.
type serverSet struct {
	mask  uint64
	other []uint32
}

func (set *serverSet) add(id uint32) {
	if id < 64 {
		set.mask |= 1 << id
		return
	}
	set.other = addDistinct(set.other, id)
}

func (set *serverSet) ids() []uint32 {
	var out []uint32
	for id := uint32(0); id < 64; id++ {
		if set.mask&(1<<id) != 0 {
			out = append(out, id)
		}
	}
	return append(out, set.other...)
}

// addDistinct appends id to a small set kept as a slice, checking the most
// recent entries first (a user tends to stay on one document and server).
func addDistinct(set []uint32, id uint32) []uint32 {
	for i := len(set) - 1; i >= 0; i-- {
		if set[i] == id {
			return set
		}
	}
	return append(set, id)
}

// holderRegistry holds every assignment of one pool: the current ones,
// looked up per user (and document), and in simulate mode the revoked ones.
type holderRegistry struct {
	holders []holder
	// perUser[kind][user] is 1 + the index of the user's current holder of a
	// per-user kind (named, professional, analyzer); 0 for none.
	perUser [numHolderKinds][]int32
	// perDocument maps user × document to 1 + the index of the current
	// document CAL.
	perDocument map[[2]uint32]int32
	active      [numHolderKinds]int
	activeByDoc map[uint32]int // current document CALs per document
}

func newHolderRegistry() *holderRegistry {
	return &holderRegistry{perDocument: map[[2]uint32]int32{}, activeByDoc: map[uint32]int{}}
}

// find returns the current holder of kind for user (and document), or nil.
func (r *holderRegistry) find(kind holderKind, user, document uint32) *holder {
	var ref int32
	if kind == kindDocument {
		ref = r.perDocument[[2]uint32{user, document}]
	} else if int(user) < len(r.perUser[kind]) {
		ref = r.perUser[kind][user]
	}
	if ref == 0 {
		return nil
	}
	return &r.holders[ref-1]
}

// assign creates the current holder of kind for user (and document).
func (r *holderRegistry) assign(kind holderKind, user, document uint32) *holder {
	if kind != kindDocument {
		document = 0
	}
	r.holders = append(r.holders, holder{kind: kind, user: user, document: document})
	ref := int32(len(r.holders))
	if kind == kindDocument {
		r.perDocument[[2]uint32{user, document}] = ref
		r.activeByDoc[document]++
	} else {
		r.perUser[kind] = growTo(r.perUser[kind], user, 0)
		r.perUser[kind][user] = ref
	}
	r.active[kind]++
	return &r.holders[ref-1]
}

// findOrAssign is find, assigning when there is no current holder.
func (r *holderRegistry) findOrAssign(kind holderKind, user, document uint32) *holder {
	if h := r.find(kind, user, document); h != nil {
		return h
	}
	return r.assign(kind, user, document)
}

// revoke takes a current assignment away at time at.
func (r *holderRegistry) revoke(h *holder, at int64) {
	h.revoked, h.revokedAt = true, at
	if h.kind == kindDocument {
		delete(r.perDocument, [2]uint32{h.user, h.document})
		r.activeByDoc[h.document]--
	} else {
		r.perUser[h.kind][h.user] = 0
	}
	r.active[h.kind]--
}

// current returns the indexes of the current (not revoked) holders of kind
// (and document, for document CALs with document ≥ 0) in order of first use.
func (r *holderRegistry) current(kind holderKind, document int64) []int {
	var out []int
	for i := range r.holders {
		h := &r.holders[i]
		if h.kind == kind && !h.revoked && (document < 0 || int64(h.document) == document) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b int) int { return compareHolders(&r.holders[a], &r.holders[b]) })
	return out
}

// compareHolders orders by first use, then user and document ids, so output
// does not depend on map order.
func compareHolders(a, b *holder) int {
	switch {
	case a.firstUsed != b.firstUsed:
		return cmp.Compare(a.firstUsed, b.firstUsed)
	case a.user != b.user:
		return cmp.Compare(a.user, b.user)
	}
	return cmp.Compare(a.document, b.document)
}

// finishHolders turns a pool's assignments into rows: quarantine and
// frees_at as of the as-of time, the Excess flag for holders beyond the pool
// in order of first use, and the anomalies the holders show.
func (e *Engine) finishHolders(st *State, p *pool) {
	r := p.holders
	excess := make([]bool, len(r.holders))
	for kind := range numHolderKinds {
		size, known := p.size(kind)
		if !known {
			continue
		}
		current := r.current(kind, -1)
		if kind == kindDocument && len(p.allocations) > 0 {
			e.checkAllocations(st, p, excess)
		}
		if int64(len(current)) > size {
			// Document CALs are flagged per document when allocations are
			// listed (checkAllocations), else beyond the total.
			if kind != kindDocument || len(p.allocations) == 0 {
				for _, i := range current[size:] {
					excess[i] = true
				}
			}
			st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyPoolExceeded, CALType: kind.String(),
				Observed: int64(len(current)), Limit: size, Detail: fmt.Sprintf("%d %s licences held, %d licensed", len(current), kind, size)})
		}
	}
	retiredAt, retires := e.calRetirement(p)
	for i := range r.holders {
		h := &r.holders[i]
		q, rule := p.quarantine(h.kind).of(e.ExeVersions.Name(h.exeVersion))
		removedAt := e.asOf
		if h.revoked {
			removedAt = h.revokedAt
		}
		row := HolderRow{Pool: p.name, CALType: h.kind.String(), User: e.UserDisplay(h.user), UserKey: e.Users.Name(h.user),
			FirstUsed: h.firstUsed, LastUsed: h.lastUsed, Sessions: h.sessions, Documents: int64(len(h.documents)),
			ExeVersion: e.ExeVersions.Name(h.exeVersion), QuarantineMS: q.Milliseconds(), QuarantineRule: rule,
			IdleDays: max(0, (e.asOf-h.lastUsed)/dayMS), FreesAt: max(removedAt, h.lastUsed+q.Milliseconds()),
			Excess: excess[i], Revoked: h.revoked}
		if h.kind == kindDocument {
			row.DocumentKey = e.Documents.Name(h.document)
		}
		if h.revoked {
			row.RevokedAt = &h.revokedAt
		}
		if retires && (h.kind == kindNamed || h.kind == kindDocument) {
			row.Retired, row.RetiredAt = true, &retiredAt
		}
		for _, server := range h.servers.ids() {
			row.Servers = append(row.Servers, e.Servers.Name(server))
		}
		slices.Sort(row.Servers)
		st.Holders = append(st.Holders, row)
		if h.kind == kindDocument && !h.revoked && r.find(kindNamed, h.user, 0) != nil {
			st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyNamedAndDocument, CALType: "document",
				User: row.User, UserKey: row.UserKey, DocumentKey: row.DocumentKey, Observed: 2, Limit: 1,
				Detail: "user holds a named CAL and a document CAL: one is wasted"})
		}
	}
}

// checkAllocations compares document CALs per document with the licence's
// allocation of that document, flagging the ones beyond it.
func (e *Engine) checkAllocations(st *State, p *pool, excess []bool) {
	documents := make([]uint32, 0, len(p.holders.activeByDoc))
	for doc, n := range p.holders.activeByDoc {
		if n > 0 {
			documents = append(documents, doc)
		}
	}
	slices.Sort(documents)
	for _, doc := range documents {
		allocated := int64(p.allocations[doc].Allocated) // 0 when not allocated
		current := p.holders.current(kindDocument, int64(doc))
		if int64(len(current)) <= allocated {
			continue
		}
		for _, i := range current[allocated:] {
			excess[i] = true
		}
		st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyDocumentAllocation, CALType: "document",
			DocumentKey: e.Documents.Name(doc), Observed: int64(len(current)), Limit: allocated,
			Detail: fmt.Sprintf("%d document CALs on this document, %d allocated", len(current), allocated)})
	}
}
