package metering

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/parquet-go/parquet-go"

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
	key               capacityKey
	minutes, sessions int64
	capacityCounts
}

// capacityCounts are a cell's counts of flagged sessions, zero in most.
type capacityCounts struct {
	missing, missingMin, missingMax      int64
	notMultipleOf6, aboveDuration, spans int64
}

// sealedRow is a capacity table row of a sealed month: 40 bytes where the
// row is 144 and the cell 80, since the rows of every month are held until
// the table is written. flagged is 1 + the index of its counts in
// capacityLedger.flagged, 0 when they are all zero.
type sealedRow struct {
	key               capacityKey
	minutes, sessions int64
	flagged           int32
}

// add sums a cell into the row, which has the same key (booked twice).
func (l *capacityLedger) add(r *sealedRow, c *capacityCell) {
	r.minutes, _ = addSaturating(r.minutes, c.minutes) // saturated: its month is already an anomaly
	r.sessions += c.sessions
	if c.capacityCounts == (capacityCounts{}) {
		return
	}
	if r.flagged == 0 {
		l.flagged = append(l.flagged, capacityCounts{})
		r.flagged = int32(len(l.flagged))
	}
	f := &l.flagged[r.flagged-1]
	f.missing += c.missing
	f.missingMin += c.missingMin
	f.missingMax += c.missingMax
	f.notMultipleOf6 += c.notMultipleOf6
	f.aboveDuration += c.aboveDuration
	f.spans += c.spans
}

// monthBudget is one UTC month of a pool's capacity budget.
type monthBudget struct {
	minutes, sessions int64
	exhaustedAt       int64 // 0: not reached
	implausible       int64 // counts set aside (implausible.go)
	users             int64 // distinct users in the month's rows, counted when sealed
}

// capacityLedger sums Analyzer Capacity minutes as logged in CAL Usage Count,
// never recomputing them from the duration: idle time consumes nothing and
// is not logged. Memory grows with months × users × documents × servers.
type capacityLedger struct {
	// index finds the cell of a key of the month being booked. Sessions
	// come in end order, so it is cleared when a new month starts, and stays
	// small; a key booked again after that (out of order) gets a second cell,
	// merged when the table is written.
	index   map[capacityKey]int32
	indexed month
	cells   []capacityCell // of the months not sealed yet
	order   []cellOrder    // sealCapacity's scratch
	// sealed are the table rows of the months sealed (sealCapacity), every
	// month up to sealedThrough, in table order and compact: the texts and
	// the rarely set counts are filled in when the table is written.
	// late: a session was booked into one of those months.
	sealed        [][]sealedRow    // blocks of sealedChunk
	flagged       []capacityCounts // of the sealed rows with a flag set
	sealedThrough month
	late          bool
	months        map[month]*monthBudget
	last          *monthBudget // the month booked last, and its number
	lastMonth     month
	limit         int64 // budget + overage ceiling; < 0 unlimited or unknown
	endMonth      monthCache
	// daily is the minutes per UTC day of session end: the pace the
	// forecast reads (memory grows with days).
	daily   map[int32]int64
	lastDay int32 // the day booked last and its start, to skip the division
	dayFrom int64
}

func newCapacityLedger(limit int64) *capacityLedger {
	return &capacityLedger{index: map[capacityKey]int32{}, indexed: noMonth, sealedThrough: noMonth, months: map[month]*monthBudget{}, limit: limit, daily: map[int32]int64{}}
}

// cellOrder is a cell's place in table order: its month and the ranks of
// its names (nameRanks), packed.
type cellOrder struct {
	monthUser, documentServer uint64
	cell                      int32
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
	if m <= l.sealedThrough {
		l.late = true
	}
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

// sealCapacity emits the rows of the pool's cells of the months up to
// through, which no session still to come can book into (closeMonth), in
// table order (month, user, document, server): it sorts the cells by the
// ranks of their names packed into two integers, much cheaper than sorting
// rows by their texts, sums the cells a key got twice (booked out of
// order), and counts each month's distinct users. The cells are then
// dropped, so that the ledger holds the rows it will write and the cells
// of at most the months still open, not a cell per row of the whole
// history.
func (e *Engine) sealCapacity(p *pool, through month) {
	l := p.capacity
	userRank, documentRank, serverRank := e.ranks.of(e.Users, 0), e.ranks.of(e.Documents, 1), e.ranks.of(e.Servers, 2)
	order := l.order[:0]
	for i, c := range l.cells {
		if c.key.month <= through {
			order = append(order, cellOrder{uint64(uint32(c.key.month))<<32 | uint64(userRank[c.key.user]),
				uint64(documentRank[c.key.document])<<32 | uint64(serverRank[c.key.server]), int32(i)})
		}
	}
	if len(order) == 0 {
		l.sealedThrough = max(l.sealedThrough, through)
		return
	}
	slices.SortFunc(order, func(a, b cellOrder) int {
		return cmp.Or(cmp.Compare(int32(a.monthUser>>32), int32(b.monthUser>>32)), cmp.Compare(uint32(a.monthUser), uint32(b.monthUser)),
			cmp.Compare(a.documentServer, b.documentServer))
	})
	cells := l.cells
	var row *sealedRow
	for k, o := range order {
		c := &cells[o.cell]
		if k == 0 || order[k-1].monthUser != o.monthUser {
			l.months[c.key.month].users++
		}
		if k == 0 || order[k-1].monthUser != o.monthUser || order[k-1].documentServer != o.documentServer {
			row = l.appendSealed(c.key)
		}
		l.add(row, c)
	}
	kept := l.cells[:0]
	for _, c := range l.cells {
		if c.key.month > through {
			kept = append(kept, c)
		}
	}
	l.cells, l.order = kept, order[:0]
	clear(l.index) // the cells moved: a key booked again gets a new cell, merged when sealed
	l.indexed = noMonth
	l.sealedThrough = max(l.sealedThrough, through)
}

// sealedChunk is how many sealed rows a block holds: blocks, rather than
// one slice, so that the rows are never copied as they grow.
const sealedChunk = 8192

// appendSealed appends a row of key with nothing summed yet.
func (l *capacityLedger) appendSealed(key capacityKey) *sealedRow {
	if n := len(l.sealed); n == 0 || len(l.sealed[n-1]) == sealedChunk {
		l.sealed = append(l.sealed, make([]sealedRow, 0, sealedChunk))
	}
	last := &l.sealed[len(l.sealed)-1]
	*last = append(*last, sealedRow{key: key})
	return &(*last)[len(*last)-1]
}

// capacityRows fills in the sealed rows' texts and counts: the table.
func (e *Engine) capacityRows(p *pool) []CapacityRow {
	l := p.capacity
	rows := make([]CapacityRow, 0, l.sealedRows())
	for k, block := range l.sealed {
		rows = l.appendRows(rows, p.name, &e.Dicts, block)
		l.sealed[k] = nil // freed as the rows are made
	}
	l.sealed, l.flagged = nil, nil
	return rows
}

// sealedRows counts the sealed rows.
func (l *capacityLedger) sealedRows() int {
	n := 0
	for _, block := range l.sealed {
		n += len(block)
	}
	return n
}

// appendRows appends the table rows of a block of sealed rows.
func (l *capacityLedger) appendRows(rows []CapacityRow, pool string, d *Dicts, block []sealedRow) []CapacityRow {
	var name string
	for i := range block {
		r := &block[i]
		if i == 0 || r.key.month != block[i-1].key.month {
			name = r.key.month.String()
		}
		var f capacityCounts
		if r.flagged > 0 {
			f = l.flagged[r.flagged-1]
		}
		rows = append(rows, CapacityRow{Pool: pool, Month: name, UserKey: d.Users.Name(r.key.user),
			DocumentKey: d.Documents.Name(r.key.document), Server: d.Servers.Name(r.key.server), Minutes: r.minutes, Sessions: r.sessions,
			MissingCount: f.missing, MissingMinMinutes: f.missingMin, MissingMaxMinutes: f.missingMax,
			NotMultipleOf6: f.notMultipleOf6, AboveDuration: f.aboveDuration, SpansMonth: f.spans})
	}
	return rows
}

// capacityTable is the capacity table of a state that Compute made, left
// as each pool's sealed rows (40 bytes a row, where a CapacityRow is 144)
// for WriteTables to write block by block: the table has a row per month,
// user, document and server, the one table that grows with the history.
type capacityTable struct {
	parts []capacityPart // in pool order
	rows  int
}

// capacityPart is one pool's rows: sealed, or made (rows) when they had
// to be sorted again (resortCapacity).
type capacityPart struct {
	pool   string
	ledger *capacityLedger
	dicts  *Dicts
	rows   []CapacityRow
}

// write writes the table's rows to w, one block at a time.
func (t *capacityTable) write(w *parquet.GenericWriter[CapacityRow]) error {
	var buf []CapacityRow
	for _, part := range t.parts {
		if part.ledger == nil {
			if _, err := w.Write(part.rows); err != nil {
				return err
			}
			continue
		}
		for _, block := range part.ledger.sealed {
			buf = part.ledger.appendRows(buf[:0], part.pool, part.dicts, block)
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// resortCapacity puts the rows back in table order after a session was
// booked into a month already sealed (a row stored in a later month
// partition than its end's: the dataset's layout rules it out), summing
// the keys that then have two rows and counting the users again.
func (l *capacityLedger) resortCapacity(rows []CapacityRow) []CapacityRow {
	months := make(map[string]month, len(l.months))
	for m, b := range l.months {
		months[m.String()] = m
		b.users = 0
	}
	slices.SortStableFunc(rows, func(a, b CapacityRow) int {
		return cmp.Or(cmp.Compare(months[a.Month], months[b.Month]), cmp.Compare(a.UserKey, b.UserKey),
			cmp.Compare(a.DocumentKey, b.DocumentKey), cmp.Compare(a.Server, b.Server))
	})
	merged := rows[:0]
	for _, r := range rows {
		if n := len(merged); n > 0 && merged[n-1].Month == r.Month && merged[n-1].UserKey == r.UserKey {
			if last := &merged[n-1]; last.DocumentKey == r.DocumentKey && last.Server == r.Server {
				last.Minutes, _ = addSaturating(last.Minutes, r.Minutes)
				last.Sessions += r.Sessions
				last.MissingCount += r.MissingCount
				last.MissingMinMinutes += r.MissingMinMinutes
				last.MissingMaxMinutes += r.MissingMaxMinutes
				last.NotMultipleOf6 += r.NotMultipleOf6
				last.AboveDuration += r.AboveDuration
				last.SpansMonth += r.SpansMonth
				continue
			}
		} else {
			l.months[months[r.Month]].users++
		}
		merged = append(merged, r)
	}
	l.late = false
	return merged
}

// finishCapacity emits the ledger: the rows of every month (sealCapacity),
// as State.Capacity, or left sealed for WriteTables when the state is
// made to be written (Compute); and the months with their budget,
// anomalies and forecast.
func (e *Engine) finishCapacity(st *State, p *pool) {
	e.sealCapacity(p, maxMonth)
	p.capacity.cells, p.capacity.order, p.capacity.index = nil, nil, nil // nothing more is booked
	switch {
	case st.capacity != nil && !p.capacity.late:
		st.capacity.parts = append(st.capacity.parts, capacityPart{pool: p.name, ledger: p.capacity, dicts: &e.Dicts})
		st.capacity.rows += p.capacity.sealedRows()
	case st.capacity != nil:
		rows := p.capacity.resortCapacity(e.capacityRows(p))
		st.capacity.parts = append(st.capacity.parts, capacityPart{pool: p.name, rows: rows})
		st.capacity.rows += len(rows)
	default:
		rows := e.capacityRows(p)
		if p.capacity.late {
			rows = p.capacity.resortCapacity(rows)
		}
		if len(st.Capacity) == 0 {
			st.Capacity = rows // the one pool's rows, not copied
		} else {
			st.Capacity = append(st.Capacity, rows...)
		}
	}
	current := monthOf(e.asOf - 1) // the month of the last instant the state covers
	for m, b := range p.capacity.months {
		row := MonthRow{Pool: p.name, Month: m.String(), Minutes: b.minutes, Sessions: b.sessions, Users: b.users, ImplausibleMinutes: b.implausible}
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
