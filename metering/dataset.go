package metering

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/parse"
)

// Dataset is the sessions dataset written by ingest:
// DIR/sessions/month=YYYY-MM/part-*.parquet.
type Dataset struct {
	// Months are the month partitions in order, each with its files.
	Months []DatasetMonth
	// Version identifies the dataset's content: the SHA-256 of its file
	// list (paths relative to DIR and sizes), recorded in state.json.
	Version string
}

// DatasetMonth is one month partition.
type DatasetMonth struct {
	Month string // YYYY-MM
	Files []string
}

// OpenDataset lists the dataset under dataDir.
func OpenDataset(dataDir string) (*Dataset, error) {
	root := filepath.Join(dataDir, ingest.SessionsDir)
	var files []string
	sum := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir // writers' temporary folders
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".parquet") && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, path)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no sessions dataset under %s (run qvmeter ingest first)", root)
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	ds := &Dataset{}
	for _, path := range files {
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(dataDir, path)
		fmt.Fprintf(sum, "%s\t%d\n", filepath.ToSlash(rel), info.Size())
		month := strings.TrimPrefix(filepath.Base(filepath.Dir(path)), "month=")
		if n := len(ds.Months); n == 0 || ds.Months[n-1].Month != month {
			ds.Months = append(ds.Months, DatasetMonth{Month: month})
		}
		m := &ds.Months[len(ds.Months)-1]
		m.Files = append(m.Files, path)
	}
	ds.Version = hex.EncodeToString(sum.Sum(nil))
	return ds, nil
}

// Replay reads the dataset into a new engine and returns the state. Each
// month partition is read column by column (only the columns the rules
// need, strings as dictionary indexes interned once per dictionary), sorted
// by session_end if it is not in that order already, and replayed.
func (ds *Dataset) Replay(ctx context.Context, cfg Config) (*State, error) {
	r := &datasetReader{}
	horizon, err := ds.longestSession()
	if err != nil {
		return nil, err
	}
	cfg.Horizon = max(cfg.Horizon, horizon)
	e, err := NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	r.e = e
	var batch []Session
	for _, m := range ds.Months {
		batch = batch[:0]
		for _, path := range m.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if batch, err = r.readFile(path, batch); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if !slices.IsSortedFunc(batch, compareEnds) {
			slices.SortStableFunc(batch, compareEnds)
		}
		for i := range batch {
			e.Add(&batch[i])
		}
	}
	st := e.Finish()
	st.Info.DatasetVersion = ds.Version
	return st, nil
}

func compareEnds(a, b Session) int { return cmpInt(a.End, b.End) }

// longestSession reads the duration_ms statistics of every row group: the
// reorder horizon of the replay.
func (ds *Dataset) longestSession() (int64, error) {
	var longest int64
	for _, m := range ds.Months {
		for _, path := range m.Files {
			err := withParquetFile(path, func(f *parquet.File) error {
				leaf, ok := f.Schema().Lookup("duration_ms")
				if !ok {
					return fmt.Errorf("no duration_ms column")
				}
				for _, rg := range f.RowGroups() {
					index, err := rg.ColumnChunks()[leaf.ColumnIndex].ColumnIndex()
					if err != nil {
						longest = max(longest, dayMS) // no page index: assume sessions of up to a day
						continue
					}
					for p := range index.NumPages() {
						longest = max(longest, index.MaxValue(p).Int64())
					}
				}
				return nil
			})
			if err != nil {
				return 0, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	return longest, nil
}

func withParquetFile(path string, use func(*parquet.File) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err
	}
	f, err := parquet.OpenFile(file, info.Size(), parquet.SkipBloomFilters(true))
	if err != nil {
		return err
	}
	return use(f)
}

// datasetColumns are the columns the replay reads.
var datasetColumns = [...]string{
	"session_start", "session_end", "duration_ms", "user_key", "document_key", "server",
	"client_machine_id", "client_type", "exe_version", "cal_type", "cal_class", "cal_usage_count",
	"source_file", "source_line", "authenticated_user", "identifying_user",
}

const (
	colStart = iota
	colEnd
	colDuration
	colUser
	colDocument
	colServer
	colMachine
	colClientType
	colExeVersion
	colCALType
	colCALClass
	colUsageCount
	colSourceFile
	colSourceLine
	colAuthenticated
	colIdentifying
)

// datasetReader turns row groups into Sessions.
type datasetReader struct {
	e        *Engine
	displays *Dict             // authenticated/identifying user spellings
	texts    *Dict             // machine ids and client types
	classes  *Dict             // cal_class texts
	clients  map[uint64]uint32 // machine text id << 32 | type text id → Clients id
	// one column of a row group at a time
	ints    [numInt64Columns][]int64
	strs    [numStringColumns][]uint32
	mapping map[parquet.Dictionary][]uint32
	pageIDs []uint32 // one page's non-null string values
}

const (
	numInt64Columns  = 5
	numStringColumns = 11
)

func (r *datasetReader) init() {
	if r.displays == nil {
		r.displays, r.texts, r.classes = newDict(), newDict(), newDict()
		r.displays.ID("") // id 0: no spelling
		r.clients = map[uint64]uint32{}
		r.mapping = map[parquet.Dictionary][]uint32{}
	}
}

func (r *datasetReader) readFile(path string, batch []Session) ([]Session, error) {
	r.init()
	err := withParquetFile(path, func(f *parquet.File) error {
		var leaves [len(datasetColumns)]int
		for i, name := range datasetColumns {
			leaf, ok := f.Schema().Lookup(name)
			if !ok {
				return fmt.Errorf("no %s column", name)
			}
			leaves[i] = leaf.ColumnIndex
		}
		for _, rg := range f.RowGroups() {
			var err error
			if batch, err = r.readRowGroup(rg, &leaves, batch); err != nil {
				return err
			}
		}
		return nil
	})
	return batch, err
}

func (r *datasetReader) readRowGroup(rg parquet.RowGroup, leaves *[len(datasetColumns)]int, batch []Session) ([]Session, error) {
	e := r.e
	chunks := rg.ColumnChunks()
	clear(r.mapping)
	n := int(rg.NumRows())
	ints := []struct {
		col  int
		null int64
	}{{colStart, 0}, {colEnd, 0}, {colDuration, 0}, {colUsageCount, NoCount}, {colSourceLine, 0}}
	for i, c := range ints {
		var err error
		if r.ints[i], err = readInt64s(chunks[leaves[c.col]], r.ints[i][:0], c.null); err != nil {
			return batch, fmt.Errorf("%s: %w", datasetColumns[c.col], err)
		}
	}
	strs := []struct {
		col  int
		dict *Dict
	}{
		{colUser, e.Users}, {colDocument, e.Documents}, {colServer, e.Servers}, {colMachine, r.texts}, {colClientType, r.texts},
		{colExeVersion, e.ExeVersions}, {colCALType, e.CALTexts}, {colCALClass, r.classes}, {colSourceFile, e.SourceFiles},
		{colAuthenticated, r.displays}, {colIdentifying, r.displays},
	}
	for i, c := range strs {
		var err error
		if r.strs[i], err = r.readStrings(chunks[leaves[c.col]], c.dict, r.strs[i][:0]); err != nil {
			return batch, fmt.Errorf("%s: %w", datasetColumns[c.col], err)
		}
	}
	for i := range r.ints {
		if len(r.ints[i]) != n {
			return batch, fmt.Errorf("column %s has %d values for %d rows", datasetColumns[ints[i].col], len(r.ints[i]), n)
		}
	}
	for i := range r.strs {
		if len(r.strs[i]) != n {
			return batch, fmt.Errorf("column %s has %d values for %d rows", datasetColumns[strs[i].col], len(r.strs[i]), n)
		}
	}
	classes := make([]uint8, r.classes.Len())
	for id := range classes {
		classes[id] = uint8(calClassOf(r.classes.Name(uint32(id))))
	}
	start, end, duration, count, line := r.ints[0], r.ints[1], r.ints[2], r.ints[3], r.ints[4]
	user, document, server, machine, clientType := r.strs[0], r.strs[1], r.strs[2], r.strs[3], r.strs[4]
	exe, calText, calClass, sourceFile, authenticated, identifying := r.strs[5], r.strs[6], r.strs[7], r.strs[8], r.strs[9], r.strs[10]
	batch = slices.Grow(batch, n)
	const noSpelling = 0
	var lastDisplay [1024]uint32 // spelling last given per user (hashed), to skip repeats
	for i := range n {
		u := user[i]
		if display := cmp.Or(authenticated[i], identifying[i]); display != noSpelling && display != lastDisplay[u&1023] {
			lastDisplay[u&1023] = display
			e.SetUserDisplay(u, r.displays.Name(display))
		}
		batch = append(batch, Session{Start: start[i], End: end[i], DurationMS: duration[i],
			User: u, Document: document[i], Server: server[i], Client: r.client(machine[i], clientType[i]),
			ExeVersion: exe[i], CALText: calText[i], SourceFile: sourceFile[i], SourceLine: line[i],
			CAL: parse.CALClass(classes[calClass[i]]), UsageCount: count[i]})
	}
	return batch, nil
}

func (r *datasetReader) client(machine, clientType uint32) uint32 {
	key := uint64(machine)<<32 | uint64(clientType)
	id, ok := r.clients[key]
	if !ok {
		id = r.e.Clients.ID(ClientKey(r.texts.Name(machine), r.texts.Name(clientType)))
		r.clients[key] = id
	}
	return id
}

// readInt64s appends a column chunk's values, null as null.
func readInt64s(chunk parquet.ColumnChunk, out []int64, null int64) ([]int64, error) {
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

// readStrings appends a string column chunk's values interned in dict
// (null as ""): a dictionary-encoded page costs one lookup per row.
func (r *datasetReader) readStrings(chunk parquet.ColumnChunk, dict *Dict, out []uint32) ([]uint32, error) {
	pages := chunk.Pages()
	defer pages.Close()
	empty := dict.ID("")
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		ids := r.pageIDs[:0]
		values := p.Data()
		if d := p.Dictionary(); d != nil {
			mapping := r.dictionaryMapping(d, dict)
			for _, index := range values.Int32() {
				ids = append(ids, mapping[index])
			}
		} else {
			data, offsets := values.ByteArray()
			for k := 0; k+1 < len(offsets); k++ {
				ids = append(ids, dict.IDBytes(data[offsets[k]:offsets[k+1]]))
			}
		}
		r.pageIDs = ids
		if def := p.DefinitionLevels(); len(def) > 0 {
			k := 0
			for _, level := range def {
				if level == 0 {
					out = append(out, empty)
				} else {
					out = append(out, ids[k])
					k++
				}
			}
		} else {
			out = append(out, ids...)
		}
		parquet.Release(p)
	}
}

// dictionaryMapping interns a column chunk's dictionary once.
func (r *datasetReader) dictionaryMapping(d parquet.Dictionary, dict *Dict) []uint32 {
	if m, ok := r.mapping[d]; ok {
		return m
	}
	m := make([]uint32, d.Len())
	for i := range m {
		m[i] = dict.IDBytes(d.Index(int32(i)).ByteArray())
	}
	r.mapping[d] = m
	return m
}
