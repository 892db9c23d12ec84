package parse

import (
	"encoding/binary"
	"math"
	"strconv"
)

// The value parsers below work on the raw bytes of one field and never
// allocate: they are called tens of millions of times per gigabyte of log.

// Where the year, month, day, hour, minute and second start in each form.
var (
	compactAt = [6]int{0, 4, 6, 9, 11, 13}
	legacyAt  = [6]int{0, 5, 8, 11, 14, 17}
)

// parseTime reads a session-log time and returns milliseconds since the Unix
// epoch. Accepted: the compact form YYYYMMDDThhmmss[.fff][±hhmm|±hh:mm|Z]
// that servers write, and the form YYYY-MM-DD[ T]hh:mm:ss[.fff][offset] of
// QlikView 11.x. A time without an offset is local time in z (see
// zone.toUTC).
func parseTime(b []byte, z *zone) (ms int64, how timeRead, ok bool) {
	var at *[6]int
	switch {
	case len(b) >= 15 && b[8] == 'T':
		at = &compactAt
	case len(b) >= 19 && b[4] == '-' && b[7] == '-' && (b[10] == ' ' || b[10] == 'T') && b[13] == ':' && b[16] == ':':
		at = &legacyAt
	default:
		return 0, 0, false
	}
	var v [6]int // year, month, day, hour, minute, second
	if at == &compactAt && len(b) >= 17 {
		// YYYYMMDD and hhmmss, eight bytes at a time.
		date, ok1 := digitPairs(binary.LittleEndian.Uint64(b[0:8]), 0)
		clock, ok2 := digitPairs(binary.LittleEndian.Uint64(b[9:17]), 2)
		if !ok1 || !ok2 {
			return 0, 0, false
		}
		v = [6]int{date[0]*100 + date[1], date[2], date[3], clock[0], clock[1], clock[2]}
	} else {
		for i, pos := range at {
			width := 2
			if i == 0 {
				width = 4
			}
			if v[i], ok = digits(b[pos : pos+width]); !ok {
				return 0, 0, false
			}
		}
	}
	year, month, day, hour, min, sec := v[0], v[1], v[2], v[3], v[4], v[5]
	rest := b[at[5]+2:]
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 60 {
		return 0, 0, false
	}
	var millis int
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			millis += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return 0, 0, false
		}
		rest = rest[i:]
	}
	local := (daysFromCivil(year, month, day)*86400+int64(hour*3600+min*60+sec))*1000 + int64(millis)
	switch {
	case len(rest) == 0:
		ms, how := z.toUTC(local)
		return ms, how, true
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		return local, timeWithOffset, true
	case rest[0] == '+' || rest[0] == '-':
		var oh, om int
		var ok1, ok2 bool
		switch len(rest) {
		case 5: // +0200
			oh, ok1 = digits(rest[1:3])
			om, ok2 = digits(rest[3:5])
		case 6: // +02:00
			oh, ok1 = digits(rest[1:3])
			om, ok2 = digits(rest[4:6])
			ok2 = ok2 && rest[3] == ':'
		case 3: // +02
			oh, ok1 = digits(rest[1:3])
			ok2 = true
		}
		if !ok1 || !ok2 || oh > 14 || om > 59 {
			return 0, 0, false
		}
		offset := int64(oh*3600+om*60) * 1000
		if rest[0] == '-' {
			offset = -offset
		}
		return local - offset, timeWithOffset, true
	}
	return 0, 0, false
}

// digitPairs reads eight bytes (little-endian in w) as four two-digit
// numbers; the last ignore bytes may be anything. All at once: a byte is a
// digit when neither w - '0' nor w + (0x7F - '9') sets its high bit (an
// earlier byte's borrow can only flag a byte when that byte is no digit
// itself).
func digitPairs(w uint64, ignore int) ([4]int, bool) {
	mask := uint64(0x8080808080808080) >> (8 * ignore)
	if ((w-0x3030303030303030)|(w+0x4646464646464646))&mask != 0 {
		return [4]int{}, false
	}
	d := w - 0x3030303030303030
	d = d*10 + d>>8 // byte 2i: the pair of digits 2i and 2i+1
	return [4]int{int(d & 0xFF), int(d >> 16 & 0xFF), int(d >> 32 & 0xFF), int(d >> 48 & 0xFF)}, true
}

// digits reads a short run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// durationForm tells how a Session Duration was written.
type durationForm uint8

const (
	durationClock       durationForm = iota // h:mm:ss, hours may exceed 24
	durationDayClock                        // d.hh:mm:ss
	durationDayFraction                     // 0.0123: QlikView 12's fraction-of-a-day bug
)

// parseDuration reads a Session Duration: h:mm:ss (any number of hour
// digits, optional .fff), d.hh:mm:ss, or a plain decimal, which QlikView 12
// sometimes writes as a fraction of a day.
func parseDuration(b []byte) (ms int64, form durationForm, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	colon := -1
	for i, c := range b {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon < 0 {
		days, ok := parseDecimal(b)
		if !ok || days < 0 || days > 1e6 {
			return 0, 0, false
		}
		return int64(math.Round(days * 86400000)), durationDayFraction, true
	}
	head := b[:colon]
	form = durationClock
	var dayCount int64
	for i, c := range head {
		if c == '.' {
			d, ok := digits(head[:i])
			if !ok || i == 0 || i > 9 {
				return 0, 0, false
			}
			dayCount = int64(d)
			head = head[i+1:]
			form = durationDayClock
			break
		}
	}
	if len(head) == 0 || len(head) > 9 {
		return 0, 0, false
	}
	hours, ok1 := digits(head)
	tail := b[colon+1:]
	if len(tail) < 5 || tail[2] != ':' {
		return 0, 0, false
	}
	mins, ok2 := digits(tail[0:2])
	secs, ok3 := digits(tail[3:5])
	if !ok1 || !ok2 || !ok3 || mins > 59 || secs > 59 {
		return 0, 0, false
	}
	var millis int64
	if frac := tail[5:]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) == 1 {
			return 0, 0, false
		}
		scale := int64(100)
		for _, c := range frac[1:] {
			if c < '0' || c > '9' {
				return 0, 0, false
			}
			millis += int64(c-'0') * scale
			scale /= 10
		}
	}
	return ((dayCount*24+int64(hours))*3600+int64(mins*60+secs))*1000 + millis, form, true
}

// intRead says how a counter was read.
type intRead uint8

const (
	intOK       intRead = iota
	intInvalid          // not an integer
	intOverflow         // an integer beyond int64: never wrapped
)

// parseInt reads a counter: optional sign, then digits (leading zeros are
// fine).
func parseInt(b []byte) (int64, intRead) {
	if len(b) == 0 {
		return 0, intInvalid
	}
	neg := b[0] == '-'
	if neg || b[0] == '+' {
		b = b[1:]
		if len(b) == 0 {
			return 0, intInvalid
		}
	}
	var n uint64
	overflow := false
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, intInvalid
		}
		if n > (math.MaxUint64-9)/10 {
			overflow = true
			continue
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case overflow, !neg && n > math.MaxInt64, neg && n > math.MaxInt64+1:
		return 0, intOverflow
	case neg:
		return -int64(n), intOK
	}
	return int64(n), intOK
}

// pow10 holds the powers of ten that a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal reads a plain decimal such as 0.000000 or 12.5. Values with at
// most 15 significant digits take the exact fast path (an exact mantissa
// divided by an exact power of ten rounds correctly); the rest go to strconv.
func parseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	s := b
	neg := s[0] == '-'
	if neg || s[0] == '+' {
		s = s[1:]
	}
	var mantissa uint64
	significant, scale := 0, 0
	seenDigit, seenDot := false, false
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			seenDigit = true
			if mantissa == 0 && c == '0' {
				if seenDot {
					scale++
				}
				continue
			}
			mantissa = mantissa*10 + uint64(c-'0')
			significant++
			if seenDot {
				scale++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return slowDecimal(b)
		}
	}
	if !seenDigit {
		return 0, false
	}
	if significant > 15 || scale >= len(pow10) {
		return slowDecimal(b)
	}
	f := float64(mantissa) / pow10[scale]
	if neg {
		f = -f
	}
	return f, true
}

func slowDecimal(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}
