package parse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// DefaultBatchSize is the number of rows per record when Config.BatchSize is 0.
const DefaultBatchSize = 64 * 1024

// MaxLineBytes is the longest line the decoder holds in memory. A longer
// line is rejected (ErrLineTooLong) and skipped, so a file without line
// breaks cannot exhaust memory.
const MaxLineBytes = 1 << 20

const readBufferBytes = 256 << 10

var bom = []byte{0xEF, 0xBB, 0xBF}

// Config tells a Decoder where its input comes from.
type Config struct {
	File   string // file name: the source_file column and ParseError.File
	Server string // server name: the server column

	// BatchSize is the number of rows per record (DefaultBatchSize if 0).
	BatchSize int

	// Location is the server's zone, for times written without an offset
	// (QlikView 11.x: "2006-01-02 15:04:05" in the server's local time);
	// see TimeZones. Nil means UTC. Daylight saving applies: a time in the
	// autumn repeated hour is the earlier instant, a time in the spring gap
	// moves forward by the gap (both counted).
	Location *time.Location

	// NotAfter is when the file was last written (its modification time):
	// a session time later than NotAfter + FileTimeSlack is flagged
	// implausible. Zero: no such check.
	NotAfter time.Time

	// Header is the header line in effect where the reader starts, for a
	// reader that starts mid-file (a resumed file, or one chunk of a file
	// split across cores): what Decoder.Header returned there. Nil or empty
	// means no header is in effect, as at the start of a file, or in a file
	// without a header line, whose lines are read with the default 28- or
	// 29-column layout that fits their field count.
	Header []byte

	// FirstLine is the line number of the reader's first line (1 if 0).
	FirstLine int64
}

// Decoder reads a session log and yields its rows as Arrow records of
// parse.Schema, and its bad lines as rejects.
//
//	d := parse.NewDecoder(f, parse.Config{File: name, Server: server})
//	for d.Next() {
//		rec := d.Record()     // valid until the next call to Next
//		for _, r := range d.Rejects() { … }
//	}
//	if err := d.Err(); err != nil { … } // reading failed
//	resumeAt := d.Offset()              // after the last complete line
//
// A Decoder is not safe for concurrent use; decode several files (or
// chunks of one file, see Split) with one Decoder each.
type Decoder struct {
	r   io.Reader
	cfg Config

	buf      []byte
	pos, end int
	eof      bool
	skipping bool   // inside a line longer than MaxLineBytes
	skipped  int64  // bytes of that line dropped so far
	longLine []byte // its start, for the reject
	err      error

	zone  zone // Config.Location, with its last zone period
	plaus plausibility

	line     int64 // number of the last line read
	consumed int64 // bytes through the last complete line

	layout   *layout
	fields   [][]byte
	scratch  []byte
	rejects  []Reject
	record   arrow.Record
	stats    Stats
	batch    int // rows per record
	capacity int // rows the column buffers hold now
	rows     int

	pool    bufferPool
	ints    [NumColumns]*int64Column // by column: the one of its type is set
	floats  [NumColumns]*float64Column
	strings [NumColumns]*stringColumn
	dicts   [NumColumns]*dictColumn
	columns [NumColumns]struct { // what they point to, in one allocation
		int64Column
		float64Column
		stringColumn
		dictColumn
	}

	// Per-batch memos from a source dictionary index to a derived value.
	userOf      [2][]userIndices // by authenticated user, identifying user
	docKeyOf    []int32
	calClassOf  []int8
	exitClassOf []int8
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader, cfg Config) *Decoder {
	d := &Decoder{r: r, cfg: cfg, batch: cfg.BatchSize, buf: make([]byte, readBufferBytes),
		zone: newZone(cfg.Location), plaus: newPlausibility(cfg.NotAfter)}
	if d.batch <= 0 {
		d.batch = DefaultBatchSize
	}
	if cfg.FirstLine > 0 {
		d.line = cfg.FirstLine - 1
	}
	if header := trimHeader(cfg.Header); len(header) > 0 {
		d.layout = newLayout(header, bytes.Split(header, []byte("\t")))
	}
	for i, f := range Schema.Fields() {
		c := &d.columns[i]
		switch f.Type.ID() {
		case arrow.DICTIONARY:
			d.dicts[i] = &c.dictColumn
		case arrow.STRING:
			d.strings[i] = &c.stringColumn
		case arrow.FLOAT64:
			d.floats[i] = &c.float64Column
		default:
			d.ints[i] = &c.int64Column
		}
	}
	return d
}

// Next decodes the next batch of lines. It returns false when the input is
// exhausted (or reading failed: see Err). A batch has at least one row or
// one reject; its record may have zero rows when it has only rejects.
func (d *Decoder) Next() bool {
	if d.record != nil {
		d.record.Release()
		d.record = nil
	}
	d.rejects = d.rejects[:0]
	if d.eof && d.pos == d.end {
		return false
	}
	d.startBatch()
	for d.rows < d.batch && len(d.rejects) < d.batch {
		line, ok := d.readLine()
		if !ok {
			break
		}
		d.decodeLine(line)
	}
	if d.rows == 0 && len(d.rejects) == 0 {
		return false
	}
	d.record = d.finishBatch()
	return true
}

// Record returns the current batch's rows. It is valid until the next call
// to Next; call Retain to keep it longer, and Release when done with it.
func (d *Decoder) Record() arrow.Record { return d.record }

// Rejects returns the lines of the current batch that could not be decoded.
// The slice is reused by the next call to Next.
func (d *Decoder) Rejects() []Reject { return d.rejects }

// Err returns the error that stopped reading, if any. Bad lines are not
// errors: they are rejects.
func (d *Decoder) Err() error { return d.err }

// Offset returns the number of bytes of the reader consumed through the
// last complete line: where a later run resumes once an incomplete last
// line has been finished by the server.
func (d *Decoder) Offset() int64 { return d.consumed }

// Line returns the number of the last complete line read.
func (d *Decoder) Line() int64 { return d.line }

// Header returns the header line in effect after the lines read so far:
// the Config.Header to resume with. It is nil before any line was read, and
// empty (not nil) when lines were read with no header in effect.
func (d *Decoder) Header() []byte {
	if d.layout == nil {
		return nil
	}
	return append([]byte{}, d.layout.header...)
}

// Stats returns the counts so far. Its UnknownColumnNames is the caller's.
func (d *Decoder) Stats() Stats {
	s := d.stats
	s.UnknownColumnNames = slices.Clone(s.UnknownColumnNames)
	return s
}

// readLine returns the next complete line, without its '\n'. The slice is
// valid until the next call.
func (d *Decoder) readLine() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(d.buf[d.pos:d.end], '\n'); i >= 0 {
			line := d.buf[d.pos : d.pos+i]
			d.pos += i + 1
			d.consumed += d.skipped + int64(i+1)
			d.line++
			if d.skipping {
				d.skipping, d.skipped = false, 0
				d.stats.Lines++
				d.reject(d.line, "", ErrLineTooLong, d.longLine)
				continue
			}
			return line, true
		}
		if d.eof {
			d.stats.PartialBytes = d.skipped + int64(d.end-d.pos)
			return nil, false
		}
		d.fill()
	}
}

// fill reads more input, making room for it first.
func (d *Decoder) fill() {
	if d.pos > 0 {
		d.end = copy(d.buf, d.buf[d.pos:d.end])
		d.pos = 0
	}
	if d.end == len(d.buf) {
		if len(d.buf) < MaxLineBytes {
			grown := make([]byte, 2*len(d.buf))
			copy(grown, d.buf[:d.end])
			d.buf = grown
		} else {
			d.rejectLongLine()
		}
	}
	n, err := d.r.Read(d.buf[d.end:])
	d.end += n
	switch {
	case err == io.EOF:
		d.eof = true
	case err != nil:
		d.err = fmt.Errorf("%s: %w", d.cfg.File, err)
		d.eof = true
	}
}

// rejectLongLine drops the line that fills the whole buffer, keeping its
// start for the reject, and skips the rest of it. The line is rejected when
// its end is read: until then it is an incomplete last line, and Offset
// stays before it, so that a resumed decoder reads (and rejects) it once.
func (d *Decoder) rejectLongLine() {
	if !d.skipping {
		d.longLine = append(d.longLine[:0], d.buf[:min(d.end, 1024)]...)
		d.skipping = true
	}
	d.skipped += int64(d.end)
	d.end = 0
}

// decodeLine turns one line into a row, a reject or a new layout.
func (d *Decoder) decodeLine(line []byte) {
	d.stats.Lines++
	line, nul := trimLine(line)
	if nul {
		d.stats.NULRuns++
	}
	if len(line) == 0 {
		d.stats.BlankLines++
		return
	}
	if !utf8.Valid(line) {
		d.stats.InvalidUTF8++
		d.scratch = append(d.scratch[:0], bytes.ToValidUTF8(line, []byte("\uFFFD"))...)
		line = d.scratch
	}
	fields := splitFields(d.fields[:0], line)
	d.fields = fields

	l := d.layout
	if l == nil || len(fields) != len(l.fields) {
		if isHeader(fields) {
			d.setLayout(line, fields)
			return
		}
		var extra, ok bool
		fields, l, extra, ok = fit(l, fields)
		if !ok {
			want := len(defaultLayout28.fields)
			if l != nil {
				want = len(l.fields)
			}
			d.reject(d.line, "", fmt.Errorf("%w: %d, the header has %d", ErrFieldCount, len(fields), want), line)
			return
		}
		if extra {
			d.stats.ExtraEmptyFields++
		}
		if d.layout == nil || d.layout.header == "" {
			d.layout = l
		}
	}

	// Timestamp, Session Start and Session Duration: any one of them
	// follows from the other two.
	endField := l.field(fields, logSessionEnd)
	end, endHow, endOK := parseTime(endField, &d.zone)
	if !endOK && isHeader(fields) {
		d.setLayout(line, fields)
		return
	}
	startField := l.field(fields, logSessionStart)
	start, startHow, startOK := parseTime(startField, &d.zone)
	durationField := l.field(fields, logDuration)
	duration, durationHow, durationOK := parseDuration(durationField)
	switch {
	case endOK && startOK:
		if !durationOK {
			duration = max(end-start, 0)
			if len(durationField) == 0 {
				d.stats.DurationFallbacks++
			} else {
				d.stats.DerivedDurations++
			}
		}
	case startOK && durationOK:
		end = start + duration
		d.stats.DerivedTimestamps++
	case endOK && durationOK:
		start = end - duration
		d.stats.DerivedSessionStarts++
	case !endOK:
		d.reject(d.line, logColumns[logSessionEnd].header, fmt.Errorf("%w: %q", ErrTimestamp, endField), line)
		return
	default:
		d.reject(d.line, logColumns[logSessionStart].header, fmt.Errorf("%w: %q", ErrSessionStart, startField), line)
		return
	}
	if endOK {
		d.countTime(endHow)
	}
	if startOK {
		d.countTime(startHow)
	}
	if durationOK {
		switch durationHow {
		case durationDayClock:
			d.stats.DayClockDurations++
		case durationDayFraction:
			d.stats.DayFractions++
		}
	}
	if l.header == "" {
		d.stats.HeaderlessLines++
	}
	d.appendRow(l, fields, end, start, duration)
}

// countTime counts an accepted time by how it was written.
func (d *Decoder) countTime(how timeRead) {
	switch how {
	case timeWithOffset:
		return
	case timeAmbiguous:
		d.stats.AmbiguousTimes++
	case timeInGap:
		d.stats.GapTimes++
	}
	d.stats.OffsetlessTimes++
}

// setLayout makes a header line the column map for the lines after it.
func (d *Decoder) setLayout(line []byte, fields [][]byte) {
	d.stats.Headers++
	d.layout = newLayout(line, fields)
	d.stats.UnknownColumns += int64(len(d.layout.unknown))
	for _, name := range d.layout.unknown {
		d.stats.addUnknownColumn(name)
	}
}

func (d *Decoder) reject(lineNo int64, column string, err error, raw []byte) {
	d.stats.Rejects++
	d.rejects = append(d.rejects, Reject{
		ParseError: &ParseError{File: d.cfg.File, Line: lineNo, Column: column, Err: err},
		Raw:        string(raw),
	})
}

// appendRow converts the fields of an accepted line into the next row.
func (d *Decoder) appendRow(l *layout, fields [][]byte, end, start, duration int64) {
	if d.rows == d.capacity {
		d.grow()
	}
	row := d.rows
	for i, f := range l.fields {
		b := fields[i]
		switch f.kind {
		case kindDict:
			d.dicts[f.col].put(row, b)
		case kindString:
			d.strings[f.col].put(row, b)
		case kindTime:
			d.putTime(d.ints[f.col], row, b)
		case kindInt:
			d.putInt(d.ints[f.col], row, b)
		case kindFloat:
			d.putFloat(d.floats[f.col], row, b)
		}
	}
	for _, col := range l.missing {
		switch {
		case d.dicts[col] != nil:
			d.dicts[col].putNull(row)
		case d.strings[col] != nil:
			d.strings[col].putNull()
		case d.floats[col] != nil:
			d.floats[col].nulls++
		default:
			d.ints[col].nulls++
		}
	}
	// Session Start and Timestamp may be derived, so they are stored even
	// where the layout lacks their column.
	d.ints[ColSessionEnd].put(row, end)
	d.ints[ColSessionStart].put(row, start)

	d.dicts[ColServer].putIndex(row, 0)
	d.dicts[ColSourceFile].putIndex(row, 0)
	d.ints[ColSourceLine].put(row, d.line)
	d.putUser(l, fields, row)
	d.dicts[ColDocumentKey].putIndex(row, d.documentKey(l, row))
	d.dicts[ColCALClass].putIndex(row, int32(d.calClass(l, row)))
	d.dicts[ColExitClass].putIndex(row, int32(d.exitClass(l, row)))
	d.ints[ColDurationMS].put(row, duration)
	count := d.ints[ColCALUsageCount]
	if reason := d.plaus.reason(start, end, duration, count.vals[row], count.valid(row)); reason != "" {
		d.stats.ImplausibleValues++
		d.dicts[ColImplausible].put(row, []byte(reason))
	} else {
		d.dicts[ColImplausible].putNull(row)
	}
	d.rows++
	d.stats.Rows++
}

func (d *Decoder) putTime(c *int64Column, row int, b []byte) {
	if len(b) == 0 {
		c.nulls++
		return
	}
	ms, how, ok := parseTime(b, &d.zone)
	if !ok {
		d.stats.InvalidTimes++
		c.nulls++
		return
	}
	d.countTime(how)
	c.put(row, ms)
}

// putInt stores a counter: null when empty, -1, unreadable or beyond int64
// (never wrapped).
func (d *Decoder) putInt(c *int64Column, row int, b []byte) {
	if len(b) == 0 {
		c.nulls++
		return
	}
	v, how := parseInt(b)
	switch how {
	case intInvalid:
		d.stats.InvalidNumbers++
	case intOverflow:
		d.stats.OverflowedCounters++
	}
	if how != intOK || v == -1 {
		c.nulls++
		return
	}
	c.put(row, v)
}

func (d *Decoder) putFloat(c *float64Column, row int, b []byte) {
	if len(b) == 0 {
		c.nulls++
		return
	}
	v, ok := parseDecimal(b)
	if !ok {
		d.stats.InvalidNumbers++
		c.nulls++
		return
	}
	c.put(row, v)
}

// putUser stores the user_key and user of a row: both from the first
// non-blank of Authenticated User and Identifying User, else from the
// Client Machine Identification (see UserKey and UserDisplay).
func (d *Decoder) putUser(l *layout, fields [][]byte, row int) {
	which := userField(l.field(fields, logAuthUser), l.field(fields, logIdentUser))
	if which == userFromClient {
		client := l.field(fields, logClientID)
		d.scratch = appendUserKey(d.scratch[:0], client)
		d.dicts[ColUserKey].putIndex(row, d.dicts[ColUserKey].intern(d.scratch))
		d.dicts[ColUser].putIndex(row, d.dicts[ColUser].intern(trimSpaces(client)))
		return
	}
	src := d.dicts[logColumns[userSourceColumns[which]].col]
	idx := src.indices[row]
	memo := &d.userOf[which]
	for int(idx) >= len(*memo) {
		*memo = append(*memo, userIndices{-1, -1})
	}
	u := &(*memo)[idx]
	if u.key < 0 {
		value := src.dict.Value(idx)
		d.scratch = appendUserKey(d.scratch[:0], value)
		u.key = d.dicts[ColUserKey].intern(d.scratch)
		u.name = d.dicts[ColUser].intern(trimSpaces(value))
	}
	d.dicts[ColUserKey].putIndex(row, u.key)
	d.dicts[ColUser].putIndex(row, u.name)
}

// userIndices are the user_key and user dictionary indices of one
// Authenticated or Identifying User value.
type userIndices struct{ key, name int32 }

// userSourceColumns are the log columns of userFromAuthenticated and
// userFromIdentifying.
var userSourceColumns = [2]int{logAuthUser, logIdentUser}

// documentKey is the document path with '\' turned into '/', lower-cased.
func (d *Decoder) documentKey(l *layout, row int) int32 {
	if l.pos[logDocument] < 0 {
		return d.dicts[ColDocumentKey].intern(nil)
	}
	src := d.dicts[ColDocument]
	return d.derivedKeyInto(d.dicts[ColDocumentKey], &d.docKeyOf, src, src.indices[row], appendDocumentKey)
}

// derivedKeyInto interns fold(value) of a source dictionary entry into the
// target column, once per entry and batch.
func (d *Decoder) derivedKeyInto(target *dictColumn, memo *[]int32, src *dictColumn, idx int32, fold func(dst, src []byte) []byte) int32 {
	for int(idx) >= len(*memo) {
		*memo = append(*memo, -1)
	}
	if k := (*memo)[idx]; k >= 0 {
		return k
	}
	d.scratch = fold(d.scratch[:0], src.dict.Value(idx))
	k := target.intern(d.scratch)
	(*memo)[idx] = k
	return k
}

func (d *Decoder) calClass(l *layout, row int) CALClass {
	if l.pos[logCALType] < 0 {
		return CALNone
	}
	src := d.dicts[ColCALType]
	idx := src.indices[row]
	for int(idx) >= len(d.calClassOf) {
		d.calClassOf = append(d.calClassOf, -1)
	}
	if d.calClassOf[idx] < 0 {
		d.calClassOf[idx] = int8(ClassifyCAL(src.dict.Value(idx)))
	}
	class := CALClass(d.calClassOf[idx])
	if class == CALUnknown {
		d.stats.UnknownCALTypes++
	}
	return class
}

func (d *Decoder) exitClass(l *layout, row int) ExitClass {
	if l.pos[logExitReason] < 0 {
		return ExitOther
	}
	src := d.dicts[ColExitReason]
	idx := src.indices[row]
	for int(idx) >= len(d.exitClassOf) {
		d.exitClassOf = append(d.exitClassOf, -1)
	}
	if d.exitClassOf[idx] < 0 {
		d.exitClassOf[idx] = int8(ClassifyExit(src.dict.Value(idx)))
	}
	return ExitClass(d.exitClassOf[idx])
}

// startBatch takes column buffers for a batch. The first batch's start
// small and double up to the batch size, so that a short file costs little;
// later batches start at the size the previous one reached.
func (d *Decoder) startBatch() {
	d.rows = 0
	if d.capacity == 0 {
		d.capacity = min(d.batch, 1024)
	}
	p := &d.pool
	for i := range NumColumns {
		switch {
		case d.dicts[i] != nil:
			d.dicts[i].reset(p, d.capacity)
		case d.strings[i] != nil:
			d.strings[i].reset(p, d.capacity)
		case d.floats[i] != nil:
			d.floats[i].reset(p, d.capacity)
		default:
			d.ints[i].reset(p, d.capacity)
		}
	}
	d.dicts[ColServer].intern([]byte(d.cfg.Server))
	d.dicts[ColSourceFile].intern([]byte(d.cfg.File))
	for _, class := range CALClasses() {
		d.dicts[ColCALClass].intern([]byte(class.String()))
	}
	for _, class := range exitClassNames {
		d.dicts[ColExitClass].intern([]byte(class))
	}
	for i := range d.userOf {
		d.userOf[i] = d.userOf[i][:0]
	}
	d.docKeyOf = d.docKeyOf[:0]
	d.calClassOf = d.calClassOf[:0]
	d.exitClassOf = d.exitClassOf[:0]
}

// grow doubles the column buffers, up to the batch size.
func (d *Decoder) grow() {
	d.capacity = min(2*d.capacity, d.batch)
	p := &d.pool
	for i := range NumColumns {
		switch {
		case d.dicts[i] != nil:
			d.dicts[i].grow(p, d.capacity)
		case d.strings[i] != nil:
			d.strings[i].grow(p, d.capacity)
		case d.floats[i] != nil:
			d.floats[i].grow(p, d.capacity)
		default:
			d.ints[i].grow(p, d.capacity)
		}
	}
}

// finishBatch hands the column buffers to Arrow as one record.
func (d *Decoder) finishBatch() arrow.Record {
	cols := make([]arrow.Array, NumColumns)
	for i, f := range Schema.Fields() {
		switch {
		case d.dicts[i] != nil:
			cols[i] = d.dicts[i].array(&d.pool, d.rows)
		case d.strings[i] != nil:
			cols[i] = d.strings[i].array(&d.pool)
		case d.floats[i] != nil:
			cols[i] = d.floats[i].array(&d.pool, f.Type, d.rows)
		default:
			cols[i] = d.ints[i].array(&d.pool, f.Type, d.rows)
		}
	}
	rec := array.NewRecord(Schema, cols, int64(d.rows))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// splitFields appends the tab-separated fields of line to fields. It looks
// at eight bytes at a time (a field is 15 bytes on average, too short for
// bytes.IndexByte's call to pay off): in w ^ tabs a tab is a zero byte,
// and the expression below sets the high bit of exactly those bytes, with
// no borrow from one byte to the next.
func splitFields(fields [][]byte, line []byte) [][]byte {
	const (
		tabs = 0x0909090909090909
		low7 = 0x7F7F7F7F7F7F7F7F
	)
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ tabs
		for m := ^((x&low7 + low7) | x | low7); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			fields = append(fields, line[start:j])
			start = j + 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == '\t' {
			fields = append(fields, line[start:i])
			start = i + 1
		}
	}
	return append(fields, line[start:])
}
