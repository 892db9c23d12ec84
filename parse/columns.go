package parse

import (
	"hash/maphash"
	"slices"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Column buffers are sized for a whole batch when the batch starts, so
// appending a value is a store and never a capacity check that grows. When a
// batch is finished the buffers are handed to Arrow (wrapped, not copied) and
// fresh ones are taken for the next batch: a record the caller retains is
// never overwritten. The fixed-size buffers come from a bufferPool and go
// back to it when the record's last reference is released, so a caller
// that releases each record (as the Next loop does) decodes batch after
// batch in the same memory.

// bufferPool is an arrow memory.Allocator that recycles buffers by size.
type bufferPool struct {
	mu   sync.Mutex
	free map[int][][]byte
}

// maxPooled bounds the buffers of one size kept for reuse.
const maxPooled = 2 * NumColumns

func (p *bufferPool) Allocate(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if list := p.free[size]; len(list) > 0 {
		b := list[len(list)-1]
		p.free[size] = list[:len(list)-1]
		return b
	}
	return make([]byte, size)
}

func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	grown := p.Allocate(size)
	copy(grown, b)
	p.Free(b)
	return grown
}

func (p *bufferPool) Free(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	if len(p.free[len(b)]) < maxPooled {
		p.free[len(b)] = append(p.free[len(b)], b)
	}
}

// buffer wraps a pooled slice for Arrow; Arrow frees it back to the pool.
func (p *bufferPool) buffer(b []byte) *memory.Buffer { return memory.NewBufferWithAllocator(b, p) }

// validity is an Arrow validity bitmap (bit set = value present).
type validity struct {
	bits  []byte
	nulls int
}

func (v *validity) reset(pool *bufferPool, capacity int) {
	v.bits = pool.Allocate((capacity + 7) / 8)
	clear(v.bits)
	v.nulls = 0
}

func (v *validity) grow(pool *bufferPool, capacity int) {
	grown := pool.Allocate((capacity + 7) / 8)
	clear(grown[copy(grown, v.bits):])
	pool.Free(v.bits)
	v.bits = grown
}

func (v *validity) set(row int) { v.bits[row>>3] |= 1 << (row & 7) }

func (v *validity) valid(row int) bool { return v.bits[row>>3]&(1<<(row&7)) != 0 }

// buffer hands the bitmap to Arrow, or back to the pool when no value is
// null (Arrow then needs no bitmap).
func (v *validity) buffer(pool *bufferPool) *memory.Buffer {
	if v.nulls == 0 {
		pool.Free(v.bits)
		return nil
	}
	return pool.buffer(v.bits)
}

// newData builds array data from buffers and releases this function's
// references to them: the data holds the only ones.
func newData(typ arrow.DataType, rows int, buffers []*memory.Buffer, nulls int) arrow.ArrayData {
	data := array.NewData(typ, rows, buffers, nil, nulls, 0)
	for _, b := range buffers {
		if b != nil {
			b.Release()
		}
	}
	return data
}

func makeArray(data arrow.ArrayData) arrow.Array {
	defer data.Release()
	return array.MakeFromData(data)
}

// fixedColumn holds 8-byte values: counters, times (ms since the epoch)
// and durations as int64, CPU seconds as float64.
type fixedColumn[T int64 | float64] struct {
	vals []T
	validity
}

type (
	int64Column   = fixedColumn[int64]
	float64Column = fixedColumn[float64]
)

func (c *fixedColumn[T]) reset(pool *bufferPool, capacity int) {
	c.vals = arrow.GetData[T](pool.Allocate(capacity * 8))
	c.validity.reset(pool, capacity)
}

func (c *fixedColumn[T]) grow(pool *bufferPool, capacity int) {
	c.vals = arrow.GetData[T](pool.Reallocate(capacity*8, arrow.GetBytes(c.vals)))
	c.validity.grow(pool, capacity)
}

func (c *fixedColumn[T]) put(row int, v T) {
	c.vals[row] = v
	c.set(row)
}

func (c *fixedColumn[T]) array(pool *bufferPool, typ arrow.DataType, rows int) arrow.Array {
	return makeArray(newData(typ, rows, []*memory.Buffer{c.buffer(pool), pool.buffer(arrow.GetBytes(c.vals))}, c.nulls))
}

// stringValues is an Arrow string array under construction: offsets into one
// byte arena.
type stringValues struct {
	offsets []int32
	data    []byte
}

func (s *stringValues) reset(capacity, dataBytes int) {
	s.offsets = make([]int32, 1, capacity+1)
	s.data = make([]byte, 0, dataBytes)
}

func (s *stringValues) add(b []byte) {
	s.data = append(s.data, b...)
	s.offsets = append(s.offsets, int32(len(s.data)))
}

func (s *stringValues) len() int { return len(s.offsets) - 1 }

func (s *stringValues) value(i int32) []byte { return s.data[s.offsets[i]:s.offsets[i+1]] }

func (s *stringValues) arrayData(bitmap *memory.Buffer, nulls int) arrow.ArrayData {
	return newData(arrow.BinaryTypes.String, s.len(),
		[]*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(s.offsets)), memory.NewBufferBytes(s.data)},
		nulls)
}

// stringColumn is a plain (not dictionary-encoded) string column, for values
// that rarely repeat such as Session ID.
type stringColumn struct {
	stringValues
	validity
}

func (c *stringColumn) reset(pool *bufferPool, capacity int) {
	c.stringValues.reset(capacity, capacity*36)
	c.validity.reset(pool, capacity)
}

// grow makes room for capacity rows: the bytes grow with the rows (append
// alone would grow them by a quarter at a time, copying them again and
// again while a batch fills).
func (c *stringColumn) grow(pool *bufferPool, capacity int) {
	c.validity.grow(pool, capacity)
	c.offsets = slices.Grow(c.offsets, capacity+1-len(c.offsets))
	if rows := c.len(); rows > 0 {
		c.data = slices.Grow(c.data, len(c.data)*capacity/rows-len(c.data))
	}
}

func (c *stringColumn) put(row int, b []byte) {
	c.add(b)
	c.set(row)
}

func (c *stringColumn) putNull() {
	c.add(nil)
	c.nulls++
}

func (c *stringColumn) array(pool *bufferPool) arrow.Array {
	return makeArray(c.arrayData(c.validity.buffer(pool), c.nulls))
}

// Dictionary interns byte strings as dense indices 0, 1, 2, … in the order
// first seen: the decoder's dictionary encoding of a string column, and the
// Parquet writer's (ingest). Values are kept in an open-addressing hash
// table, so a repeated value costs one hash and one compare, and no
// allocation. A table slot holds the value's index and the high half of its
// hash, so that a probe compares bytes only for a real candidate: with
// thousands of distinct users or clients, every extra memory access is a
// cache miss. The last value interned is checked first: columns such as Exe
// Version or CAL Type repeat row after row.
type Dictionary struct {
	dict   stringValues
	hashes []uint64 // hash of each value, to rebuild the table
	table  []uint64 // hash tag (high 32 bits) | index + 1; 0 = empty
	last   int32    // index of the last value interned, or -1
}

const tagMask uint64 = 0xFFFFFFFF_00000000

var dictSeed = maphash.MakeSeed()

// Reset empties the dictionary, keeping its memory. A Dictionary must be
// Reset before its first use.
func (d *Dictionary) Reset() {
	d.dict.offsets, d.dict.data = append(d.dict.offsets[:0], 0), d.dict.data[:0]
	d.clear()
}

// clear empties the table for new values, which the caller has just
// allocated.
func (d *Dictionary) clear() {
	d.hashes = d.hashes[:0]
	if d.table == nil {
		d.table = make([]uint64, 256)
	} else {
		clear(d.table)
	}
	d.last = -1
}

// Len returns the number of values.
func (d *Dictionary) Len() int { return d.dict.len() }

// Value returns value i. It shares the dictionary's memory: valid until
// the next Reset.
func (d *Dictionary) Value(i int32) []byte { return d.dict.value(i) }

// Intern returns the index of b, adding it if new.
func (d *Dictionary) Intern(b []byte) int32 {
	if d.last >= 0 && string(d.dict.value(d.last)) == string(b) {
		return d.last
	}
	h := maphash.Bytes(dictSeed, b)
	tag := h & tagMask
	mask := uint64(len(d.table) - 1)
	for slot := h & mask; ; slot = (slot + 1) & mask {
		e := d.table[slot]
		if e == 0 {
			idx := int32(d.dict.len())
			d.dict.add(b)
			d.hashes = append(d.hashes, h)
			d.table[slot] = tag | uint64(idx+1)
			if 2*len(d.hashes) > len(d.table) {
				d.rehash()
			}
			d.last = idx
			return idx
		}
		if e&tagMask == tag {
			if idx := int32(uint32(e)) - 1; string(d.dict.value(idx)) == string(b) {
				d.last = idx
				return idx
			}
		}
	}
}

func (d *Dictionary) rehash() {
	d.table = make([]uint64, 2*len(d.table))
	mask := uint64(len(d.table) - 1)
	for idx, h := range d.hashes {
		slot := h & mask
		for d.table[slot] != 0 {
			slot = (slot + 1) & mask
		}
		d.table[slot] = h&tagMask | uint64(idx+1)
	}
}

// dictColumn is a dictionary-encoded string column: its batch's
// Dictionary and each row's index.
type dictColumn struct {
	dict    Dictionary
	indices []int32
	validity
}

func (c *dictColumn) reset(pool *bufferPool, capacity int) {
	// The previous batch's dictionary was handed to Arrow: take new memory,
	// as much as it ended with, so that a column with thousands of users or
	// clients does not grow its dictionary step by step in every batch.
	c.dict.dict.reset(max(64, c.dict.Len()), max(1024, len(c.dict.dict.data)))
	c.dict.clear()
	c.indices = arrow.Int32Traits.CastFromBytes(pool.Allocate(capacity * 4))
	c.validity.reset(pool, capacity)
}

func (c *dictColumn) grow(pool *bufferPool, capacity int) {
	c.indices = arrow.Int32Traits.CastFromBytes(pool.Reallocate(capacity*4, arrow.Int32Traits.CastToBytes(c.indices)))
	c.validity.grow(pool, capacity)
}

// intern returns the dictionary index of b, adding it if new.
func (c *dictColumn) intern(b []byte) int32 { return c.dict.Intern(b) }

func (c *dictColumn) put(row int, b []byte) int32 {
	idx := c.intern(b)
	c.indices[row] = idx
	c.set(row)
	return idx
}

// putNull stores a null; its index is 0, a valid one even when the
// dictionary is empty, for readers that look at it.
func (c *dictColumn) putNull(row int) {
	c.indices[row] = 0
	c.nulls++
}

func (c *dictColumn) putIndex(row int, idx int32) {
	c.indices[row] = idx
	c.set(row)
}

func (c *dictColumn) array(pool *bufferPool, rows int) arrow.Array {
	indices := makeArray(newData(arrow.PrimitiveTypes.Int32, rows, []*memory.Buffer{c.buffer(pool), pool.buffer(arrow.Int32Traits.CastToBytes(c.indices))}, c.nulls))
	defer indices.Release()
	dict := makeArray(c.dict.dict.arrayData(nil, 0))
	defer dict.Release()
	return array.NewDictionaryArray(DictString, indices, dict)
}
