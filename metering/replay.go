package metering

import (
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// rowGroupReplayer interns decoded row groups into the engine's
// dictionaries and replays their sessions. It runs on the engine's
// goroutine.
type rowGroupReplayer struct {
	e        *Engine
	displays *Dict             // authenticated/identifying user spellings; id 0 is none
	texts    *Dict             // machine ids and client types
	clients  map[uint64]uint32 // machine text id << 32 | type text id → Clients id
	// clientOf caches, per machine text id, 1 + the last client type text
	// id seen with it and their Clients id: a machine rarely changes type.
	clientOf []cachedClient
	ids      [numColumns - numInt64Columns][]uint32 // one row group's interned strings
	mapping  []uint32                               // one dictionary's ids
	ordered  []Session                              // the month's sessions that need end order
	// unordered and byUser are a row group's other sessions, as read and
	// grouped by user.
	unordered, byUser []Session
	session           Session // the row being replayed (a field, not allocated per row)
}

type cachedClient struct{ clientType, id uint32 }

func newRowGroupReplayer(e *Engine) *rowGroupReplayer {
	r := &rowGroupReplayer{e: e, displays: newDict(), texts: newDict(), clients: map[uint64]uint32{}}
	r.displays.ID("")
	return r
}

// dictionaryOf is the dictionary a string column is interned in.
func (r *rowGroupReplayer) dictionaryOf(column int) *Dict {
	e := r.e
	switch column {
	case colUser:
		return e.Users
	case colDocument:
		return e.Documents
	case colServer:
		return e.Servers
	case colExeVersion:
		return e.ExeVersions
	case colCALType:
		return e.CALTexts
	case colSourceFile:
		return e.SourceFiles
	case colAuthenticated, colIdentifying:
		return r.displays
	}
	return r.texts // machine, client type, cal_class
}

// intern maps a column's dictionary to ids once, then every row.
func (r *rowGroupReplayer) intern(column int, s *decodedStrings) []uint32 {
	dict := r.dictionaryOf(column)
	r.mapping = r.mapping[:0]
	for _, text := range s.dict {
		r.mapping = append(r.mapping, dict.ID(text))
	}
	null := dict.ID("")
	ids := r.ids[column-numInt64Columns][:0]
	for _, index := range s.index {
		if index < 0 {
			ids = append(ids, null)
		} else {
			ids = append(ids, r.mapping[index])
		}
	}
	r.ids[column-numInt64Columns] = ids
	return ids
}

func (r *rowGroupReplayer) replay(rg *decodedRowGroup) {
	e := r.e
	var ids [numColumns][]uint32
	for c := numInt64Columns; c < numColumns; c++ {
		ids[c] = r.intern(c, &rg.strs[c-numInt64Columns])
	}
	classes := make([]parse.CALClass, r.texts.Len())
	for id := range classes {
		classes[id] = calClassOf(r.texts.Name(uint32(id)))
	}
	start, end, duration, count, line := rg.ints[colStart], rg.ints[colEnd], rg.ints[colDuration], rg.ints[colUsageCount], rg.ints[colSourceLine]
	var lastDisplay [1024]uint32 // spelling last given per user (hashed), to skip repeats
	for i := range rg.rows {
		u := ids[colUser][i]
		display := ids[colAuthenticated][i] // the first non-empty spelling; id 0 is none
		if display == 0 {
			display = ids[colIdentifying][i]
		}
		if display != 0 && display != lastDisplay[u&1023] {
			lastDisplay[u&1023] = display
			e.SetUserDisplay(u, r.displays.Name(display))
		}
		s := &r.session
		*s = Session{Start: start[i], End: end[i], DurationMS: duration[i],
			User: u, Document: ids[colDocument][i], Server: ids[colServer][i], Client: r.client(ids[colMachine][i], ids[colClientType][i]),
			ExeVersion: ids[colExeVersion][i], CALText: ids[colCALType][i], SourceFile: ids[colSourceFile][i], SourceLine: line[i],
			CAL: classes[ids[colCALClass][i]], UsageCount: count[i]}
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
