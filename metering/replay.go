package metering

import (
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// rowGroupReplayer replays decoded row groups on the engine's goroutine.
type rowGroupReplayer struct {
	e       *Engine
	texts   *Dict             // client machines, client types and cal_class texts
	clients map[uint64]uint32 // machine text id << 32 | type text id → Clients id
	// clientOf caches, per machine text id, 1 + the last client type text
	// id seen with it and their Clients id: a machine rarely changes type.
	clientOf []cachedClient
	classOf  []int8    // per text id: its CAL class, -1 until looked up
	ordered  []Session // the month's sessions that need end order
	// unordered and byUser are a row group's other sessions, as read and
	// grouped by user.
	unordered, byUser []Session
	session           Session // the row being replayed (a field, not allocated per row)
}

type cachedClient struct{ clientType, id uint32 }

func newRowGroupReplayer(e *Engine) *rowGroupReplayer {
	return &rowGroupReplayer{e: e, texts: newDict(), clients: map[uint64]uint32{}}
}

// dicts are the engine's dictionaries (and the replayer's texts) in the
// order of the dict* constants.
func (r *rowGroupReplayer) dicts() [numDicts]*Dict {
	e := r.e
	return [numDicts]*Dict{e.Users, e.Documents, e.Servers, e.ExeVersions, e.CALTexts, e.SourceFiles, r.texts}
}

func (r *rowGroupReplayer) replay(rg *decodedRowGroup) {
	e := r.e
	for d, dict := range r.dicts() {
		dict.appendNames(rg.names[d])
	}
	for _, s := range rg.spellings {
		e.SetUserDisplay(s.user, s.spelling)
	}
	ids := func(column int) []uint32 { return rg.ids[column-numInt64Columns] }
	user, document, server, exe, calText, sourceFile := ids(colUser), ids(colDocument), ids(colServer), ids(colExeVersion), ids(colCALType), ids(colSourceFile)
	machine, clientType, calClass := ids(colMachine), ids(colClientType), ids(colCALClass)
	start, end, duration, count, line := rg.ints[colStart], rg.ints[colEnd], rg.ints[colDuration], rg.ints[colUsageCount], rg.ints[colSourceLine]
	for i := range rg.rows {
		s := &r.session
		*s = Session{Start: start[i], End: end[i], DurationMS: duration[i],
			User: user[i], Document: document[i], Server: server[i],
			ExeVersion: exe[i], CALText: calText[i], SourceFile: sourceFile[i], SourceLine: line[i],
			CAL: r.calClass(calClass[i]), UsageCount: count[i]}
		if e.needsClient(s.CAL) {
			s.Client = r.client(machine[i], clientType[i])
		}
		if e.NeedsOrder(s.CAL) {
			r.ordered = append(r.ordered, *s)
		} else {
			r.unordered = append(r.unordered, *s)
		}
	}
	r.unordered, r.byUser = groupByUser(r.unordered, r.byUser, e.Users.Len())
	for i := range r.byUser {
		e.Add(&r.byUser[i])
	}
	r.unordered = r.unordered[:0]
}

// calClass folds a cal_class text id, each text once.
func (r *rowGroupReplayer) calClass(text uint32) parse.CALClass {
	for int(text) >= len(r.classOf) {
		r.classOf = append(r.classOf, -1)
	}
	if r.classOf[text] < 0 {
		r.classOf[text] = int8(calClassOf(r.texts.Name(text)))
	}
	return parse.CALClass(r.classOf[text])
}

// groupByUser returns the sessions grouped by user (a counting sort into
// out): the order-insensitive rules then touch each user's licences once
// per row group rather than once per session, far fewer cache misses.
func groupByUser(sessions, out []Session, users int) (spare, grouped []Session) {
	starts := make([]int32, users+1)
	for i := range sessions {
		starts[sessions[i].User+1]++
	}
	for u := 1; u <= users; u++ {
		starts[u] += starts[u-1]
	}
	out = slices.Grow(out[:0], len(sessions))[:len(sessions)]
	for i := range sessions {
		u := sessions[i].User
		out[starts[u]] = sessions[i]
		starts[u]++
	}
	return sessions, out
}

func (r *rowGroupReplayer) client(machine, clientType uint32) uint32 {
	if int(machine) < len(r.clientOf) && r.clientOf[machine].clientType == clientType+1 {
		return r.clientOf[machine].id
	}
	key := uint64(machine)<<32 | uint64(clientType)
	id, ok := r.clients[key]
	if !ok {
		id = r.e.Clients.ID(ClientKey(r.texts.Name(machine), r.texts.Name(clientType)))
		r.clients[key] = id
	}
	for int(machine) >= len(r.clientOf) {
		r.clientOf = append(r.clientOf, cachedClient{})
	}
	r.clientOf[machine] = cachedClient{clientType + 1, id}
	return id
}
