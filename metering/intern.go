package metering

import (
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// The engine's dictionaries the dataset reader interns into, by index.
const (
	dictUsers = iota
	dictDocuments
	dictServers
	dictExeVersions
	dictCALTexts
	dictSourceFiles
	dictClients
	numDicts

	// dictTexts is the reader's own dictionary of client machines, client
	// types and cal_class texts, not handed over.
	dictTexts = numDicts
)

// dictionaryOf is the dictionary a string column is interned in, -1 for the
// user spellings and the implausible reasons (kept as texts, not interned).
func dictionaryOf(column int) int {
	switch column {
	case colUser:
		return dictUsers
	case colDocument:
		return dictDocuments
	case colServer:
		return dictServers
	case colExeVersion:
		return dictExeVersions
	case colCALType:
		return dictCALTexts
	case colSourceFile:
		return dictSourceFiles
	case colAuthenticated, colIdentifying, colDisplay, colImplausible:
		return -1
	}
	return dictTexts
}

// interner interns row groups on the decoding goroutine, into copies of the
// engine's dictionaries: it hands each row group over with the names it
// added, which the engine appends to its own dictionaries in the same
// order, so that both assign the same ids without sharing memory.
type interner struct {
	mode    Mode
	dicts   [numDicts + 1]*Dict // the engine's (cloned), then dictTexts
	shipped [numDicts]int       // names already handed over
	display []string            // per user: the spelling kept (first in sort order)
	looked  []bool              // per user: spellings read for a row group with the user
	mapping []uint32            // one dictionary's ids
	seen    []bool              // one spelling dictionary's entries already looked at
	clients map[uint64]uint32   // machine text id << 32 | type text id → Clients id
	// clientOf caches, per machine text id, 1 + the last client type text
	// id seen with it and their Clients id: a machine rarely changes type.
	clientOf []cachedClient
	classOf  []int8 // per text id: its CAL class, -1 until looked up
	// machineIDs and addressIDs are, per machine (client address)
	// dictionary entry of the row group, 1 + its text id, 0 until looked up.
	machineIDs, addressIDs []uint32
	withoutID              map[[3]uint32]uint32 // user, address text, type text → Clients id; see ClientKey
	reasons                []Implausibility     // per implausible dictionary entry of the row group
	session                Session              // the row being built (a field, not allocated per row)
	byUser                 []Session            // scratch of groupByUser
}

type cachedClient struct{ clientType, id uint32 }

// newInterner copies the engine's dictionaries it interns into.
func newInterner(e *Engine) *interner {
	in := &interner{mode: e.cfg.Mode, clients: map[uint64]uint32{}, withoutID: map[[3]uint32]uint32{}}
	for i, d := range e.readerDicts() {
		in.dicts[i] = d.clone()
		in.shipped[i] = d.Len()
	}
	in.dicts[dictTexts] = newDict()
	return in
}

// internColumn interns a decoded string column into dictionary d, each
// dictionary entry once.
func (in *interner) internColumn(rg *decodedRowGroup, c, d int) {
	s, dict := &rg.strs[c-numInt64Columns], in.dicts[d]
	in.mapping = in.mapping[:0]
	for i := range s.ends {
		in.mapping = append(in.mapping, dict.IDBytes(s.text(i)))
	}
	null := dict.ID("")
	ids := rg.ids[c-numInt64Columns][:0]
	for _, index := range s.index {
		if index < 0 {
			ids = append(ids, null)
		} else {
			ids = append(ids, in.mapping[index])
		}
	}
	rg.ids[c-numInt64Columns] = ids
}

// handOver gives the row group the names interned since the previous one.
func (in *interner) handOver(rg *decodedRowGroup) {
	for d, dict := range in.dicts[:numDicts] {
		rg.names[d] = append(rg.names[d][:0], dict.names[in.shipped[d]:]...)
		in.shipped[d] = dict.Len()
	}
}

// lacksSpelling reports whether one of the users has not been looked up
// yet: only then are a row group's spelling columns read, so a user's
// spelling comes from the first row group the user appears in. (A user
// keyed on a spelling has it in every row; an anonymous one in none.)
func (in *interner) lacksSpelling(users []uint32) bool {
	for _, u := range users {
		if int(u) >= len(in.looked) || !in.looked[u] {
			return true
		}
	}
	return false
}

// lookedAt marks that user's spellings have been read.
func (in *interner) lookedAt(user uint32) {
	in.looked = growTo(in.looked, user, false)
	in.looked[user] = true
}

// offerSpelling keeps a spelling of user if it is the first in sort order
// seen, and then hands it over with the row group.
func (in *interner) offerSpelling(rg *decodedRowGroup, user uint32, spelling []byte) {
	in.display = growTo(in.display, user, "")
	if len(spelling) > 0 && (in.display[user] == "" || string(spelling) < in.display[user]) {
		in.display[user] = string(spelling)
		rg.spellings = append(rg.spellings, userSpelling{user, in.display[user]})
	}
}

// sessions builds the row group's sessions: those whose rules need time
// order in rg.ordered, the others grouped by user in rg.grouped.
func (in *interner) sessions(rg *decodedRowGroup) {
	ids := func(column int) []uint32 { return rg.ids[column-numInt64Columns] }
	user, document, server, exe, calText, sourceFile := ids(colUser), ids(colDocument), ids(colServer), ids(colExeVersion), ids(colCALType), ids(colSourceFile)
	clientType, calClass := ids(colClientType), ids(colCALClass)
	machines, addresses := &rg.strs[colMachine-numInt64Columns], &rg.strs[colAddress-numInt64Columns]
	in.machineIDs = slices.Grow(in.machineIDs[:0], len(machines.ends))[:len(machines.ends)]
	clear(in.machineIDs)
	in.addressIDs = slices.Grow(in.addressIDs[:0], len(addresses.ends))[:len(addresses.ends)]
	clear(in.addressIDs)
	noMachine := in.dicts[dictTexts].ID("")
	start, end, duration, count, line := rg.ints[colStart], rg.ints[colEnd], rg.ints[colDuration], rg.ints[colUsageCount], rg.ints[colSourceLine]
	implausible := &rg.strs[colImplausible-numInt64Columns]
	in.reasons = in.reasons[:0]
	for entry := range implausible.ends {
		in.reasons = append(in.reasons, implausibilityOf(string(implausible.text(entry))))
	}
	rg.ordered, rg.grouped = rg.ordered[:0], rg.grouped[:0]
	for i := range rg.rows {
		s := &in.session
		*s = Session{Start: start[i], End: end[i], DurationMS: duration[i],
			User: user[i], Document: document[i], Server: server[i],
			ExeVersion: exe[i], CALText: calText[i], SourceFile: sourceFile[i], SourceLine: line[i],
			CAL: in.calClass(calClass[i]), UsageCount: count[i]}
		if len(implausible.index) > 0 && implausible.index[i] >= 0 {
			s.Implausible = in.reasons[implausible.index[i]]
		}
		if needsClient(in.mode, s.CAL) {
			if machine := in.text(machines, in.machineIDs, i); machine != noMachine {
				s.Client = in.client(machine, clientType[i])
			} else {
				s.Client = in.clientWithoutID(user[i], in.text(addresses, in.addressIDs, i), clientType[i])
			}
		}
		if needsOrder(in.mode, s.CAL) {
			rg.ordered = append(rg.ordered, *s)
		} else {
			rg.grouped = append(rg.grouped, *s)
		}
	}
	in.byUser, rg.grouped = groupByUser(rg.grouped, in.byUser, in.dicts[dictUsers].Len())
}

// calClass folds a cal_class text id, each text once.
func (in *interner) calClass(text uint32) parse.CALClass {
	in.classOf = growTo(in.classOf, text, -1)
	if in.classOf[text] < 0 {
		in.classOf[text] = int8(calClassOf(in.dicts[dictTexts].Name(text)))
	}
	return parse.CALClass(in.classOf[text])
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

// text interns row i's client machine or client address (column, with ids
// its row group's cache): only the rows that need a client (session CALs,
// every row in simulate mode) pay for a lookup, once per dictionary entry.
func (in *interner) text(column *decodedStrings, ids []uint32, i int) uint32 {
	index := column.index[i]
	if index < 0 {
		return in.dicts[dictTexts].ID("")
	}
	if ids[index] == 0 {
		ids[index] = 1 + in.dicts[dictTexts].IDBytes(column.text(int(index)))
	}
	return ids[index] - 1
}

// client is the Clients id of a machine and client type.
func (in *interner) client(machine, clientType uint32) uint32 {
	if int(machine) < len(in.clientOf) && in.clientOf[machine].clientType == clientType+1 {
		return in.clientOf[machine].id
	}
	key := uint64(machine)<<32 | uint64(clientType)
	id, ok := in.clients[key]
	if !ok {
		texts := in.dicts[dictTexts]
		id = in.dicts[dictClients].ID(ClientKey(texts.Name(machine), texts.Name(clientType), "", ""))
		in.clients[key] = id
	}
	in.clientOf = growTo(in.clientOf, machine, cachedClient{})
	in.clientOf[machine] = cachedClient{clientType + 1, id}
	return id
}

// calClasses maps the dataset's cal_class text to the class.
var calClasses = func() map[string]parse.CALClass {
	m := map[string]parse.CALClass{}
	for _, c := range parse.CALClasses() {
		m[c.String()] = c
	}
	return m
}()

func calClassOf(text string) parse.CALClass {
	if c, ok := calClasses[text]; ok {
		return c
	}
	return parse.CALUnknown
}
