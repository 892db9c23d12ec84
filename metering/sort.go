package metering

import (
	"cmp"
	"slices"
)

// endSorter puts batches of sessions in session_end order, keeping the
// input order among equal ends. A month of ends spans less than 2³² ms, so
// it sorts (end offset, index) keys by four byte-wide counting passes; a
// batch spanning more falls back to a comparison sort. Its buffers are
// reused from batch to batch.
type endSorter struct {
	spare      []Session
	keys, temp []uint64
}

// sort returns the sessions in end order. It owns the slice passed in
// afterwards, and the caller owns the one returned.
func (s *endSorter) sort(sessions []Session) []Session {
	if len(sessions) < 2 {
		return sessions
	}
	lo, hi := sessions[0].End, sessions[0].End
	for i := range sessions {
		lo, hi = min(lo, sessions[i].End), max(hi, sessions[i].End)
	}
	if hi-lo >= 1<<32 || len(sessions) >= 1<<32 {
		slices.SortStableFunc(sessions, func(a, b Session) int { return cmp.Compare(a.End, b.End) })
		return sessions
	}
	keys, temp := s.keys[:0], slices.Grow(s.temp[:0], len(sessions))[:len(sessions)]
	for i := range sessions {
		keys = append(keys, uint64(sessions[i].End-lo)<<32|uint64(i))
	}
	for shift := uint(32); shift < 64; shift += 8 {
		var counts [256]int
		for _, k := range keys {
			counts[(k>>shift)&0xff]++
		}
		total := 0
		for b, n := range counts {
			counts[b], total = total, total+n
		}
		for _, k := range keys {
			b := (k >> shift) & 0xff
			temp[counts[b]] = k
			counts[b]++
		}
		keys, temp = temp, keys
	}
	sorted := slices.Grow(s.spare[:0], len(sessions))[:len(sessions)]
	for i, k := range keys {
		sorted[i] = sessions[uint32(k)]
	}
	s.spare, s.keys, s.temp = sessions, keys, temp
	return sorted
}
