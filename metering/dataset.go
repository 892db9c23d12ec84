package metering

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/ingest"
)

// Dataset is the sessions dataset written by ingest:
// DIR/sessions/month=YYYY-MM/part-*.parquet.
type Dataset struct {
	// Months are the month partitions in order, each with its files.
	Months []DatasetMonth
	// Version identifies the dataset's content: the SHA-256 of its committed
	// file list (paths relative to DIR and sizes), recorded in state.json.
	Version string
}

// DatasetMonth is one month partition.
type DatasetMonth struct {
	Month string // YYYY-MM
	Files []string
}

// OpenDataset lists the dataset under dataDir: the session files ingest's
// catalog has committed, or, without a catalog, every Parquet file under
// DIR/sessions.
func OpenDataset(dataDir string) (*Dataset, error) {
	cat, err := ingest.LoadCatalog(dataDir)
	if err != nil {
		return nil, err
	}
	var files []string
	if cat.Version > 0 {
		for _, f := range cat.Files {
			if f.Kind == catalogSessionsKind {
				files = append(files, filepath.Join(dataDir, filepath.FromSlash(f.Path)))
			}
		}
	} else if files, err = findSessionFiles(dataDir); err != nil {
		return nil, err
	}
	slices.Sort(files)
	sum := sha256.New()
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

// catalogSessionsKind is the kind of a session file in ingest's catalog.
const catalogSessionsKind = "sessions"

func findSessionFiles(dataDir string) ([]string, error) {
	root := filepath.Join(dataDir, ingest.SessionsDir)
	var files []string
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
	return files, err
}

// Replay reads the dataset into a new engine and returns the state. One
// goroutine decodes row groups, column by column and only the columns the
// rules need, and interns their dictionaries (once per dictionary entry, not
// per row), while the caller's goroutine replays them. The sessions whose rules
// do not depend on order (needsOrder) are replayed as they come; the
// others are collected for the month, sorted by session_end and replayed at
// the end of the month.
func (ds *Dataset) Replay(ctx context.Context, cfg Config) (*State, error) {
	horizon, err := ds.longestSession()
	if err != nil {
		return nil, err
	}
	cfg.Horizon = max(cfg.Horizon, horizon)
	e, err := NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoded, free := make(chan *decodedRowGroup, 2), make(chan *decodedRowGroup, 3)
	for range cap(free) {
		free <- &decodedRowGroup{}
	}
	r := &rowGroupReplayer{e: e}
	go ds.decode(ctx, newInterner(e), decoded, free)
	var sorter endSorter
	for rg := range decoded {
		if rg.err != nil {
			return nil, rg.err
		}
		if rg.monthEnd {
			r.ordered = sorter.sort(r.ordered)
			for i := range r.ordered {
				e.Add(&r.ordered[i])
			}
			r.ordered = r.ordered[:0]
		} else {
			r.replay(rg)
		}
		free <- rg
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := e.Finish()
	st.Info.DatasetVersion = ds.Version
	return st, nil
}

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
