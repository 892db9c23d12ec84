package metering

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// sessionCALMinimumHold is the spec's 15-minute minimum hold of a session CAL.
const sessionCALMinimumHold = 15 * minuteMS

// sessionCALSweep counts session CALs held at once. It takes intervals in
// order of start; each client instance holds one CAL over the union of its
// intervals [start, max(end, start + 15 min)], overlapping or touching ones
// merged. It keeps one end time per client, so memory grows with clients.
// It records the peak of every UTC day on which a CAL was held.
type sessionCALSweep struct {
	holdUntil []int64            // per client id: end of its current hold; released when < 0
	ends      minHeap[clientEnd] // current holds' ends, with stale entries skipped
	active    int64              // clients holding now
	now       int64              // start of the latest interval taken

	day     int32 // day being counted
	peak    int64
	peakAt  int64
	clients int64   // distinct clients holding during day
	seenDay []int32 // per client: 1 + the last day it was counted in clients
	rows    []ConcurrencyRow
	open    bool // a day is being counted
}

type clientEnd struct {
	end    int64
	client uint32
}

func newSessionCALSweep() sessionCALSweep {
	return sessionCALSweep{ends: minHeap[clientEnd]{less: func(a, b *clientEnd) bool { return a.end < b.end }}}
}

// holding reports whether client holds a CAL at time t (an interval
// starting at t would merge with its hold).
func (w *sessionCALSweep) holding(client uint32, t int64) bool {
	return int(client) < len(w.holdUntil) && w.holdUntil[client] >= t
}

// add takes the interval of one session of client; start must not be before
// the previous interval's start (a late one is counted from the sweep's time).
func (w *sessionCALSweep) add(client uint32, start, end int64) {
	start = max(start, w.now)
	end = max(end, start+sessionCALMinimumHold)
	w.holdUntil = growTo(w.holdUntil, client, -1)
	w.seenDay = growTo(w.seenDay, client, 0)
	merging := w.holding(client, start)
	w.advance(start)
	if merging && w.holdUntil[client] >= 0 { // extends the client's current hold
		if end > w.holdUntil[client] {
			w.holdUntil[client] = end
			w.ends.push(clientEnd{end, client})
		}
		return
	}
	// A new hold; or a touching one that advance just released, taken again.
	w.holdUntil[client] = end
	w.ends.push(clientEnd{end, client})
	w.active++
	w.countClient(client)
	if w.active > w.peak {
		w.peak, w.peakAt = w.active, start
	}
}

// advance moves the sweep to time t: holds that ended by t are released
// (intervals of different clients that only touch do not overlap), and every
// day boundary passed closes that day's row.
func (w *sessionCALSweep) advance(t int64) {
	for {
		if !w.open {
			if w.active == 0 {
				w.openDay(dayOf(t))
				break
			}
		}
		boundary := int64(w.day+1) * dayMS
		if t < boundary {
			break
		}
		w.release(boundary) // a hold ending at midnight is not held the next day
		w.closeDay()
		if w.active == 0 {
			w.openDay(dayOf(t))
			break
		}
		w.openDay(w.day + 1)
	}
	w.release(t)
	w.now = t
}

// release drops holds that end at or before t.
func (w *sessionCALSweep) release(t int64) {
	for w.ends.len() > 0 && w.ends.top().end <= t {
		e := w.ends.pop()
		if w.holdUntil[e.client] == e.end {
			w.holdUntil[e.client] = -1
			w.active--
		}
	}
}

// openDay starts counting day with the holds carried over from before.
func (w *sessionCALSweep) openDay(day int32) {
	w.day, w.open = day, true
	w.peak, w.peakAt, w.clients = w.active, int64(day)*dayMS, 0
	for _, e := range w.ends.items {
		if w.holdUntil[e.client] == e.end {
			w.countClient(e.client)
		}
	}
}

func (w *sessionCALSweep) countClient(client uint32) {
	if w.seenDay[client] != w.day+1 {
		w.seenDay[client] = w.day + 1
		w.clients++
	}
}

func (w *sessionCALSweep) closeDay() {
	if w.open && w.peak > 0 {
		w.rows = append(w.rows, ConcurrencyRow{Day: dayString(w.day), Peak: w.peak, PeakAt: w.peakAt, Clients: w.clients})
	}
	w.open = false
}

// finish releases every hold and closes the days they span.
func (w *sessionCALSweep) finish() []ConcurrencyRow {
	for w.active > 0 {
		w.advance(int64(w.day+1) * dayMS)
	}
	w.closeDay()
	return w.rows
}

// canHold reports whether client could hold a session CAL at time t with
// licensed CALs in the pool: it holds one already, or one is free.
func (w *sessionCALSweep) canHold(client uint32, t int64, licensed int64) bool {
	if w.holding(client, t) {
		return true
	}
	if t > w.now {
		w.advance(t)
	}
	return w.active < licensed
}

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
	if e.keyedWithoutID(s.Client) {
		e.countClientWithoutID(p, s)
	}
}

// keyedWithoutID is keyedWithoutID of a client's key, looked at once per
// client rather than per session (the key's text is rarely in cache).
func (e *Engine) keyedWithoutID(client uint32) bool {
	e.clientKeyed = growTo(e.clientKeyed, client, 0)
	if e.clientKeyed[client] == 0 {
		e.clientKeyed[client] = 1
		if keyedWithoutID(e.Clients.Name(client)) {
			e.clientKeyed[client] = 2
		}
	}
	return e.clientKeyed[client] == 2
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

// finishSessionCALs emits the pool's concurrency rows of the days before the
// as-of time, with the peaks above the licensed session CALs as anomalies.
func (e *Engine) finishSessionCALs(st *State, p *pool) {
	sessionCALs, known := p.sessionCALCount()
	for _, row := range p.sessionCALs.finish() {
		if day, _ := time.Parse(time.DateOnly, row.Day); day.UnixMilli() >= e.asOf {
			continue // a hold running past the as-of time: that day has not begun in this state
		}
		row.Pool = p.name
		if known {
			row.Licensed = &sessionCALs
			if row.Peak > sessionCALs {
				at := row.PeakAt
				st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyPoolExceeded, CALType: "session",
					Day: row.Day, At: &at, Observed: row.Peak, Limit: sessionCALs, Detail: "session CALs held at once"})
			}
		}
		st.Concurrency = append(st.Concurrency, row)
	}
}
