package metering

import (
	"cmp"
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
