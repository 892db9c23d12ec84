package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
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

// Commit makes cat the dataset: it writes the catalog atomically, then
// renames the new data files into place. If the catalog cannot be written,
// the new files are removed and the dataset is as it was. A crash (or an
// error) after the catalog is replaced but before every rename is done is
// completed by Recover on the next run.
func Commit(dir string, cat *Catalog, newFiles []DataFile) error {
	data, err := json.MarshalIndent(cat, "", "  ")
	if err == nil {
		err = WriteFileAtomic(filepath.Join(dir, CatalogFile), data)
	}
	if err != nil {
		RemoveTemps(dir, newFiles)
		return err
	}
	return finishRenames(dir, newFiles)
}

// RemoveTemps removes the temporary files of data files never committed.
func RemoveTemps(dir string, files []DataFile) {
	for _, f := range files {
		os.Remove(TempName(filepath.Join(dir, filepath.FromSlash(f.Path))))
	}
}

// Recover brings the data folder in line with its catalog after a
// crash: data files the catalog lists but that are still under their
// temporary name are renamed into place (the commit happened), and every
// other temporary file is removed (its run never committed).
func Recover(dir string, cat *Catalog) error {
	if err := finishRenames(dir, cat.Files); err != nil {
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
			if !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), TmpSuffix) {
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
		tmp := TempName(final)
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
		if err := SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// TempName is the name a data file is written under until it is committed.
func TempName(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+TmpSuffix)
}
