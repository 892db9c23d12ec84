package metering

import (
	"fmt"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// Mode is how the engine decides which licence a session used: the mode
// the state records (dataset.StateInfo.Mode).
type Mode = dataset.Mode

const (
	// Reconstruct trusts the CAL Type each line records.
	Reconstruct = dataset.Reconstruct
	// Simulate ignores it and assigns by the server's order against the licence.
	Simulate = dataset.Simulate
)

// Config is what a replay is computed against.
type Config struct {
	Mode Mode
	// AsOf is the time the state is rebuilt for: only sessions that ended at
	// or before it count, and idle times and quarantines are measured to it.
	AsOf time.Time
	// License is the licence file; nil rebuilds from the logs alone, with
	// pool sizes unknown. Simulate mode needs one.
	License *License
	// Horizon is the longest session (session_end − session_start, ms) in the
	// input: sessions arrive in end order and are re-sorted by start through
	// a buffer that holds this much time. A longer session is counted as a
	// late_session anomaly.
	Horizon int64
	// writeOnly: the state is made to be written (Compute), so the capacity
	// table is left for WriteTables to write rather than made into rows.
	writeOnly bool
}

// Engine replays sessions through the licensing rules. Sessions carry ids
// of its Dicts: let Dataset.Replay drive the engine, or Add them in the
// order needsOrder asks for, then Finish.
type Engine struct {
	Dicts
	cfg         Config
	asOf        int64
	pools       []*pool
	serverPool  []int32          // per server id: 1 + pool index; 0 not resolved yet
	excluded    []int8           // per user id: 0 unknown, 1 counted, 2 excluded
	byStart     minHeap[Session] // sessions waiting to be taken in start order
	taking      Session          // the one being taken (a field, so it is not allocated per session)
	released    int64            // every session starting before this has been taken
	counts      counts
	unknownCALs map[[2]uint32]*AnomalyRow // pool × raw CAL Type
	outsideEra  map[[2]uint32]*AnomalyRow // pool × class
	late        map[*pool]*AnomalyRow
	withoutID   map[clientDay]*withoutIDCount // client_without_id, per pool and day
	clientKeyed []int8                        // per client id: 0 unknown, 1 by machine id, 2 keyedWithoutID
	policyDay   int32
	identified  []int8 // simulate, per user id: 0 unknown, 1 identified, 2 anonymous
	ranks       nameRanks
}

type counts struct {
	sessions, excluded, later, agree, differ int64
}

// NewEngine prepares a replay.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Mode == Simulate && cfg.License == nil {
		return nil, fmt.Errorf("simulate mode needs a licence file")
	}
	e := &Engine{Dicts: newDicts(), cfg: cfg, asOf: cfg.AsOf.UnixMilli(), released: minTime, policyDay: -1 << 30,
		byStart:     minHeap[Session]{less: startsBefore},
		unknownCALs: map[[2]uint32]*AnomalyRow{}, outsideEra: map[[2]uint32]*AnomalyRow{}, late: map[*pool]*AnomalyRow{},
		withoutID: map[clientDay]*withoutIDCount{}}
	lic := cfg.License
	if lic == nil {
		e.pools = []*pool{newPool(DefaultPool, nil, nil, false, false, e.Documents)}
		return e, nil
	}
	simulate := cfg.Mode == Simulate
	e.pools = append(e.pools, newPool(DefaultPool, lic.CAL, lic.SLK, true, simulate, e.Documents))
	for _, g := range lic.Groups {
		e.pools = append(e.pools, newPool(g.Name, g.CAL, g.SLK, true, simulate, e.Documents))
	}
	for _, p := range e.pools {
		p.assign(e.Users)
	}
	return e, nil
}

const minTime = -1 << 62

// needsOrder reports whether sessions of a logged class must reach Add in
// session_end order. In reconstruct mode only session CALs (re-sorted by
// start for the concurrency sweep) and Analyzer Capacity (the moment a
// month's budget ran out) depend on order; every other rule is a sum, a
// minimum or a maximum, so those sessions may come in any order, interleaved
// with the ordered ones. In simulate mode every session needs order.
func needsOrder(m Mode, c parse.CALClass) bool {
	return m == Simulate || c == parse.CALSession || c == parse.CALAnalyzerCapacity
}

// needsClient reports whether a session's client instance matters: to
// session CALs, and in simulate mode to tell anonymous users.
func needsClient(m Mode, c parse.CALClass) bool {
	return m == Simulate || c == parse.CALSession
}

// Add replays one session; see needsOrder for the order sessions must
// come in.
func (e *Engine) Add(s *Session) {
	if s.Implausible != plausible {
		e.setAside(s)
		return
	}
	if s.End > e.asOf {
		e.counts.later++
		return
	}
	if e.isExcluded(s.User) {
		e.counts.excluded++
		return
	}
	e.counts.sessions++
	if e.cfg.Mode == Reconstruct {
		e.reconstruct(s)
		if s.CAL != parse.CALSession {
			return
		}
	}
	if s.Start < e.released {
		e.lateSession(s)
		e.takeInStartOrder(s)
	} else {
		e.byStart.push(*s)
	}
	e.releaseUntil(s.End - e.cfg.Horizon)
}

// releaseUntil takes, in start order, the waiting sessions that start before
// t: no session still to come can start earlier.
func (e *Engine) releaseUntil(t int64) {
	for e.byStart.len() > 0 && e.byStart.top().Start < t {
		e.taking = e.byStart.pop()
		e.takeInStartOrder(&e.taking)
	}
	e.released = max(e.released, t)
}

// closeMonth tells the engine that no session still to come ends in month
// m or before (the dataset is partitioned by the month of session_end), so
// that it can seal the capacity rows of the months no session can book
// into any more: m in reconstruct mode, which books capacity as sessions
// come; in simulate mode, which books it in start order, the months before
// that of the earliest session still waiting.
func (e *Engine) closeMonth(m month) {
	through := m
	if e.cfg.Mode == Simulate && e.byStart.len() > 0 {
		through = min(through, monthOf(e.byStart.top().Start)-1)
	}
	for _, p := range e.pools {
		e.sealCapacity(p, through)
	}
}

func (e *Engine) takeInStartOrder(s *Session) {
	if e.cfg.Mode == Simulate {
		e.simulate(s)
		return
	}
	e.holdSessionCAL(e.poolOf(s.Server), s)
}

func (e *Engine) lateSession(s *Session) {
	p := e.poolOf(s.Server)
	a := e.late[p]
	if a == nil {
		at := s.Start
		a = &AnomalyRow{Kind: AnomalyLateSession, At: &at, UserKey: e.Users.Name(s.User), User: e.UserDisplay(s.User),
			Server: e.Servers.Name(s.Server), Limit: e.cfg.Horizon, SourceFile: e.SourceFiles.Name(s.SourceFile), SourceLine: s.SourceLine,
			Detail: "session longer than the reorder horizon: start-order rules took it late"}
		e.late[p] = a
	}
	a.Observed++
}

// poolOf returns the pool a server belongs to, resolving it on first sight.
func (e *Engine) poolOf(server uint32) *pool {
	e.serverPool = growTo(e.serverPool, server, 0)
	if e.serverPool[server] == 0 {
		e.serverPool[server] = int32(e.resolvePool(e.Servers.Name(server))) + 1
	}
	return e.pools[e.serverPool[server]-1]
}

func (e *Engine) resolvePool(server string) int {
	lic := e.cfg.License
	if lic == nil {
		return 0
	}
	for i, g := range lic.Groups {
		for _, name := range g.Servers {
			if strings.EqualFold(name, server) {
				return i + 1
			}
		}
	}
	listed := len(lic.Servers) == 0
	for _, name := range lic.Servers {
		listed = listed || strings.EqualFold(name, server)
	}
	if !listed {
		e.pools[0].anomalies = append(e.pools[0].anomalies, AnomalyRow{Kind: AnomalyUnlistedServer, Server: server,
			Detail: "server not listed in the licence file: counted in the top-level licence"})
	}
	return 0
}

// startsBefore orders waiting sessions by start, then end and source line,
// so that the replay does not depend on the input's order among equals.
func startsBefore(a, b *Session) bool {
	switch {
	case a.Start != b.Start:
		return a.Start < b.Start
	case a.End != b.End:
		return a.End < b.End
	case a.SourceFile != b.SourceFile:
		return a.SourceFile < b.SourceFile
	}
	return a.SourceLine < b.SourceLine
}
