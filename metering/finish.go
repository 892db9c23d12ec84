package metering

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
)

// State is what a replay rebuilt: the rows of every state table.
type State struct {
	Info        dataset.StateInfo
	Holders     []HolderRow
	Capacity    []CapacityRow
	Months      []MonthRow
	Concurrency []ConcurrencyRow
	Usage       []UsageRow
	Anomalies   []AnomalyRow
	Denials     []DenialRow
}

// Finish takes the sessions still waiting for start order and returns the
// state as of the configured time. The engine is spent afterwards.
func (e *Engine) Finish() *State {
	e.releaseUntil(1<<62 - 1)
	st := &State{Info: dataset.StateInfo{Mode: e.cfg.Mode, AsOf: dataset.AsOfTime(e.cfg.AsOf),
		Sessions: e.counts.sessions, Excluded: e.counts.excluded, Later: e.counts.later}}
	if e.cfg.Mode == Simulate {
		st.Info.SimulatedSameAsLogged, st.Info.SimulatedOtherThanLogged = e.counts.agree, e.counts.differ
	}
	pools := slices.Clone(e.pools)
	slices.SortFunc(pools, func(a, b *pool) int { return cmp.Compare(a.name, b.name) })
	for _, p := range pools {
		e.finishHolders(st, p)
		e.finishCapacity(st, p)
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
		for _, row := range p.usage.rows(dayOf(e.asOf)) {
			row.Pool = p.name
			if row.Available != nil && *row.Available < 0 && row.Consumed > 0 {
				st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyPoolExceeded, CALType: "usage", Day: row.Day,
					Observed: row.Consumed, Limit: p.usage.size, Detail: fmt.Sprintf("usage CALs overdrawn: %.2f available", *row.Available)})
			}
			st.Usage = append(st.Usage, row)
		}
		for _, a := range p.anomalies {
			a.Pool = p.name
			st.Anomalies = append(st.Anomalies, a)
		}
		st.Denials = append(st.Denials, p.denials...)
		if late := e.late[p]; late != nil {
			late.Pool = p.name
			st.Anomalies = append(st.Anomalies, *late)
		}
	}
	if lic := e.cfg.License; lic != nil && e.cfg.Mode == Reconstruct && !lic.HasPoolSizes() {
		st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: DefaultPool, Kind: AnomalyNoPoolSizes,
			Detail: "the licence file gives no pool size: every size is unknown, no pool or budget is checked"})
	}
	for _, perText := range []map[[2]uint32]*AnomalyRow{e.unknownCALs, e.outsideEra} {
		for _, a := range perText {
			st.Anomalies = append(st.Anomalies, *a)
		}
	}
	st.sort()
	return st
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

// calRetirement tells whether the pool's CAL licence is gone at the as-of
// time, and since when: the licence was converted to a Signed License Key
// (converted_at) at or before the as-of time, and the pool has SLK pools
// for the conversion to lead to.
func (e *Engine) calRetirement(p *pool) (int64, bool) {
	lic := e.cfg.License
	if lic == nil || lic.ConvertedAt.IsZero() || p.slk == nil || isCALEra(lic, p, e.asOf) {
		return 0, false
	}
	return lic.ConvertedAt.UnixMilli(), true
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

// finishCapacity emits the ledger in table order (month, user, document,
// server): it sorts the cells by the ranks of their names packed into two
// integers, much cheaper than sorting rows by their texts, and sums the
// cells a key got twice (booked out of order).
func (e *Engine) finishCapacity(st *State, p *pool) {
	userRank, documentRank, serverRank := rankNames(e.Users), rankNames(e.Documents), rankNames(e.Servers)
	type cellOrder struct {
		monthUser, documentServer uint64
		cell                      int32
	}
	cells := p.capacity.cells
	order := make([]cellOrder, len(cells))
	for i, c := range cells {
		order[i] = cellOrder{uint64(c.key.month)<<32 | uint64(userRank[c.key.user]),
			uint64(documentRank[c.key.document])<<32 | uint64(serverRank[c.key.server]), int32(i)}
	}
	slices.SortFunc(order, func(a, b cellOrder) int {
		return cmp.Or(cmp.Compare(a.monthUser, b.monthUser), cmp.Compare(a.documentServer, b.documentServer))
	})
	monthNames := map[month]string{}
	users := map[month]int64{} // distinct users per month: the cells are in month, user order
	st.Capacity = slices.Grow(st.Capacity, len(cells))
	for k, o := range order {
		c, key := &cells[o.cell], cells[o.cell].key
		if k == 0 || order[k-1].monthUser != o.monthUser {
			users[key.month]++
		}
		if k > 0 && order[k-1].monthUser == o.monthUser && order[k-1].documentServer == o.documentServer {
			last := &st.Capacity[len(st.Capacity)-1]
			last.Minutes += c.minutes
			last.Sessions += c.sessions
			last.MissingCount += c.missing
			last.MissingMinMinutes += c.missingMin
			last.MissingMaxMinutes += c.missingMax
			last.NotMultipleOf6 += c.notMultipleOf6
			last.AboveDuration += c.aboveDuration
			last.SpansMonth += c.spans
			continue
		}
		name, ok := monthNames[key.month]
		if !ok {
			name = key.month.String()
			monthNames[key.month] = name
		}
		st.Capacity = append(st.Capacity, CapacityRow{Pool: p.name, Month: name, UserKey: e.Users.Name(key.user),
			DocumentKey: e.Documents.Name(key.document), Server: e.Servers.Name(key.server), Minutes: c.minutes, Sessions: c.sessions,
			MissingCount: c.missing, MissingMinMinutes: c.missingMin, MissingMaxMinutes: c.missingMax,
			NotMultipleOf6: c.notMultipleOf6, AboveDuration: c.aboveDuration, SpansMonth: c.spans})
	}
	current := monthOf(e.asOf - 1) // the month of the last instant the state covers
	for m, b := range p.capacity.months {
		row := MonthRow{Pool: p.name, Month: m.String(), Minutes: b.minutes, Sessions: b.sessions, Users: users[m]}
		if budget, known := p.capacityBudget(); known {
			ceiling := int64(0)
			if p.slk != nil {
				ceiling, _ = p.slk.OverageCeiling()
			}
			over := max(0, b.minutes-budget)
			row.Budget, row.OverBudget = &budget, &over
			if ceiling != 0 {
				row.OverageCeiling = &ceiling
			}
			if over > 0 {
				detail := fmt.Sprintf("%d capacity minutes, budget %d", b.minutes, budget)
				if ceiling > 0 && b.minutes > budget+ceiling {
					detail += fmt.Sprintf(", above the overage ceiling of %d", ceiling)
				}
				st.Anomalies = append(st.Anomalies, AnomalyRow{Pool: p.name, Kind: AnomalyOverBudget, CALType: "analyzer_capacity",
					Month: row.Month, Observed: b.minutes, Limit: budget, Detail: detail})
			}
		}
		if b.exhaustedAt != 0 {
			at := b.exhaustedAt
			row.ExhaustedAt = &at
		}
		if m == current {
			e.forecast(p, &row, m, b)
		}
		st.Months = append(st.Months, row)
	}
}

// forecast fills in the current month's forecast (forecast.go).
func (e *Engine) forecast(p *pool, row *MonthRow, m month, b *monthBudget) {
	since, minDays := int64(minTime), DefaultForecastMinDays
	if lic := e.cfg.License; lic != nil {
		minDays = lic.Alerts.ForecastMinDays
		if !lic.ConvertedAt.IsZero() && p.cal != nil && p.slk != nil {
			since = lic.ConvertedAt.UnixMilli()
		}
	}
	f, ok := forecastCapacity(p.capacity.daily, b.minutes, m, e.asOf, since, p.capacity.months[m-1], minDays)
	if ok {
		row.ForecastMinutes, row.ForecastLowMinutes, row.ForecastHighMinutes = &f.minutes, &f.low, &f.high
	}
}

// sort puts every table in a stable order, so output does not depend on
// map iteration.
func (st *State) sort() {
	slices.SortFunc(st.Holders, func(a, b HolderRow) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.CALType, b.CALType), cmp.Compare(a.UserKey, b.UserKey),
			cmp.Compare(a.DocumentKey, b.DocumentKey), cmp.Compare(a.FirstUsed, b.FirstUsed))
	})
	// Capacity is emitted in order by finishCapacity, pool by pool.
	slices.SortFunc(st.Months, func(a, b MonthRow) int { return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Month, b.Month)) })
	slices.SortStableFunc(st.Concurrency, func(a, b ConcurrencyRow) int { return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Day, b.Day)) })
	slices.SortStableFunc(st.Usage, func(a, b UsageRow) int { return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Day, b.Day)) })
	slices.SortStableFunc(st.Anomalies, func(a, b AnomalyRow) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.CALType, b.CALType),
			cmp.Compare(a.Month, b.Month), cmp.Compare(a.Day, b.Day), cmp.Compare(a.UserKey, b.UserKey),
			cmp.Compare(a.DocumentKey, b.DocumentKey), cmp.Compare(a.Server, b.Server),
			cmp.Compare(a.SourceFile, b.SourceFile), cmp.Compare(a.SourceLine, b.SourceLine))
	})
	slices.SortStableFunc(st.Denials, func(a, b DenialRow) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.At, b.At), cmp.Compare(a.SourceFile, b.SourceFile), cmp.Compare(a.SourceLine, b.SourceLine))
	})
}

// rankNames returns, per id, the rank of its text in sort order.
func rankNames(d *Dict) []int32 {
	ids := make([]int32, d.Len())
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(a, b int32) int { return cmp.Compare(d.Name(uint32(a)), d.Name(uint32(b))) })
	rank := make([]int32, len(ids))
	for r, id := range ids {
		rank[id] = int32(r)
	}
	return rank
}
