package parse

import (
	"hash/maphash"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Column buffers are sized for a whole batch when the batch starts, so
// appending a value is a store and never a capacity check that grows. When a
// batch is finished the buffers are handed to Arrow (wrapped, not copied) and
// fresh ones are made for the next batch: a record the caller retains is
// never overwritten.

// validity is an Arrow validity bitmap (bit set = value present).
type validity struct {
	bits  []byte
	nulls int
}

func (v *validity) reset(capacity int) {
	v.bits = make([]byte, (capacity+7)/8)
	v.nulls = 0
}

func (v *validity) set(row int) { v.bits[row>>3] |= 1 << (row & 7) }

func (v *validity) buffer() *memory.Buffer {
	if v.nulls == 0 {
		return nil
	}
	return memory.NewBufferBytes(v.bits)
}

// int64Column holds counters, times (ms since the epoch) and durations.
type int64Column struct {
	vals []int64
	validity
}

func (c *int64Column) reset(capacity int) {
	c.vals = make([]int64, capacity)
	c.validity.reset(capacity)
}

func (c *int64Column) put(row int, v int64) {
	c.vals[row] = v
	c.set(row)
}

func (c *int64Column) array(typ arrow.DataType, rows int) arrow.Array {
	data := array.NewData(typ, rows,
		[]*memory.Buffer{c.buffer(), memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(c.vals[:rows]))},
		nil, c.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

type float64Column struct {
	vals []float64
	validity
}

func (c *float64Column) reset(capacity int) {
	c.vals = make([]float64, capacity)
	c.validity.reset(capacity)
}

func (c *float64Column) put(row int, v float64) {
	c.vals[row] = v
	c.set(row)
}

func (c *float64Column) array(rows int) arrow.Array {
	data := array.NewData(arrow.PrimitiveTypes.Float64, rows,
		[]*memory.Buffer{c.buffer(), memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.vals[:rows]))},
		nil, c.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// stringValues is an Arrow string array under construction: offsets into one
// byte arena.
type stringValues struct {
	offsets []int32
	data    []byte
}

func (s *stringValues) reset(capacity, bytesPerValue int) {
	s.offsets = make([]int32, 1, capacity+1)
	s.data = make([]byte, 0, capacity*bytesPerValue)
}

func (s *stringValues) add(b []byte) {
	s.data = append(s.data, b...)
	s.offsets = append(s.offsets, int32(len(s.data)))
}

func (s *stringValues) len() int { return len(s.offsets) - 1 }

func (s *stringValues) value(i int32) []byte { return s.data[s.offsets[i]:s.offsets[i+1]] }

func (s *stringValues) arrayData(valid *validity) arrow.ArrayData {
	var bitmap *memory.Buffer
	nulls := 0
	if valid != nil {
		bitmap, nulls = valid.buffer(), valid.nulls
	}
	return array.NewData(arrow.BinaryTypes.String, s.len(),
		[]*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(s.offsets)), memory.NewBufferBytes(s.data)},
		nil, nulls, 0)
}

// stringColumn is a plain (not dictionary-encoded) string column, for values
// that rarely repeat such as Session ID.
type stringColumn struct {
	stringValues
	validity
}

func (c *stringColumn) reset(capacity int) {
	c.stringValues.reset(capacity, 36)
	c.validity.reset(capacity)
}

func (c *stringColumn) put(row int, b []byte) {
	c.add(b)
	c.set(row)
}

func (c *stringColumn) putNull() {
	c.add(nil)
	c.nulls++
}

func (c *stringColumn) array() arrow.Array {
	data := c.arrayData(&c.validity)
	defer data.Release()
	return array.MakeFromData(data)
}

// dictColumn is a dictionary-encoded string column. Values are interned in
// an open-addressing hash table over the batch's dictionary, so a repeated
// value costs one hash and one compare, and no allocation. The previous row's
// value is checked first: columns such as Exe Version or CAL Type repeat
// row after row.
type dictColumn struct {
	dict    stringValues
	hashes  []uint64 // hash of each dictionary value, to grow the table
	table   []int32  // dictionary index + 1; 0 = empty slot
	indices []int32
	validity
	last int32 // dictionary index of the previous row's value, or -1
}

var dictSeed = maphash.MakeSeed()

func (c *dictColumn) reset(capacity int) {
	c.dict.reset(64, 16)
	c.hashes = c.hashes[:0]
	if c.table == nil {
		c.table = make([]int32, 256)
	} else {
		clear(c.table)
	}
	c.indices = make([]int32, capacity)
	c.validity.reset(capacity)
	c.last = -1
}

// intern returns the dictionary index of b, adding it if new.
func (c *dictColumn) intern(b []byte) int32 {
	if c.last >= 0 && string(c.dict.value(c.last)) == string(b) {
		return c.last
	}
	h := maphash.Bytes(dictSeed, b)
	mask := uint64(len(c.table) - 1)
	for slot := h & mask; ; slot = (slot + 1) & mask {
		idx := c.table[slot] - 1
		if idx < 0 {
			idx = int32(c.dict.len())
			c.dict.add(b)
			c.hashes = append(c.hashes, h)
			c.table[slot] = idx + 1
			if 2*len(c.hashes) > len(c.table) {
				c.grow()
			}
			c.last = idx
			return idx
		}
		if c.hashes[idx] == h && string(c.dict.value(idx)) == string(b) {
			c.last = idx
			return idx
		}
	}
}

func (c *dictColumn) grow() {
	c.table = make([]int32, 2*len(c.table))
	mask := uint64(len(c.table) - 1)
	for idx, h := range c.hashes {
		slot := h & mask
		for c.table[slot] != 0 {
			slot = (slot + 1) & mask
		}
		c.table[slot] = int32(idx) + 1
	}
}

func (c *dictColumn) put(row int, b []byte) int32 {
	idx := c.intern(b)
	c.indices[row] = idx
	c.set(row)
	return idx
}

func (c *dictColumn) putIndex(row int, idx int32) {
	c.indices[row] = idx
	c.set(row)
}

func (c *dictColumn) array(rows int) arrow.Array {
	indexData := array.NewData(arrow.PrimitiveTypes.Int32, rows,
		[]*memory.Buffer{c.buffer(), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.indices[:rows]))},
		nil, c.nulls, 0)
	defer indexData.Release()
	dictData := c.dict.arrayData(nil)
	defer dictData.Release()
	indices := array.MakeFromData(indexData)
	defer indices.Release()
	dict := array.MakeFromData(dictData)
	defer dict.Release()
	return array.NewDictionaryArray(DictString, indices, dict)
}
