package ingest

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// rowsPerRowGroup bounds a row group. Compressed pages of the open row group
// are held in memory until it is flushed, so this bounds memory per open
// file (about 6 MiB at 64k rows); 64k-row groups still read well in DuckDB.
const rowsPerRowGroup = 64 * 1024

// sessionSchema is the Parquet schema of the sessions dataset.
var sessionSchema = parquet.SchemaOf(new(dataset.SessionRow))

// zstdFast trades a little size for speed: the dataset is written nightly
// and read by DuckDB, which decompresses either level at the same speed.
var zstdFast = newZstdCodec()

// sessionColumn maps one Parquet leaf column to its source.
type sessionColumn struct {
	arrow        int // index in parse.Schema, or -1 for session_key
	optional     bool
	columnWriter int
}

var sessionColumns = func() []sessionColumn {
	var cols []sessionColumn
	for _, path := range sessionSchema.Columns() {
		leaf, _ := sessionSchema.Lookup(path...)
		c := sessionColumn{arrow: -1, optional: leaf.MaxDefinitionLevel > 0, columnWriter: leaf.ColumnIndex}
		if idx := parse.Schema.FieldIndices(path[0]); len(idx) == 1 {
			c.arrow = idx[0]
		} else if path[0] != "session_key" {
			panic("ingest: Parquet column " + path[0] + " is not in parse.Schema")
		}
		cols = append(cols, c)
	}
	return cols
}()

// sessionWriter writes parser records to one Parquet file, column by column
// straight from the Arrow buffers: no row structs, no reflection per row.
type sessionWriter struct {
	w       *parquet.GenericWriter[dataset.SessionRow]
	columns []*parquet.ColumnWriter
	values  []parquet.Value
	dict    [][]byte // the current dictionary's values, by index
	rows    int64    // rows written
	inGroup int      // rows in the open row group
}

// sessionWriterOptions compress with zstdFast and keep page bounds only
// where a reader may filter on them: times and numbers, not free text.
var sessionWriterOptions = func() []parquet.WriterOption {
	opts := []parquet.WriterOption{parquet.Compression(zstdFast), parquet.CreatedBy("qvmeter", "", "")}
	for _, path := range sessionSchema.Columns() {
		if leaf, _ := sessionSchema.Lookup(path...); leaf.Node.Type().Kind() == parquet.ByteArray {
			opts = append(opts, parquet.SkipPageBounds(path...))
		}
	}
	return opts
}()

func newSessionWriter(out io.Writer) *sessionWriter {
	w := parquet.NewGenericWriter[dataset.SessionRow](out, sessionWriterOptions...)
	return &sessionWriter{w: w, columns: w.ColumnWriters()}
}

// write appends the rows of rec listed in keep, with their session keys.
func (s *sessionWriter) write(rec arrow.Record, keep []int32, keys []uint64) error {
	if len(keep) == 0 {
		return nil
	}
	for _, c := range sessionColumns {
		vals := s.values[:0]
		if c.arrow < 0 {
			for _, row := range keep {
				vals = append(vals, parquet.Int64Value(int64(keys[row])))
			}
		} else {
			vals = s.appendValues(vals, rec.Column(c.arrow), keep, c)
		}
		s.values = vals
		if _, err := s.columns[c.columnWriter].WriteRowValues(vals); err != nil {
			return fmt.Errorf("writing column %s: %w", rec.ColumnName(c.arrow), err)
		}
	}
	s.rows += int64(len(keep))
	s.inGroup += len(keep)
	if s.inGroup >= rowsPerRowGroup {
		s.inGroup = 0
		return s.w.Flush()
	}
	return nil
}

// appendValues converts the kept rows of one Arrow column. Values of a
// required column need no levels; an optional column's carry definition
// level 1, or 0 for null.
func (s *sessionWriter) appendValues(vals []parquet.Value, col arrow.Array, keep []int32, c sessionColumn) []parquet.Value {
	switch a := col.(type) {
	case *array.Dictionary:
		s.dict = dictionaryValues(s.dict[:0], a.Dictionary().(*array.String))
		indices := a.Indices().(*array.Int32).Int32Values()
		if !c.optional {
			for _, row := range keep {
				vals = append(vals, parquet.ByteArrayValue(s.dict[indices[row]]))
			}
			return vals
		}
		ci := c.columnWriter
		null := parquet.NullValue().Level(0, 0, ci)
		for _, row := range keep {
			if a.IsNull(int(row)) {
				vals = append(vals, null)
				continue
			}
			vals = append(vals, parquet.ByteArrayValue(s.dict[indices[row]]).Level(0, 1, ci))
		}
	case *array.String:
		null := parquet.NullValue().Level(0, 0, c.columnWriter)
		for _, row := range keep {
			if a.IsNull(int(row)) {
				vals = append(vals, null)
				continue
			}
			vals = append(vals, parquet.ByteArrayValue(stringBytes(a.Value(int(row)))).Level(0, 1, c.columnWriter))
		}
	case *array.Float64:
		values := a.Float64Values()
		null := parquet.NullValue().Level(0, 0, c.columnWriter)
		for _, row := range keep {
			if a.IsNull(int(row)) {
				vals = append(vals, null)
				continue
			}
			vals = append(vals, parquet.DoubleValue(values[row]).Level(0, 1, c.columnWriter))
		}
	case *array.Int64:
		vals = appendInt64s(vals, a, a.Int64Values(), keep, c)
	case *array.Timestamp:
		ts := a.TimestampValues()
		vals = appendInt64s(vals, a, unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(ts))), len(ts)), keep, c)
	default:
		panic("ingest: unexpected Arrow type " + col.DataType().String())
	}
	return vals
}

func appendInt64s(vals []parquet.Value, a arrow.Array, values []int64, keep []int32, c sessionColumn) []parquet.Value {
	if !c.optional {
		for _, row := range keep {
			vals = append(vals, parquet.Int64Value(values[row]))
		}
		return vals
	}
	null := parquet.NullValue().Level(0, 0, c.columnWriter)
	for _, row := range keep {
		if a.IsNull(int(row)) {
			vals = append(vals, null)
			continue
		}
		vals = append(vals, parquet.Int64Value(values[row]).Level(0, 1, c.columnWriter))
	}
	return vals
}

// dictionaryValues returns the values of a string array as byte slices
// that share its memory.
func dictionaryValues(dst [][]byte, dict *array.String) [][]byte {
	data := dict.ValueBytes()
	offsets := dict.ValueOffsets()
	for i := 0; i < dict.Len(); i++ {
		dst = append(dst, data[offsets[i]-offsets[0]:offsets[i+1]-offsets[0]])
	}
	return dst
}

func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// close writes the footer. The caller syncs and closes the file.
func (s *sessionWriter) close() error { return s.w.Close() }
