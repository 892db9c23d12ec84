package metering

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
