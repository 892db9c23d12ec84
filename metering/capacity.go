package metering

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// capacityUnit is the spec's 6-minute unit of Analyzer Capacity.
const capacityUnit = 6

// capacityKey is one ledger cell: UTC month × user × document × server.
type capacityKey struct {
	month    month
	user     uint32
	document uint32
	server   uint32
}

type capacityCell struct {
	key                                  capacityKey
	minutes, sessions                    int64
	missing, missingMin, missingMax      int64
	notMultipleOf6, aboveDuration, spans int64
}

// monthBudget is one UTC month of a pool's capacity budget.
type monthBudget struct {
	minutes, sessions int64
	exhaustedAt       int64 // 0: not reached
	implausible       int64 // counts set aside (implausible.go)
}

// capacityLedger sums Analyzer Capacity minutes as logged in CAL Usage Count,
// never recomputing them from the duration: idle time consumes nothing and
// is not logged. Memory grows with months × users × documents × servers.
type capacityLedger struct {
	// index finds the cell of a key of the month being booked. Sessions
	// come in end order, so it is cleared when a new month starts, and stays
	// small; a key booked again after that (out of order) gets a second cell,
	// merged when the table is written.
	index     map[capacityKey]int32
	indexed   month
	cells     []capacityCell
	months    map[month]*monthBudget
	last      *monthBudget // the month booked last, and its number
	lastMonth month
	limit     int64 // budget + overage ceiling; < 0 unlimited or unknown
	endMonth  monthCache
	// daily is the minutes per UTC day of session end: the pace the
	// forecast reads (memory grows with days).
	daily   map[int32]int64
	lastDay int32 // the day booked last and its start, to skip the division
	dayFrom int64
}

func newCapacityLedger(limit int64) *capacityLedger {
	return &capacityLedger{index: map[capacityKey]int32{}, months: map[month]*monthBudget{}, limit: limit, daily: map[int32]int64{}}
}

// capacityCheck is what record found wrong with one session's count.
type capacityCheck struct {
	missing, notMultipleOf6, aboveDuration, spansMonth bool
	bound                                              int64 // 6 × ceil(duration / 6 min)
	saturated                                          bool  // a sum reached the 64-bit limit (overflow.go)
}

// record books one capacity session by its end month and returns what is
// wrong with its count; minutes is what it consumed (the logged count in
// reconstruct mode, NoCount when missing).
func (l *capacityLedger) record(s *Session, minutes int64) capacityCheck {
	m := l.endMonth.of(s.End)
	if m != l.indexed {
		clear(l.index)
		l.indexed = m
	}
	key := capacityKey{m, s.User, s.Document, s.Server}
	i, ok := l.index[key]
	if !ok {
		i = int32(len(l.cells))
		l.index[key] = i
		l.cells = append(l.cells, capacityCell{key: key})
	}
	cell := &l.cells[i]
	check := capacityCheck{bound: capacityUnit * max(1, ceilDiv(s.DurationMS, capacityUnit*minuteMS))}
	check.spansMonth = s.Start < l.endMonth.from
	cell.sessions++
	if minutes == NoCount {
		check.missing = true
		cell.missing++
		cell.missingMin += capacityUnit
		cell.missingMax += check.bound
		minutes = 0
	} else {
		check.notMultipleOf6 = minutes%capacityUnit != 0
		check.aboveDuration = minutes > check.bound
		cell.minutes, check.saturated = addSaturating(cell.minutes, minutes)
	}
	if check.notMultipleOf6 {
		cell.notMultipleOf6++
	}
	if check.aboveDuration {
		cell.aboveDuration++
	}
	if check.spansMonth {
		cell.spans++
	}
	if s.End < l.dayFrom || s.End >= l.dayFrom+dayMS {
		l.lastDay = dayOf(s.End)
		l.dayFrom = int64(l.lastDay) * dayMS
	}
	var daySaturated, monthSaturated bool
	l.daily[l.lastDay], daySaturated = addSaturating(l.daily[l.lastDay], minutes)
	budget := l.month(m)
	budget.minutes, monthSaturated = addSaturating(budget.minutes, minutes)
	check.saturated = check.saturated || daySaturated || monthSaturated
	budget.sessions++
	if l.limit >= 0 && budget.exhaustedAt == 0 && budget.minutes >= l.limit {
		budget.exhaustedAt = s.End
	}
	return check
}

func (l *capacityLedger) month(m month) *monthBudget {
	if l.last == nil || l.lastMonth != m {
		b := l.months[m]
		if b == nil {
			b = &monthBudget{}
			l.months[m] = b
		}
		l.last, l.lastMonth = b, m
	}
	return l.last
}

// exhausted reports whether the month of time t has no minutes left.
func (l *capacityLedger) exhausted(t int64) bool {
	if l.limit < 0 {
		return false
	}
	b := l.months[l.endMonth.of(t)]
	return b != nil && b.minutes >= l.limit
}

func (c capacityCheck) flagged() bool {
	return c.missing || c.notMultipleOf6 || c.aboveDuration
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
			last.Minutes, _ = addSaturating(last.Minutes, c.minutes) // saturated: its month is already an anomaly
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
		row := MonthRow{Pool: p.name, Month: m.String(), Minutes: b.minutes, Sessions: b.sessions, Users: users[m], ImplausibleMinutes: b.implausible}
		if budget, known := p.capacityBudget(); known {
			ceiling := int64(0)
			if p.slk != nil {
				ceiling, _ = p.slk.OverageCeiling()
			}
			over, _ := addSaturating(b.minutes, -budget)
			over = max(0, over)
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

// bookCapacity records capacity minutes and turns a flagged count or a
// session across a month boundary into a traceable anomaly.
func (e *Engine) bookCapacity(p *pool, s *Session, minutes int64) {
	check := p.capacity.record(s, minutes)
	if check.saturated {
		e.saturatedAnomaly(p, s, "capacity minutes of "+monthOf(s.End).String(), minutes)
	}
	if !check.flagged() && !check.spansMonth {
		return
	}
	row := e.sessionAnomaly(s)
	row.CALType = parse.CALAnalyzerCapacity.String()
	row.Month = monthOf(s.End).String()
	if check.flagged() {
		flagged := row
		flagged.Kind, flagged.Observed, flagged.Limit = AnomalyCapacityCount, max(0, minutes), check.bound
		switch {
		case check.missing:
			flagged.Detail = fmt.Sprintf("no CAL Usage Count: between %d and %d minutes", capacityUnit, check.bound)
		case check.notMultipleOf6 && check.aboveDuration:
			flagged.Detail = "count not a multiple of 6 and above 6 × ceil(duration / 6 min)"
		case check.notMultipleOf6:
			flagged.Detail = "count not a multiple of 6"
		default:
			flagged.Detail = "count above 6 × ceil(duration / 6 min)"
		}
		p.anomalies = append(p.anomalies, flagged)
	}
	if check.spansMonth {
		row.Kind, row.Observed = AnomalySpansMonth, max(0, minutes)
		row.Detail = "started in " + monthOf(s.Start).String() + ": booked in the month it ended"
		p.anomalies = append(p.anomalies, row)
	}
}
