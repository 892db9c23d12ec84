package metering

import (
	"fmt"
	"slices"
	"strings"
)

// ClientKey is the Clients text of a client instance: the session CAL is held
// per Client Machine Identification and client type. A line whose Client
// Machine Identification is empty (or absent) names no instance: keying it
// on the empty text would merge every such line of every user into one
// client and understate the concurrency peak, so it is keyed on the user,
// the client address and the client type instead (on the user and the type
// where the address is empty too). Such keys start with the empty machine
// id, so a key's machine part is still the logged one, and they are counted
// as client_without_id anomalies (see keyedWithoutID).
//
// This is the one rule for the key: the dataset reader, the in-memory rows
// and both modes use it.
func ClientKey(machineID, clientType, userKey, clientAddress string) string {
	if machineID != "" {
		return machineID + "\x00" + clientType
	}
	return "\x00" + clientType + "\x00" + userKey + "\x00" + clientAddress
}

// keyedWithoutID reports whether a ClientKey was keyed on the fallback:
// its line had no Client Machine Identification.
func keyedWithoutID(key string) bool { return strings.HasPrefix(key, "\x00") }

// holdSessionCAL books a session-CAL interval of s in its pool, in start
// order, and counts the lines keyed on the fallback client key.
func (e *Engine) holdSessionCAL(p *pool, s *Session) {
	p.sessionCALs.add(s.Client, s.Start, s.End)
	if keyedWithoutID(e.Clients.Name(s.Client)) {
		e.countClientWithoutID(p, s)
	}
}

// clientDay is a pool (1 + index, as serverPool) and a UTC day.
type clientDay struct {
	pool int32
	day  int32
}

// withoutIDCount is one pool and day's client_without_id anomaly, with the
// distinct fallback clients seen that day.
type withoutIDCount struct {
	row     AnomalyRow
	clients map[uint32]struct{}
}

// countClientWithoutID keeps one client_without_id anomaly per pool and UTC
// day the session started on (the day its hold begins), pointing at the
// earliest such line (by start, then line), with observed = the lines of
// that day keyed on (user, client address, client type).
func (e *Engine) countClientWithoutID(p *pool, s *Session) {
	day := dayOf(s.Start)
	key := clientDay{e.serverPool[s.Server], day}
	c := e.withoutID[key]
	if c == nil {
		c = &withoutIDCount{clients: map[uint32]struct{}{}}
		e.withoutID[key] = c
	}
	if c.row.At == nil || s.Start < *c.row.At || (s.Start == *c.row.At && s.SourceLine < c.row.SourceLine) {
		earliest := e.sessionAnomaly(s)
		at := s.Start
		earliest.At, earliest.Day = &at, dayString(day)
		earliest.Pool, earliest.Kind, earliest.CALType = p.name, AnomalyClientWithoutID, s.CAL.String()
		earliest.Observed = c.row.Observed
		c.row = earliest
	}
	c.row.Observed++
	c.clients[s.Client] = struct{}{}
}

// finishClientsWithoutID adds the client_without_id rows of the days before
// the as-of time, each with how many of the day's clients (the concurrency
// row's) rest on the fallback key.
func (e *Engine) finishClientsWithoutID(st *State) {
	clients := map[[2]string]int64{}
	for _, row := range st.Concurrency {
		clients[[2]string{row.Pool, row.Day}] = row.Clients
	}
	for key, c := range e.withoutID {
		if int64(key.day)*dayMS >= e.asOf {
			continue
		}
		row := c.row
		row.Detail = fmt.Sprintf("%d session-CAL lines without a Client Machine Identification, keyed on user, client address and client type: %d of the day's %d clients",
			row.Observed, len(c.clients), clients[[2]string{row.Pool, row.Day}])
		st.Anomalies = append(st.Anomalies, row)
	}
}

// clientWithoutID is the Clients id of a line without a Client Machine
// Identification, keyed by ClientKey on its user, client address and client
// type.
func (in *interner) clientWithoutID(user, address, clientType uint32) uint32 {
	key := [3]uint32{user, address, clientType}
	id, ok := in.withoutID[key]
	if !ok {
		texts := in.dicts[dictTexts]
		id = in.dicts[dictClients].ID(ClientKey("", texts.Name(clientType), in.dicts[dictUsers].Name(user), texts.Name(address)))
		in.withoutID[key] = id
	}
	return id
}

// hasEmpty reports whether a decoded string column has a null or empty
// value: only then does a row group's client_address column need reading.
func (s *decodedStrings) hasEmpty() bool {
	for i := range s.ends {
		if len(s.text(i)) == 0 {
			return true
		}
	}
	return slices.Contains(s.index, -1)
}
