package metering

import (
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// rowGroupReplayer interns decoded row groups into the engine's
// dictionaries and replays their sessions. It runs on the engine's
// goroutine.
type rowGroupReplayer struct {
	e       *Engine
	texts   *Dict             // machine ids, client types and cal_class texts
	clients map[uint64]uint32 // machine text id << 32 | type text id → Clients id
	// clientOf caches, per machine text id, 1 + the last client type text
	// id seen with it and their Clients id: a machine rarely changes type.
	clientOf []cachedClient
	classOf  []int8 // per text id: its CAL class, -1 until looked up
	columns  [numColumns]lazyColumn
	ordered  []Session // the month's sessions that need end order
	// unordered and byUser are a row group's other sessions, as read and
	// grouped by user.
	unordered, byUser []Session
	session           Session // the row being replayed (a field, not allocated per row)
}

type cachedClient struct{ clientType, id uint32 }

func newRowGroupReplayer(e *Engine) *rowGroupReplayer {
	r := &rowGroupReplayer{e: e, texts: newDict(), clients: map[uint64]uint32{}}
	for c := numInt64Columns; c < numColumns; c++ {
		r.columns[c].dict = r.dictionaryOf(c)
	}
	return r
}

// dictionaryOf is the dictionary a string column is interned in (nil for
// the user spellings, which are not interned).
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
		return nil
	}
	return r.texts
}

// lazyColumn interns one row group's string column on demand: a dictionary
// entry costs one lookup the first time a row uses it, and entries no rule
// asks for (most client machines in reconstruct mode) cost nothing.
type lazyColumn struct {
	strs *decodedStrings
	dict *Dict
	ids  []uint32 // per dictionary entry: 1 + its id, 0 until looked up
	null uint32
}

func (c *lazyColumn) reset(strs *decodedStrings) {
	c.strs = strs
	c.ids = slices.Grow(c.ids[:0], len(strs.ends))[:len(strs.ends)]
	clear(c.ids)
	if c.dict != nil {
		c.null = c.dict.ID("")
	}
}

func (c *lazyColumn) id(row int) uint32 {
	index := c.strs.index[row]
	if index < 0 {
		return c.null
	}
	if c.ids[index] == 0 {
		c.ids[index] = 1 + c.dict.IDBytes(c.strs.text(int(index)))
	}
	return c.ids[index] - 1
}

// spelling returns the row's text, or nil; the first time an entry is
// asked for only (later rows repeat a spelling already recorded).
func (c *lazyColumn) spelling(row int) []byte {
	index := c.strs.index[row]
	if index < 0 || c.ids[index] != 0 {
		return nil
	}
	c.ids[index] = 1
	return c.strs.text(int(index))
}

func (r *rowGroupReplayer) replay(rg *decodedRowGroup) {
	e := r.e
	for c := numInt64Columns; c < numColumns; c++ {
		r.columns[c].reset(&rg.strs[c-numInt64Columns])
	}
	col := &r.columns
	start, end, duration, count, line := rg.ints[colStart], rg.ints[colEnd], rg.ints[colDuration], rg.ints[colUsageCount], rg.ints[colSourceLine]
	for i := range rg.rows {
		u := col[colUser].id(i)
		spelling := col[colAuthenticated].spelling(i) // the first non-empty of the two
		if col[colAuthenticated].strs.index[i] < 0 {
			spelling = col[colIdentifying].spelling(i)
		}
		if spelling != nil {
			e.setUserDisplayBytes(u, spelling)
		}
		s := &r.session
		*s = Session{Start: start[i], End: end[i], DurationMS: duration[i],
			User: u, Document: col[colDocument].id(i), Server: col[colServer].id(i),
			ExeVersion: col[colExeVersion].id(i), CALText: col[colCALType].id(i), SourceFile: col[colSourceFile].id(i), SourceLine: line[i],
			CAL: r.calClass(col[colCALClass].id(i)), UsageCount: count[i]}
		if e.needsClient(s.CAL) {
			s.Client = r.client(col[colMachine].id(i), col[colClientType].id(i))
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
