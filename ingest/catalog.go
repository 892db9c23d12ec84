package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// CatalogFile is the name of the catalog under the data folder.
const CatalogFile = "catalog.json"

// tmpSuffix marks a data file written but not yet committed. Such files are
// named ".<final name>.tmp", which no reader's *.parquet glob matches.
const tmpSuffix = ".tmp"

const (
	kindSessions = "sessions"
	kindRejects  = "rejects"
)

// Catalog is the one source of truth of the dataset: the committed data
// files and, per source log, how far it has been read. It is replaced
// atomically (write, sync, rename) after the data files it lists are synced,
// so the checkpoints never run ahead of the data.
type Catalog struct {
	// Version counts commits: the dataset version other tools compare.
	Version   int64                  `json:"version"`
	Committed time.Time              `json:"committed"`
	Files     []DataFile             `json:"files"`
	Sources   map[string]*Checkpoint `json:"sources"` // by absolute path of the log

	// KeyVersion is the version of the session key the stored rows carry
	// (see ingest.KeyVersion; 0 = 1, written before it was recorded).
	KeyVersion int `json:"key_version,omitempty"`
	// Obsolete lists data files (relative paths) that this version replaced
	// (re-keyed or rebuilt): removed after the commit, or by the next run
	// if the commit's process died first. No committed version lists them.
	Obsolete []string `json:"obsolete,omitempty"`
	// Quality counts, per server, what the decoder read leniently, over
	// every line read since the dataset was built (copies included).
	Quality map[string]*ServerQuality `json:"quality,omitempty"`
}

// ServerQuality is what the decoder read leniently from one server's logs.
type ServerQuality struct {
	Lenient map[string]int64 `json:"lenient,omitempty"` // by kind, see ingest.LenientKinds
	// OffsetlessByZone counts offset-less times by the zone they were
	// converted with (ingest.NoZone: as UTC, no zone given).
	OffsetlessByZone map[string]int64 `json:"offsetless_by_zone,omitempty"`
	UnknownColumns   map[string]int64 `json:"unknown_columns,omitempty"` // header fields by name
}

// DataFile is one committed Parquet file.
type DataFile struct {
	Path  string `json:"path"` // relative to the data folder, with '/'
	Kind  string `json:"kind"` // sessions or rejects
	Month string `json:"month,omitempty"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// Checkpoint is what ingest knows of one source log.
type Checkpoint struct {
	Server  string    `json:"server"`
	Size    int64     `json:"size"`     // size when last read
	ModTime time.Time `json:"mod_time"` // modification time when last read
	// HeadHash is the xxh3 hash of the first HeadLen bytes: a rotated file
	// that happens to have the old size still differs here.
	HeadHash uint64 `json:"head_hash"`
	HeadLen  int64  `json:"head_len"`
	// TailHash is the xxh3 hash of the TailLen bytes before Offset: a file
	// replaced or rewritten at the same size differs here (0: not recorded).
	TailHash uint64 `json:"tail_hash,omitempty"`
	TailLen  int64  `json:"tail_len,omitempty"`
	Offset   int64  `json:"offset"` // bytes through the last complete line read
	Line     int64  `json:"line"`   // number of that line
	Header   string `json:"header"` // the header in effect at Offset
}

// LoadCatalog reads the catalog of a data folder, or returns an empty one
// for a new dataset.
func LoadCatalog(dir string) (*Catalog, error) {
	data, err := os.ReadFile(filepath.Join(dir, CatalogFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &Catalog{Sources: map[string]*Checkpoint{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var cat Catalog
	if err := json.Unmarshal(data, &cat); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CatalogFile), err)
	}
	if cat.Sources == nil {
		cat.Sources = map[string]*Checkpoint{}
	}
	return &cat, nil
}

// commit makes cat the dataset: it writes the catalog atomically, then
// renames the new data files into place. If the catalog cannot be written,
// the new files are removed and the dataset is as it was. A crash (or an
// error) after the catalog is replaced but before every rename is done is
// completed by recoverDataset on the next run.
func commit(dir string, cat *Catalog, newFiles []DataFile) error {
	data, err := json.MarshalIndent(cat, "", "  ")
	if err == nil {
		err = writeFileAtomic(filepath.Join(dir, CatalogFile), data)
	}
	if err != nil {
		removeTemps(dir, newFiles)
		return err
	}
	if err := finishRenames(dir, newFiles); err != nil {
		return err
	}
	return removeObsolete(dir, cat.Obsolete)
}

// removeObsolete removes the data files a committed version replaced.
func removeObsolete(dir string, obsolete []string) error {
	for _, rel := range obsolete {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeTemps removes the temporary files of data files never committed.
func removeTemps(dir string, files []DataFile) {
	for _, f := range files {
		os.Remove(tempName(filepath.Join(dir, filepath.FromSlash(f.Path))))
	}
}

// recoverDataset brings the data folder in line with its catalog after a
// crash: data files the catalog lists but that are still under their
// temporary name are renamed into place (the commit happened), the files it
// replaced are removed, and every other temporary file is removed (its run
// never committed).
func recoverDataset(dir string, cat *Catalog) error {
	if err := finishRenames(dir, cat.Files); err != nil {
		return err
	}
	if err := removeObsolete(dir, cat.Obsolete); err != nil {
		return err
	}
	for _, sub := range []string{SessionsDir, RejectsDir} {
		root := filepath.Join(dir, sub)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), tmpSuffix) {
				return os.Remove(path)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// finishRenames moves each file from its temporary to its final name where
// the temporary one still exists.
func finishRenames(dir string, files []DataFile) error {
	dirs := map[string]bool{}
	for _, f := range files {
		final := filepath.Join(dir, filepath.FromSlash(f.Path))
		tmp := tempName(final)
		if _, err := os.Stat(tmp); err != nil {
			continue
		}
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
		dirs[filepath.Dir(final)] = true
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func tempName(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+tmpSuffix)
}

// writeFileAtomic writes data under a temporary name, syncs it and renames
// it over path, so a reader sees the old file or the new one, never part.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + tmpSuffix
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable (a no-op where directories cannot be
// synced, as on Windows).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && runtime.GOOS != "windows" {
		return err
	}
	return nil
}
