package metering

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
)

// datasetColumns are the columns the replay reads.
var datasetColumns = [...]string{
	"session_start", "session_end", "duration_ms", "cal_usage_count", "source_line",
	"user_key", "document_key", "server", "client_machine_id", "client_type", "client_address", "exe_version",
	"cal_type", "cal_class", "source_file",
	"user", "implausible", // optional: files written before them lack them
	"authenticated_user", "identifying_user",
}

// Positions in datasetColumns: the int64 columns first, then the strings.
const (
	colStart = iota
	colEnd
	colDuration
	colUsageCount
	colSourceLine
	colUser
	colDocument
	colServer
	colMachine
	colClientType
	colAddress
	colExeVersion
	colCALType
	colCALClass
	colSourceFile
	colDisplay
	colImplausible
	colAuthenticated
	colIdentifying
	numColumns

	numInt64Columns = colUser
)

// decodedRowGroup is one row group's columns, decoded and interned, or the
// end of a month partition, or an error.
type decodedRowGroup struct {
	rows int
	ints [numInt64Columns][]int64
	ids  [numColumns - numInt64Columns][]uint32 // scratch: per string column but the spellings
	// names are the texts the decoder interned since the previous row
	// group, per dictionary, for the engine to append to its own.
	names [numDicts][]string
	// spellings are user spellings not seen before (or earlier in sort
	// order than the one seen), for Dicts.SetUserDisplay.
	spellings []userSpelling
	// ordered are the sessions whose rules need time order, grouped the
	// others, by user.
	ordered, grouped []Session
	monthEnd         bool
	month            month // of the partition a monthEnd marker ends; noMonth if its name is not a month
	err              error
	strs             [numColumns - numInt64Columns]decodedStrings // scratch
}

type userSpelling struct {
	user     uint32
	spelling string
}

// decodedStrings is a string column as indexes into its chunk's
// dictionary (-1 is null); the dictionary's texts are kept in one buffer, so
// copying them out of the page allocates nothing per text.
type decodedStrings struct {
	index []int32
	texts []byte
	ends  []int32 // text i is texts[ends[i-1]:ends[i]]
}

func (s *decodedStrings) addText(b []byte) int32 {
	s.texts = append(s.texts, b...)
	s.ends = append(s.ends, int32(len(s.texts)))
	return int32(len(s.ends) - 1)
}

// text returns dictionary entry i.
func (s *decodedStrings) text(i int) []byte {
	from := int32(0)
	if i > 0 {
		from = s.ends[i-1]
	}
	return s.texts[from:s.ends[i]]
}

// decode sends every row group of the dataset, month by month, each month
// followed by a monthEnd marker, reusing the buffers it gets back on free.
func decode(ctx context.Context, files *dataset.Files, in *interner, out chan<- *decodedRowGroup, free <-chan *decodedRowGroup) {
	defer close(out)
	take := func() *decodedRowGroup {
		select {
		case rg := <-free:
			rg.err, rg.monthEnd, rg.rows = nil, false, 0
			return rg
		case <-ctx.Done():
			return nil
		}
	}
	send := func(rg *decodedRowGroup) bool {
		select {
		case out <- rg:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, m := range files.Months {
		for _, path := range m.Files {
			err := dataset.ReadParquet(path, func(f *parquet.File) error {
				var leaves [numColumns]int
				for i, name := range datasetColumns {
					leaf, ok := f.Schema().Lookup(name)
					switch {
					case ok:
						leaves[i] = leaf.ColumnIndex
					case optionalColumn(i):
						leaves[i] = -1
					default:
						return fmt.Errorf("no %s column", name)
					}
				}
				for _, group := range f.RowGroups() {
					rg := take()
					if rg == nil {
						return ctx.Err()
					}
					if err := rg.decode(group, &leaves, in); err != nil {
						return err
					}
					if !send(rg) {
						return ctx.Err()
					}
				}
				return nil
			})
			if err != nil {
				if ctx.Err() == nil {
					send(&decodedRowGroup{err: fmt.Errorf("%s: %w", path, err)})
				}
				return
			}
		}
		rg := take()
		if rg == nil {
			return
		}
		rg.monthEnd, rg.month = true, partitionMonth(m.Month)
		if !send(rg) {
			return
		}
	}
}

func (rg *decodedRowGroup) decode(group parquet.RowGroup, leaves *[numColumns]int, in *interner) error {
	chunks := group.ColumnChunks()
	rg.rows = int(group.NumRows())
	for c := range numInt64Columns {
		null := int64(0)
		if c == colUsageCount {
			null = NoCount
		}
		var err error
		if rg.ints[c], err = decodeInt64s(chunks[leaves[c]], rg.ints[c][:0], null); err != nil {
			return fmt.Errorf("%s: %w", datasetColumns[c], err)
		}
		if len(rg.ints[c]) != rg.rows {
			return fmt.Errorf("%s: %d values for %d rows", datasetColumns[c], len(rg.ints[c]), rg.rows)
		}
	}
	rg.spellings = rg.spellings[:0]
	spellings := false // whether some user of the row group has no spelling yet
	for c := numInt64Columns; c < numColumns; c++ {
		s := &rg.strs[c-numInt64Columns]
		if leaves[c] < 0 || !rg.needColumn(c, spellings) {
			s.index, s.texts, s.ends = s.index[:0], s.texts[:0], s.ends[:0] // not read: no value in this row group
			continue
		}
		if err := s.decode(chunks[leaves[c]]); err != nil {
			return fmt.Errorf("%s: %w", datasetColumns[c], err)
		}
		if len(s.index) != rg.rows {
			return fmt.Errorf("%s: %d values for %d rows", datasetColumns[c], len(s.index), rg.rows)
		}
		if d := dictionaryOf(c); d >= 0 && c != colMachine && c != colAddress { // on demand, see interner.text
			in.internColumn(rg, c, d)
		}
		if c == colUser {
			spellings = in.lacksSpelling(rg.ids[colUser-numInt64Columns])
		}
	}
	if spellings {
		in.internSpellings(rg)
	}
	in.sessions(rg)
	in.handOver(rg)
	return nil
}

// decodeInt64s appends a column chunk's values, null as null.
func decodeInt64s(chunk parquet.ColumnChunk, out []int64, null int64) ([]int64, error) {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		values := p.Data()
		data := values.Int64()
		if def := p.DefinitionLevels(); len(def) > 0 {
			k := 0
			for _, level := range def {
				if level == 0 {
					out = append(out, null)
				} else {
					out = append(out, data[k])
					k++
				}
			}
		} else {
			out = append(out, data...)
		}
		parquet.Release(p)
	}
}

// decode reads a string column chunk: dictionary pages as their indexes
// (the dictionary copied once), plain pages into a dictionary of their own.
func (s *decodedStrings) decode(chunk parquet.ColumnChunk) error {
	s.index, s.texts, s.ends = s.index[:0], s.texts[:0], s.ends[:0]
	var dictOf parquet.Dictionary
	var plain map[string]int32
	pages := chunk.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		values := p.Data()
		def := p.DefinitionLevels()
		var indexes []int32
		if d := p.Dictionary(); d != nil {
			if dictOf != d {
				if dictOf != nil {
					return fmt.Errorf("more than one dictionary in a column chunk")
				}
				dictOf = d
				for i := range d.Len() {
					s.addText(d.Index(int32(i)).ByteArray())
				}
			}
			indexes = values.Int32()
		} else {
			if plain == nil {
				plain = map[string]int32{}
			}
			data, offsets := values.ByteArray()
			indexes = make([]int32, 0, len(offsets))
			for j := 0; j+1 < len(offsets); j++ {
				text := data[offsets[j]:offsets[j+1]]
				id, ok := plain[string(text)]
				if !ok {
					id = s.addText(text)
					plain[string(text)] = id
				}
				indexes = append(indexes, id)
			}
		}
		if len(def) > 0 {
			k := 0 // the page's next non-null value
			for _, level := range def {
				if level == 0 {
					s.index = append(s.index, -1)
				} else {
					s.index = append(s.index, indexes[k])
					k++
				}
			}
		} else {
			s.index = append(s.index, indexes...)
		}
		parquet.Release(p)
	}
}

// partitionMonth reads a month partition's name (YYYY-MM), noMonth when it
// is not one.
func partitionMonth(name string) month {
	t, err := time.Parse("2006-01", name)
	if err != nil {
		return noMonth
	}
	return monthOf(t.UnixMilli())
}
