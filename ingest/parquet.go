package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/plain"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// rowsPerRowGroup bounds a row group. Compressed pages of the open row group
// are held in memory until it is flushed, so this bounds memory per open
// file (about 6 MiB at 64k rows); 64k-row groups still read well in DuckDB.
const rowsPerRowGroup = 64 * 1024

// rowsPerPage bounds a data page: the values of the open page are held
// uncompressed (a few hundred bytes a row), so this bounds that memory per
// open file.
const rowsPerPage = 8 * 1024

// sessionSchema is the Parquet schema of the sessions dataset.
var sessionSchema = parquet.SchemaOf(new(dataset.SessionRow))

// zstdFast trades a little size for speed: the dataset is written nightly
// and read by DuckDB, which decompresses either level at the same speed.
var zstdFast = newZstdCodec()

// sessionWriterOptions are parquet-go's writer options for session files
// that are rewritten row by row (see dedupe.go): zstdFast, and page bounds
// only where a reader may filter on them: times and numbers, not free text.
var sessionWriterOptions = func() []parquet.WriterOption {
	opts := []parquet.WriterOption{parquet.Compression(zstdFast), parquet.CreatedBy("qvmeter", "", "")}
	for _, path := range sessionSchema.Columns() {
		if leaf, _ := sessionSchema.Lookup(path...); leaf.Node.Type().Kind() == parquet.ByteArray {
			opts = append(opts, parquet.SkipPageBounds(path...))
		}
	}
	return opts
}()

// The session files of an ingest run are written by sessionWriter, not by
// parquet-go's writer: parquet-go takes one parquet.Value at a time and
// dictionary-encodes each string by a map lookup, which cost more than
// decoding the log. The decoder's records are already dictionary-encoded
// per batch, so sessionWriter maps each batch dictionary entry to the row
// group's dictionary once, and writes the indices; numbers are copied from
// the Arrow buffers. The pages are encoded with parquet-go's encodings and
// the metadata with its thrift types, and the schema is the one parquet-go
// derives from dataset.SessionRow (sessionFooter), so that a file reads
// exactly as one parquet-go wrote.

// sessionFooter is the footer parquet-go writes for dataset.SessionRow with
// sessionWriterOptions and no rows: the schema, column orders and created
// by of every session file.
var sessionFooter = func() format.FileMetaData {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[dataset.SessionRow](&buf, sessionWriterOptions...)
	if err := w.Close(); err != nil {
		panic(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(err)
	}
	return *f.Metadata()
}()

// columnKind is how sessionWriter encodes a column.
type columnKind uint8

const (
	kindInt64  columnKind = iota // PLAIN, or DELTA_BINARY_PACKED with the delta tag
	kindDouble                   // PLAIN
	kindDict                     // RLE_DICTIONARY, the dictionary PLAIN
	kindBytes                    // PLAIN
)

// deltaColumns are the int64 columns written DELTA_BINARY_PACKED, the rest
// PLAIN. Measured on the 1 GiB generated log: times near the previous row's
// (session_end, session_start, server_started), the line number, and
// counters spread over a wide range shrink by 10-30% after zstd and hand
// zstd a quarter of the bytes; document_timestamp, duration_ms and the
// small counters repeat values that zstd finds in PLAIN and grow under
// DELTA (document_timestamp 3.2 MB -> 8.1 MB); session_key is random.
var deltaColumns = map[string]bool{
	"session_end": true, "session_start": true, "server_started": true, "source_line": true,
	"bytes_received": true, "bytes_sent": true, "client_port": true, "server_port": true,
}

// sessionColumn is one column of dataset.SessionRow: its source and
// encoding. Columns are in schema order.
type sessionColumn struct {
	arrow    int // index in parse.Schema, or -1 for session_key
	path     []string
	kind     columnKind
	optional bool
	delta    bool
}

var sessionColumns = func() []sessionColumn {
	var cols []sessionColumn
	t := reflect.TypeFor[dataset.SessionRow]()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		c := sessionColumn{arrow: -1, path: []string{tag[0]}}
		if idx := parse.Schema.FieldIndices(tag[0]); len(idx) == 1 {
			c.arrow = idx[0]
		} else if tag[0] != "session_key" {
			panic("ingest: Parquet column " + tag[0] + " is not in parse.Schema")
		}
		typ := f.Type
		if typ.Kind() == reflect.Pointer {
			c.optional, typ = true, typ.Elem()
		}
		switch {
		case typ.Kind() == reflect.Float64:
			c.kind = kindDouble
		case typ.Kind() == reflect.Int64:
			c.kind, c.delta = kindInt64, deltaColumns[tag[0]]
		case slices.Contains(tag, "dict"):
			c.kind = kindDict
		default:
			c.kind = kindBytes
		}
		leaf, ok := sessionSchema.Lookup(tag[0])
		if !ok || leaf.ColumnIndex != len(cols) || (leaf.MaxDefinitionLevel > 0) != c.optional {
			panic("ingest: column " + tag[0] + " is not where parquet-go's schema has it")
		}
		cols = append(cols, c)
	}
	return cols
}()

// sessionWriter writes parser records to one Parquet file, column by column
// straight from the Arrow buffers.
type sessionWriter struct {
	out     countingWriter
	columns []columnWriter
	groups  []format.RowGroup
	rows    int64  // rows written
	inGroup int    // rows in the open row group
	inPage  int    // rows in the open page
	scratch []byte // a page body
	encoded []byte // its values
	zipped  []byte // compressed
	header  []byte
	err     error
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// columnWriter holds one column's open page and open column chunk.
type columnWriter struct {
	sessionColumn

	// The open page.
	levels  []byte // definition levels of an optional column
	nulls   int
	ints    []int64
	doubles []float64
	indices []int32
	data    []byte   // byte array values
	offsets []uint32 // into data, starting with 0

	// The open column chunk: its dictionary, its compressed data pages
	// and what the metadata says of them.
	dict      parse.Dictionary
	remap     []int32 // batch dictionary index → dict index + 1 (0: not yet mapped)
	chunk     bytes.Buffer
	pages     []pageInfo
	values    int64 // values written, nulls included
	nullCount int64
	rawBytes  int64  // uncompressed size: headers and page bodies
	min, max  []byte // the chunk's bounds, as pageInfo's

	// The row groups' chunks, for the page index written at the end.
	chunks []chunkIndex
}

// pageInfo is what the page index says of one data page.
type pageInfo struct {
	offset   int64 // in the column chunk
	size     int32
	firstRow int64
	rows     int64
	nulls    int64
	min, max []byte // PLAIN-encoded bounds of a number column, nil if none
}

type chunkIndex struct {
	chunk int // index in the row group's Columns
	pages []pageInfo
	base  int64 // file offset of the chunk's first data page
}

func newSessionWriter(out io.Writer) *sessionWriter {
	s := &sessionWriter{out: countingWriter{w: out}}
	s.columns = make([]columnWriter, len(sessionColumns))
	for i, c := range sessionColumns {
		s.columns[i].sessionColumn = c
		s.columns[i].offsets = []uint32{0}
		s.columns[i].dict.Reset()
	}
	s.write4([]byte("PAR1"))
	return s
}

func (s *sessionWriter) write4(b []byte) {
	if s.err == nil {
		_, s.err = s.out.Write(b)
	}
}

// write appends the rows of rec listed in keep, with their session keys.
func (s *sessionWriter) write(rec arrow.Record, keep []int32, keys []uint64) error {
	for i := range s.columns {
		if c := &s.columns[i]; c.kind == kindDict {
			c.remap = c.remap[:0]
		}
	}
	for len(keep) > 0 && s.err == nil {
		n := min(len(keep), rowsPerPage-s.inPage, rowsPerRowGroup-s.inGroup)
		for i := range s.columns {
			s.columns[i].add(rec, keep[:n], keys)
		}
		keep = keep[n:]
		s.rows += int64(n)
		s.inGroup += n
		s.inPage += n
		if s.inPage == rowsPerPage || s.inGroup == rowsPerRowGroup {
			s.flushPage()
		}
		if s.inGroup == rowsPerRowGroup {
			s.flushRowGroup()
		}
	}
	return s.err
}

// add appends the kept rows of the column's source to the open page.
func (c *columnWriter) add(rec arrow.Record, keep []int32, keys []uint64) {
	if c.arrow < 0 {
		for _, row := range keep {
			c.ints = append(c.ints, int64(keys[row]))
		}
		return
	}
	col := rec.Column(c.arrow)
	valid := validity{}
	if col.NullN() > 0 {
		valid = validity{col.NullBitmapBytes(), col.Data().Offset()}
	}
	if c.optional {
		for _, row := range keep {
			if valid.at(row) {
				c.levels = append(c.levels, 1)
			} else {
				c.levels = append(c.levels, 0)
				c.nulls++
			}
		}
	}
	switch a := col.(type) {
	case *array.Dictionary:
		dict := a.Dictionary().(*array.String)
		indices := a.Indices().(*array.Int32).Int32Values()
		if len(c.remap) < dict.Len() {
			c.remap = append(c.remap, make([]int32, dict.Len()-len(c.remap))...)
		}
		for _, row := range keep {
			if !valid.at(row) {
				continue
			}
			i := indices[row]
			if c.remap[i] == 0 {
				c.remap[i] = c.dict.Intern(stringBytes(dict.Value(int(i)))) + 1
			}
			c.indices = append(c.indices, c.remap[i]-1)
		}
	case *array.String:
		for _, row := range keep {
			switch {
			case !valid.at(row):
			case c.kind == kindDict: // client_machine_id and client_address: plain in Arrow, as they seldom repeat within a batch
				c.indices = append(c.indices, c.dict.Intern(stringBytes(a.Value(int(row)))))
			default:
				c.data = append(c.data, a.Value(int(row))...)
				c.offsets = append(c.offsets, uint32(len(c.data)))
			}
		}
	case *array.Float64:
		values := a.Float64Values()
		for _, row := range keep {
			if valid.at(row) {
				c.doubles = append(c.doubles, values[row])
			}
		}
	case *array.Int64:
		c.addInt64s(a.Int64Values(), keep, valid)
	case *array.Timestamp:
		ts := a.TimestampValues()
		c.addInt64s(unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(ts))), len(ts)), keep, valid)
	default:
		panic("ingest: unexpected Arrow type " + col.DataType().String())
	}
}

// validity reads an Arrow validity bitmap; a nil one has no nulls.
type validity struct {
	bits   []byte
	offset int
}

func (v validity) at(row int32) bool {
	i := v.offset + int(row)
	return v.bits == nil || v.bits[i>>3]&(1<<(i&7)) != 0
}

func (c *columnWriter) addInt64s(values []int64, keep []int32, valid validity) {
	for _, row := range keep {
		if valid.at(row) {
			c.ints = append(c.ints, values[row])
		}
	}
}

// flushPage encodes, compresses and appends the open page of every column
// to its column chunk.
func (s *sessionWriter) flushPage() {
	if s.inPage == 0 {
		return
	}
	for i := range s.columns {
		c := &s.columns[i]
		page := pageInfo{offset: int64(c.chunk.Len()), firstRow: int64(s.inGroup - s.inPage), rows: int64(s.inPage), nulls: int64(c.nulls)}
		body := s.scratch[:0]
		var err error
		if c.optional {
			s.encoded, err = (&rle.Encoding{BitWidth: 1}).EncodeLevels(s.encoded, c.levels)
			body = binary.LittleEndian.AppendUint32(body, uint32(len(s.encoded)))
			body = append(body, s.encoded...)
		}
		encoding := format.Plain
		switch c.kind {
		case kindInt64:
			if len(c.ints) > 0 {
				page.min = binary.LittleEndian.AppendUint64(nil, uint64(slices.Min(c.ints)))
				page.max = binary.LittleEndian.AppendUint64(nil, uint64(slices.Max(c.ints)))
				c.widen(page, func(a, b []byte) bool {
					return int64(binary.LittleEndian.Uint64(a)) < int64(binary.LittleEndian.Uint64(b))
				})
			}
			if c.delta {
				encoding = format.DeltaBinaryPacked
				s.encoded, err = (&delta.BinaryPackedEncoding{}).EncodeInt64(s.encoded, c.ints)
			} else {
				s.encoded, err = (&plain.Encoding{}).EncodeInt64(s.encoded, c.ints)
			}
		case kindDouble:
			if lo, hi, ok := doubleBounds(c.doubles); ok {
				page.min = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
				page.max = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
				c.widen(page, func(a, b []byte) bool {
					return math.Float64frombits(binary.LittleEndian.Uint64(a)) < math.Float64frombits(binary.LittleEndian.Uint64(b))
				})
			}
			s.encoded, err = (&plain.Encoding{}).EncodeDouble(s.encoded, c.doubles)
		case kindDict:
			encoding = format.RLEDictionary
			s.encoded, err = (&rle.DictionaryEncoding{}).EncodeInt32(s.encoded, c.indices)
		case kindBytes:
			s.encoded, err = (&plain.Encoding{}).EncodeByteArray(s.encoded, c.data, c.offsets)
		}
		body = append(body, s.encoded...)
		if err != nil && s.err == nil {
			s.err = fmt.Errorf("encoding column %s: %w", c.path[0], err)
		}
		s.scratch = body
		header := format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues: int32(s.inPage), Encoding: encoding,
			DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
			Statistics: format.Statistics{NullCount: page.nulls, MinValue: page.min, MaxValue: page.max},
		})}
		c.rawBytes += s.writePage(c, &header, body)
		page.size = int32(int64(c.chunk.Len()) - page.offset)
		c.pages = append(c.pages, page)
		c.values += int64(s.inPage)
		c.nullCount += page.nulls
		c.levels, c.nulls, c.ints, c.doubles, c.indices, c.data, c.offsets = c.levels[:0], 0, c.ints[:0], c.doubles[:0], c.indices[:0], c.data[:0], c.offsets[:1]
	}
	s.inPage = 0
}

// widen extends the column chunk's bounds to the page's.
func (c *columnWriter) widen(page pageInfo, less func(a, b []byte) bool) {
	if c.min == nil || less(page.min, c.min) {
		c.min = page.min
	}
	if c.max == nil || less(c.max, page.max) {
		c.max = page.max
	}
}

// doubleBounds returns the least and greatest values that are not NaN.
func doubleBounds(vals []float64) (lo, hi float64, ok bool) {
	for _, v := range vals {
		switch {
		case math.IsNaN(v):
		case !ok:
			lo, hi, ok = v, v, true
		default:
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi, ok
}

// writePage compresses a page body and appends it with its header to the
// column chunk. It returns the uncompressed size, header included.
func (s *sessionWriter) writePage(c *columnWriter, header *format.PageHeader, body []byte) int64 {
	if len(body) > math.MaxInt32 {
		if s.err == nil {
			s.err = fmt.Errorf("writing column %s: a page of %d bytes is beyond Parquet's 2 GiB", c.path[0], len(body))
		}
		return 0
	}
	var err error
	s.zipped, err = zstdFast.Encode(s.zipped, body)
	if err == nil {
		header.UncompressedPageSize = int32(len(body))
		header.CompressedPageSize = int32(len(s.zipped))
		s.header, err = thrift.Marshal(new(thrift.CompactProtocol), header)
	}
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("writing column %s: %w", c.path[0], err)
		}
		return 0
	}
	c.chunk.Write(s.header)
	c.chunk.Write(s.zipped)
	return int64(len(s.header) + len(body))
}

// flushRowGroup writes the open row group: each column's dictionary page
// and data pages.
func (s *sessionWriter) flushRowGroup() {
	s.flushPage()
	if s.inGroup == 0 || s.err != nil {
		return
	}
	group := format.RowGroup{NumRows: int64(s.inGroup), FileOffset: s.out.n, Ordinal: int16(len(s.groups))}
	for i := range s.columns {
		c := &s.columns[i]
		leaf, _ := sessionSchema.Lookup(c.path...)
		meta := format.ColumnMetaData{
			Type: format.Type(leaf.Node.Type().Kind()), PathInSchema: c.path, Codec: format.Zstd,
			NumValues: c.values, Statistics: format.Statistics{NullCount: c.nullCount, MinValue: c.min, MaxValue: c.max},
		}
		start := s.out.n
		var dictBytes int64
		if c.kind == kindDict {
			meta.DictionaryPageOffset = start
			body := s.scratch[:0]
			for v := range int32(c.dict.Len()) {
				body = binary.LittleEndian.AppendUint32(body, uint32(len(c.dict.Value(v))))
				body = append(body, c.dict.Value(v)...)
			}
			s.scratch = body
			var dictChunk columnWriter
			dictChunk.path = c.path
			header := format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
				NumValues: int32(c.dict.Len()), Encoding: format.Plain,
			})}
			c.rawBytes += s.writePage(&dictChunk, &header, body)
			dictBytes = int64(dictChunk.chunk.Len())
			s.write4(dictChunk.chunk.Bytes())
			meta.Encoding = []format.Encoding{format.Plain, format.RLE, format.RLEDictionary}
			meta.EncodingStats = []format.PageEncodingStats{
				{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1},
				{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: int32(len(c.pages))},
			}
		} else {
			enc := format.Plain
			if c.delta {
				enc = format.DeltaBinaryPacked
			}
			meta.Encoding = []format.Encoding{format.RLE, enc}
			if !c.optional {
				meta.Encoding = []format.Encoding{enc}
			}
			meta.EncodingStats = []format.PageEncodingStats{{PageType: format.DataPage, Encoding: enc, Count: int32(len(c.pages))}}
		}
		meta.DataPageOffset = s.out.n
		s.write4(c.chunk.Bytes())
		meta.TotalUncompressedSize = c.rawBytes
		meta.TotalCompressedSize = dictBytes + int64(c.chunk.Len())
		group.Columns = append(group.Columns, format.ColumnChunk{FileOffset: start, MetaData: meta})
		group.TotalByteSize += meta.TotalUncompressedSize
		group.TotalCompressedSize += meta.TotalCompressedSize
		c.chunks = append(c.chunks, chunkIndex{chunk: i, pages: c.pages, base: meta.DataPageOffset})

		c.pages = nil
		c.chunk.Reset()
		c.dict.Reset()
		c.remap = c.remap[:0]
		c.values, c.nullCount, c.rawBytes, c.min, c.max = 0, 0, 0, nil, nil
	}
	s.groups = append(s.groups, group)
	s.inGroup = 0
}

// close writes the open row group, the page index and the footer. The
// caller syncs and closes the file.
func (s *sessionWriter) close() error {
	s.flushRowGroup()
	// The page index, as parquet-go lays it out (and its reader expects):
	// the column indexes of every column chunk, by row group and column,
	// then their offset indexes. Metering reads duration_ms's page maxima.
	for g := range s.groups {
		for i := range s.columns {
			ci := &s.columns[i].chunks[g]
			index := format.ColumnIndex{BoundaryOrder: format.Unordered}
			for _, p := range ci.pages {
				index.NullPages = append(index.NullPages, p.nulls == p.rows)
				index.MinValues = append(index.MinValues, append([]byte{}, p.min...))
				index.MaxValues = append(index.MaxValues, append([]byte{}, p.max...))
				index.NullCounts = append(index.NullCounts, p.nulls)
			}
			col := &s.groups[g].Columns[ci.chunk]
			col.ColumnIndexOffset, col.ColumnIndexLength = s.writeThrift(&index)
		}
	}
	for g := range s.groups {
		for i := range s.columns {
			ci := &s.columns[i].chunks[g]
			var index format.OffsetIndex
			for _, p := range ci.pages {
				index.PageLocations = append(index.PageLocations, format.PageLocation{Offset: ci.base + p.offset, CompressedPageSize: p.size, FirstRowIndex: p.firstRow})
			}
			col := &s.groups[g].Columns[ci.chunk]
			col.OffsetIndexOffset, col.OffsetIndexLength = s.writeThrift(&index)
		}
	}
	footer := sessionFooter
	footer.NumRows = s.rows
	footer.RowGroups = s.groups
	footer.KeyValueMetadata = slices.Clone(footer.KeyValueMetadata)
	_, n := s.writeThrift(&footer)
	s.write4(binary.LittleEndian.AppendUint32(nil, uint32(n)))
	s.write4([]byte("PAR1"))
	return s.err
}

// writeThrift writes v in thrift's compact protocol and returns where and
// how long.
func (s *sessionWriter) writeThrift(v any) (int64, int32) {
	at := s.out.n
	b, err := thrift.Marshal(new(thrift.CompactProtocol), v)
	if err != nil && s.err == nil {
		s.err = err
	}
	s.write4(b)
	return at, int32(len(b))
}

func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
