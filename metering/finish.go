package metering

import (
	"cmp"
	"slices"

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
	// capacity, for a state Compute made, holds the capacity table in
	// place of Capacity (capacityTable); CapacityRows counts it.
	capacity *capacityTable
}

// CapacityRows is the number of rows of the capacity table.
func (st *State) CapacityRows() int {
	if st.capacity != nil {
		return st.capacity.rows
	}
	return len(st.Capacity)
}

// Finish takes the sessions still waiting for start order and returns the
// state as of the configured time. The engine is spent afterwards.
func (e *Engine) Finish() *State {
	e.releaseUntil(1<<62 - 1)
	st := &State{Info: dataset.StateInfo{Mode: e.cfg.Mode, AsOf: dataset.AsOfTime(e.cfg.AsOf),
		Sessions: e.counts.sessions, Excluded: e.counts.excluded, Later: e.counts.later}}
	if e.cfg.writeOnly {
		st.capacity = &capacityTable{}
	}
	if e.cfg.Mode == Simulate {
		st.Info.SimulatedSameAsLogged, st.Info.SimulatedOtherThanLogged = e.counts.agree, e.counts.differ
	}
	pools := slices.Clone(e.pools)
	slices.SortFunc(pools, func(a, b *pool) int { return cmp.Compare(a.name, b.name) })
	for _, p := range pools {
		e.finishHolders(st, p)
		e.finishCapacity(st, p)
		e.finishSessionCALs(st, p)
		e.finishUsage(st, p)
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
	e.finishClientsWithoutID(st)
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

// nameRanks caches, per dictionary, the rank of each id's text in sort
// order, computed again only when the dictionary has grown.
type nameRanks struct {
	ranks [3][]int32
}

// of returns the ranks of d's ids, d being the dictionary of slot.
func (r *nameRanks) of(d *Dict, slot int) []int32 {
	if len(r.ranks[slot]) != d.Len() {
		r.ranks[slot] = rankNames(d)
	}
	return r.ranks[slot]
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
