package ingest

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/zeebo/xxh3"
)

// Keys are compared as 64-bit hashes. With 100 million sessions in one
// month the chance that two different sessions share a key is about 3 in
// 10,000; per nightly run it is negligible.

// sessionKeys computes the session key of every row of rec into keys.
func sessionKeys(rec arrow.Record, keys []uint64, scratch []byte) ([]uint64, []byte) {
	keys = keys[:0]
	ids := rec.Column(parse.ColSessionID).(*array.String)
	server := rec.Column(parse.ColServer)
	started := rec.Column(parse.ColServerStarted).(*array.Timestamp)
	start := rec.Column(parse.ColSessionStart).(*array.Timestamp).TimestampValues()
	end := rec.Column(parse.ColSessionEnd).(*array.Timestamp).TimestampValues()
	client := rec.Column(parse.ColClientMachineID)
	doc := rec.Column(parse.ColDocumentKey)
	user := rec.Column(parse.ColUserKey)
	for row := 0; row < int(rec.NumRows()); row++ {
		if ids.IsValid(row) && ids.Value(row) != "" {
			scratch = append(scratch[:0], "id\x00"...)
			scratch = append(scratch, ids.Value(row)...)
			keys = append(keys, xxh3.Hash(scratch))
			continue
		}
		scratch = append(scratch[:0], "row\x00"...)
		scratch = appendField(scratch, server, row)
		var startedMS int64 = -1 << 63
		if started.IsValid(row) {
			startedMS = int64(started.Value(row))
		}
		scratch = binary.LittleEndian.AppendUint64(scratch, uint64(startedMS))
		scratch = binary.LittleEndian.AppendUint64(scratch, uint64(start[row]))
		scratch = binary.LittleEndian.AppendUint64(scratch, uint64(end[row]))
		scratch = appendField(scratch, client, row)
		scratch = appendField(scratch, doc, row)
		scratch = appendField(scratch, user, row)
		keys = append(keys, xxh3.Hash(scratch))
	}
	return keys, scratch
}

// appendField appends a string value and a separator that tells null (0)
// from empty (0 1).
func appendField(dst []byte, col arrow.Array, row int) []byte {
	if col.IsNull(row) {
		return append(dst, 0)
	}
	dst = append(dst, parse.StringAt(col, row)...)
	return append(dst, 0, 1)
}

// keySet is the set of session keys stored so far, per month partition,
// loaded lazily from the committed files of a month the first time a row of
// that month is seen: a nightly run only reads this month's keys.
type keySet struct {
	mu     sync.Mutex
	dir    string
	files  map[string][]string // month → committed session files (relative paths)
	months map[string]map[uint64]struct{}
}

func newKeySet(dir string, cat *dataset.Catalog) *keySet {
	ks := &keySet{dir: dir, files: map[string][]string{}, months: map[string]map[uint64]struct{}{}}
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
		k := keys[row]
		if _, dup := set[k]; dup {
			continue
		}
		set[k] = struct{}{}
		keep = append(keep, row)
	}
	return keep, nil
}

func (ks *keySet) month(month string) (map[uint64]struct{}, error) {
	if set, ok := ks.months[month]; ok {
		return set, nil
	}
	set := map[uint64]struct{}{}
	for _, rel := range ks.files[month] {
		if err := readSessionKeys(filepath.Join(ks.dir, rel), set); err != nil {
			return nil, err
		}
	}
	ks.months[month] = set
	return set, nil
}

// readSessionKeys adds the session_key column of a stored file to set.
func readSessionKeys(path string, set map[uint64]struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		return err
	}
	leaf, ok := pf.Schema().Lookup("session_key")
	if !ok {
		return nil
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
				return fmt.Errorf("%s: %w", path, err)
			}
			reader := page.Values()
			for {
				n, err := reader.ReadValues(values)
				for _, v := range values[:n] {
					set[uint64(v.Int64())] = struct{}{}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					parquet.Release(page)
					pages.Close()
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			parquet.Release(page)
		}
		pages.Close()
	}
	return nil
}
