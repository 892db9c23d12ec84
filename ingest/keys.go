package ingest

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
)

// keySet is the set of session keys stored so far, per month partition,
// loaded lazily from the committed files of a month the first time a row of
// that month is seen: a nightly run only reads this month's keys.
//
// Memory is bounded whatever the input: a month's keys take 8 bytes each
// (monthKeys), and at most one month per worker and one more are held at
// once (each worker writes one month at a time, maxOpenMonths). The least
// recently used month beyond that is written to a hidden temporary file
// under DIR/sessions (removed at the end of the run, or by the next
// writer's dataset.Recover after a crash) and read back if its rows come
// again: a log whose lines jump between months costs reads, never memory.
type keySet struct {
	mu      sync.Mutex
	dir     string
	version int64
	files   map[string][]string // month → committed session files (relative paths)
	months  map[string]*monthKeys
	recent  []string          // loaded months, least recently used first
	evicted map[string]string // month → file holding its keys
	loaded  int               // months held at most
}

func newKeySet(dir string, version int64, cat *dataset.Catalog, workers int) *keySet {
	ks := &keySet{dir: dir, version: version, files: map[string][]string{}, months: map[string]*monthKeys{}, evicted: map[string]string{},
		loaded: workers*maxOpenMonths + 1}
	for _, f := range cat.Files {
		if f.Kind == dataset.KindSessions {
			ks.files[f.Month] = append(ks.files[f.Month], f.Path)
		}
	}
	return ks
}

// claim marks the keys of rows as stored and returns the rows that were not
// stored before (the first occurrence wins, in this run as in earlier ones).
func (ks *keySet) claim(month string, rows []int32, keys []uint64, keep []int32) ([]int32, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	set, err := ks.month(month)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if set.add(keys[row]) {
			keep = append(keep, row)
		}
	}
	return keep, nil
}

// month returns the keys of a month, loading them (and evicting the least
// recently used month) if they are not in memory. The caller holds ks.mu,
// or is the run's only goroutine.
func (ks *keySet) month(month string) (*monthKeys, error) {
	if set, ok := ks.months[month]; ok {
		if i := slices.Index(ks.recent, month); i != len(ks.recent)-1 {
			ks.recent = append(slices.Delete(ks.recent, i, i+1), month)
		}
		return set, nil
	}
	if len(ks.recent) >= ks.loaded {
		if err := ks.evict(ks.recent[0]); err != nil {
			return nil, err
		}
	}
	set := &monthKeys{}
	if path, ok := ks.evicted[month]; ok {
		if err := set.load(path); err != nil {
			return nil, err
		}
	} else {
		var stored []uint64
		for _, rel := range ks.files[month] {
			var err error
			if stored, err = readSessionKeys(filepath.Join(ks.dir, rel), stored); err != nil {
				return nil, err
			}
		}
		set.reset(stored)
	}
	ks.months[month] = set
	ks.recent = append(ks.recent, month)
	return set, nil
}

// evict writes a month's keys to its file and drops them from memory.
func (ks *keySet) evict(month string) error {
	set := ks.months[month]
	path, ok := ks.evicted[month]
	if !ok {
		path = filepath.Join(ks.dir, dataset.SessionsDir, fmt.Sprintf(".keys-%08d-%s.bin%s", ks.version, month, dataset.TmpSuffix))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := set.save(path); err != nil {
		return fmt.Errorf("setting aside the session keys of %s: %w", month, err)
	}
	ks.evicted[month] = path
	delete(ks.months, month)
	ks.recent = slices.DeleteFunc(ks.recent, func(m string) bool { return m == month })
	return nil
}

// close removes the files of evicted months.
func (ks *keySet) close() {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for _, path := range ks.evicted {
		os.Remove(path)
	}
	ks.evicted = map[string]string{}
}

// readSessionKeys appends the session_key column of a stored file to keys.
func readSessionKeys(path string, keys []uint64) ([]uint64, error) {
	err := dataset.ReadParquet(path, func(pf *parquet.File) error {
		var err error
		keys, err = sessionKeysOf(path, pf, keys)
		return err
	})
	return keys, err
}

// sessionKeysOf appends the session_key column of the open file pf to keys.
func sessionKeysOf(path string, pf *parquet.File, keys []uint64) ([]uint64, error) {
	leaf, ok := pf.Schema().Lookup("session_key")
	if !ok {
		return keys, nil
	}
	values := make([]parquet.Value, 4096)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				pages.Close()
				return keys, fmt.Errorf("%s: %w", path, err)
			}
			reader := page.Values()
			for {
				n, err := reader.ReadValues(values)
				for _, v := range values[:n] {
					keys = append(keys, uint64(v.Int64()))
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					parquet.Release(page)
					pages.Close()
					return keys, fmt.Errorf("%s: %w", path, err)
				}
			}
			parquet.Release(page)
		}
		pages.Close()
	}
	return keys, nil
}

// monthKeys is a set of 64-bit keys in about 8 bytes a key: a sorted slice,
// looked up through a table of where each run of keys sharing their top
// bucketBits bits starts (keys are hashes, so the runs are short), and the
// keys added since, in a small open-addressing table merged into the slice
// whenever it is half full. A Go map of the same keys takes about five
// times as much.
type monthKeys struct {
	sorted  []uint64
	buckets []uint32 // sorted[buckets[b]:buckets[b+1]] are the keys of bucket b
	added   []uint64 // open addressing, 0 = empty slot
	nAdded  int
	zero    bool // key 0, which the table cannot hold, is in the set
}

const (
	bucketBits = 16
	addedSlots = 1 << 17 // merged into sorted at half full: 1 MiB
)

// reset makes the set the keys given (which it keeps).
func (s *monthKeys) reset(keys []uint64) {
	slices.Sort(keys)
	s.sorted = slices.Compact(keys)
	s.added, s.nAdded = nil, 0
	s.zero = false
	if len(s.sorted) > 0 && s.sorted[0] == 0 {
		s.zero, s.sorted = true, s.sorted[1:]
	}
	s.index()
}

func (s *monthKeys) index() {
	if s.buckets == nil {
		s.buckets = make([]uint32, 1<<bucketBits+1)
	}
	b := 0
	for i, k := range s.sorted {
		for top := int(k >> (64 - bucketBits)); b <= top; b++ {
			s.buckets[b] = uint32(i)
		}
	}
	for ; b <= 1<<bucketBits; b++ {
		s.buckets[b] = uint32(len(s.sorted))
	}
}

// add adds k and reports whether it was not in the set.
func (s *monthKeys) add(k uint64) bool {
	if k == 0 {
		was := s.zero
		s.zero = true
		return !was
	}
	if s.buckets != nil {
		top := k >> (64 - bucketBits)
		if _, found := slices.BinarySearch(s.sorted[s.buckets[top]:s.buckets[top+1]], k); found {
			return false
		}
	}
	if s.added == nil {
		s.added = make([]uint64, addedSlots)
	}
	mask := uint64(len(s.added) - 1)
	for i := bits.RotateLeft64(k, 17) & mask; ; i = (i + 1) & mask {
		switch s.added[i] {
		case k:
			return false
		case 0:
			s.added[i] = k
			if s.nAdded++; s.nAdded == len(s.added)/2 {
				s.merge()
			}
			return true
		}
	}
}

// merge moves the added keys into the sorted slice.
func (s *monthKeys) merge() {
	if s.nAdded == 0 {
		return
	}
	n := len(s.sorted)
	s.sorted = slices.Grow(s.sorted, s.nAdded)[:n+s.nAdded]
	added := s.sorted[n:]
	j := 0
	for i, k := range s.added {
		if k != 0 {
			added[j] = k
			j++
			s.added[i] = 0
		}
	}
	slices.Sort(added)
	// Merge in place from the back: the new keys are at the end.
	all, i, j := s.sorted, n-1, len(added)-1
	tail := slices.Clone(added) // the merge overwrites added
	for w := len(all) - 1; j >= 0; w-- {
		if i >= 0 && all[i] > tail[j] {
			all[w] = all[i]
			i--
		} else {
			all[w] = tail[j]
			j--
		}
	}
	s.nAdded = 0
	s.index()
}

// save writes the set's keys to path, little-endian.
func (s *monthKeys) save(path string) error {
	s.merge()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	if s.zero {
		buf = binary.LittleEndian.AppendUint64(buf, 0)
	}
	for _, k := range s.sorted {
		if buf = binary.LittleEndian.AppendUint64(buf, k); len(buf) == cap(buf) {
			if _, err = f.Write(buf); err != nil {
				break
			}
			buf = buf[:0]
		}
	}
	if err == nil {
		_, err = f.Write(buf)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// load makes the set the keys save wrote to path.
func (s *monthKeys) load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	keys := make([]uint64, 0, info.Size()/8)
	buf := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(f, buf)
		for i := 0; i+8 <= n; i += 8 {
			keys = append(keys, binary.LittleEndian.Uint64(buf[i:]))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	s.reset(keys)
	return nil
}
