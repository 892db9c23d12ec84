package metering

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
