package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Catalog is the one source of truth of the dataset: the committed data
// files and, per source log, how far it has been read. Readers take the
// files it lists (ListFiles), never a glob: see Commit for why a glob may
// briefly differ.
type Catalog struct {
	// Version counts commits: the dataset version other tools compare.
	Version   int64                  `json:"version"`
	Committed time.Time              `json:"committed"`
	Files     []DataFile             `json:"files"`
	Sources   map[string]*Checkpoint `json:"sources"` // by absolute path of the log
	// Servers is what the dataset knows of each server's freshness, kept
	// by Commit (see ServerInfo).
	Servers map[string]*ServerInfo `json:"servers,omitempty"`

	// KeyVersion is the version of the session key the stored rows carry
	// (see ingest.KeyVersion; 0 = 1, written before it was recorded).
	KeyVersion int `json:"key_version,omitempty"`
	// Obsolete lists data files (relative paths, with '/') that this
	// version replaced (re-keyed, rebuilt or compacted): Commit removes them once the
	// catalog is committed, and Recover if the committing process died
	// first. Files does not list them.
	Obsolete []string `json:"obsolete,omitempty"`
	// Quality is, per server, what the decoder read leniently, over every
	// line read since the dataset was built (copies included).
	Quality map[string]*ServerQuality `json:"quality,omitempty"`
}

// ServerQuality is what the decoder read leniently from one server's logs:
// the counts of parse.Stats.Lenient, by the names parse gives them
// (offsetless_times, derived_timestamp, nul_runs …), so that the ingest
// summary, the rejects report and the page speak one vocabulary.
type ServerQuality struct {
	Lenient map[string]int64 `json:"lenient,omitempty"` // by parse.Count name
	// OffsetlessByZone counts offset-less times by the zone they were
	// converted with (NoZone: as UTC, no zone was given for the server).
	OffsetlessByZone map[string]int64 `json:"offsetless_by_zone,omitempty"`
	// UnknownColumns are the header fields that are no known column, by
	// name as spelled, in the order first seen (bounded as parse bounds
	// Stats.UnknownColumnNames).
	UnknownColumns []string `json:"unknown_columns,omitempty"`
}

// NoZone names the zone of offset-less times converted as UTC because no
// zone was given for their server.
const NoZone = "UTC (no zone given)"

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
	// Header is the header in effect at Offset. catalog.json stores each
	// distinct header once, in its headers table, and a checkpoint refers
	// to it by index (header_ref): thousands of logs share a few layouts.
	Header string `json:"header"`
}

// catalogFile is catalog.json's form: the headers interned.
type catalogFile struct {
	*catalogFields
	Headers []string                   `json:"headers,omitempty"`
	Sources map[string]*checkpointFile `json:"sources"`
}

type catalogFields Catalog

type checkpointFile struct {
	*Checkpoint
	Header    string `json:"header,omitempty"` // catalogs written before the headers table
	HeaderRef *int   `json:"header_ref,omitempty"`
}

// MarshalJSON writes the catalog with its headers interned.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	out := catalogFile{catalogFields: (*catalogFields)(c), Sources: make(map[string]*checkpointFile, len(c.Sources))}
	index := map[string]int{}
	for path, cp := range c.Sources {
		n, ok := index[cp.Header]
		if !ok {
			n = len(out.Headers)
			index[cp.Header] = n
			out.Headers = append(out.Headers, cp.Header)
		}
		out.Sources[path] = &checkpointFile{Checkpoint: cp, HeaderRef: &n}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a catalog, with or without a headers table; the
// checkpoints share one string per distinct header.
func (c *Catalog) UnmarshalJSON(data []byte) error {
	in := catalogFile{catalogFields: (*catalogFields)(c)}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	c.Sources = make(map[string]*Checkpoint, len(in.Sources))
	for path, cp := range in.Sources {
		if cp.Checkpoint == nil {
			cp.Checkpoint = &Checkpoint{}
		}
		switch {
		case cp.HeaderRef != nil && (*cp.HeaderRef < 0 || *cp.HeaderRef >= len(in.Headers)):
			return fmt.Errorf("sources[%q]: header_ref %d outside the %d headers", path, *cp.HeaderRef, len(in.Headers))
		case cp.HeaderRef != nil:
			cp.Checkpoint.Header = in.Headers[*cp.HeaderRef]
		default:
			cp.Checkpoint.Header = cp.Header
		}
		c.Sources[path] = cp.Checkpoint
	}
	return nil
}

// pendingFile is the commit record: the next catalog, written before the
// data files are renamed into place.
const pendingFile = ".catalog-next.json"

// LoadCatalog reads the catalog of a data folder, or returns an empty one
// for a new dataset. It writes nothing (a commit left half-done by a crash
// is completed by the next writer's Recover).
func LoadCatalog(dir string) (*Catalog, error) {
	return readCatalog(filepath.Join(dir, CatalogFile))
}

func readCatalog(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Catalog{Sources: map[string]*Checkpoint{}}, nil
	}
	if err != nil {
		return nil, err
	}
	cat := &Catalog{}
	if err := json.Unmarshal(data, cat); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cat.Sources == nil {
		cat.Sources = map[string]*Checkpoint{}
	}
	return cat, nil
}

// Commit makes cat the dataset, newFiles being the data files it adds,
// written and synced under their temporary names (TempName). In order:
//
//  1. the commit record, DIR/.catalog-next.json, is written and synced:
//     from here on the commit has happened, and a run that dies is
//     completed by the next writer (Recover);
//  2. the data files are renamed into place and their folders synced;
//  3. the commit record is renamed over DIR/catalog.json;
//  4. the data files the new version replaced (cat.Obsolete: a re-key or
//     a rebuild) are removed.
//
// So catalog.json never names a missing file, and the files a glob of
// DIR/sessions/**/*.parquet sees are always committed ones; only while a
// commit renames (or after a crash in between, until the next writer) a
// glob may see part of the newest commit's files. Readers that must see
// whole commits read catalog.json's file list, as qvmeter does.
//
// Commit also drops the checkpoints of logs deleted from a folder that
// still exists (a folder that is gone may be an unmounted share), and
// updates each server's freshness (ServerInfo) from the new session files.
// If the commit record cannot be written, the new files are removed and
// the dataset is as it was.
func Commit(dir string, cat *Catalog, newFiles []DataFile) error {
	pruneSources(cat)
	if err := updateServers(dir, cat, newFiles); err != nil {
		RemoveTemps(dir, newFiles)
		return err
	}
	data, err := json.Marshal(cat)
	pending := filepath.Join(dir, pendingFile)
	if err == nil {
		err = WriteFileAtomic(pending, data)
	}
	if err != nil {
		RemoveTemps(dir, newFiles)
		return err
	}
	if err := finishRenames(dir, newFiles); err != nil {
		return err
	}
	if err := os.Rename(pending, filepath.Join(dir, CatalogFile)); err != nil {
		return err
	}
	if err := SyncDir(dir); err != nil {
		return err
	}
	return removeObsolete(dir, cat)
}

// removeObsolete removes the data files a committed version replaced. It
// only ever removes Parquet files under DIR/sessions and DIR/rejects that
// the catalog does not list, whatever a damaged catalog says.
func removeObsolete(dir string, cat *Catalog) error {
	if len(cat.Obsolete) == 0 {
		return nil
	}
	listed := make(map[string]bool, len(cat.Files))
	for _, f := range cat.Files {
		listed[f.Path] = true
	}
	for _, rel := range cat.Obsolete {
		clean := path.Clean(rel)
		if listed[clean] || clean != rel || !strings.HasSuffix(clean, ".parquet") ||
			!(strings.HasPrefix(clean, SessionsDir+"/") || strings.HasPrefix(clean, RejectsDir+"/")) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(clean))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// pruneSources drops the checkpoints of logs that were deleted: the file
// is gone but its folder is still there.
func pruneSources(cat *Catalog) {
	for path := range cat.Sources {
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := os.Stat(filepath.Dir(path)); err == nil {
			delete(cat.Sources, path)
		}
	}
}

// RemoveTemps removes the temporary files of data files never committed.
func RemoveTemps(dir string, files []DataFile) {
	for _, f := range files {
		os.Remove(TempName(filepath.Join(dir, filepath.FromSlash(f.Path))))
	}
}

// Recover brings the data folder in line with its catalog after a crash,
// before a writer goes on: a commit whose record was written is completed
// (its data files renamed into place, the record made the catalog, and cat
// updated to it), the files the committed version replaced are removed if
// its writer died before it did (Obsolete), every other temporary file is
// removed (its run never committed). It then refuses, with *ErrUnknownFiles, a data folder whose
// sessions or rejects hold Parquet files the catalog does not list: a
// deleted or restored catalog.json would otherwise make the next run
// overwrite them or store their sessions twice.
func Recover(dir string, cat *Catalog) error {
	pending := filepath.Join(dir, pendingFile)
	next, err := readCatalog(pending)
	if err != nil {
		// A torn record: its run's writes were not all synced, so it never
		// committed.
		os.Remove(pending)
	} else if next.Version > cat.Version {
		if err := finishRenames(dir, next.Files); err != nil {
			return err
		}
		if err := os.Rename(pending, filepath.Join(dir, CatalogFile)); err != nil {
			return err
		}
		if err := SyncDir(dir); err != nil {
			return err
		}
		*cat = *next
	} else {
		os.Remove(pending)
	}
	// Catalogs of the older order (catalog first, then renames).
	if err := finishRenames(dir, cat.Files); err != nil {
		return err
	}
	// The files the committed version replaced, if its process died before
	// it removed them: they are no data of any version, and must not be
	// taken for unknown files below.
	if err := removeObsolete(dir, cat); err != nil {
		return err
	}
	removeTemps := func(path string, d fs.DirEntry) error {
		if !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), TmpSuffix) {
			return os.Remove(path)
		}
		return nil
	}
	if err := walkData(dir, removeTemps); err != nil {
		return err
	}
	CleanLeftovers(dir)
	unknown, err := UnknownFiles(dir, cat)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return &ErrUnknownFiles{Dir: dir, Files: unknown}
	}
	return nil
}

// ErrUnknownFiles means the data folder holds data files its catalog does
// not list.
type ErrUnknownFiles struct {
	Dir   string
	Files []string // relative to Dir, with '/'
}

func (e *ErrUnknownFiles) Error() string {
	return fmt.Sprintf("%s holds %d data files that %s does not list (%s%s): was the catalog deleted or restored from an older copy? "+
		"Writing now would overwrite or double them; run `qvmeter ingest --rebuild` to rebuild the dataset from the logs",
		e.Dir, len(e.Files), CatalogFile, e.Files[0], map[bool]string{true: ", …", false: ""}[len(e.Files) > 1])
}

// UnknownFiles lists the Parquet files under DIR/sessions and DIR/rejects
// that the catalog does not list (hidden temporary files aside).
func UnknownFiles(dir string, cat *Catalog) ([]string, error) {
	known := make(map[string]bool, len(cat.Files))
	for _, f := range cat.Files {
		known[f.Path] = true
	}
	var unknown []string
	err := walkData(dir, func(path string, d fs.DirEntry) error {
		if strings.HasPrefix(d.Name(), ".") && !isDataRoot(dir, path) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".parquet") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); !known[rel] {
			unknown = append(unknown, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(unknown)
	return unknown, nil
}

// walkData walks the data file folders, DIR/sessions and DIR/rejects (a
// folder not there yet holds nothing), calling fn for every entry.
func walkData(dir string, fn func(path string, d fs.DirEntry) error) error {
	for _, sub := range []string{SessionsDir, RejectsDir} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			return fn(path, d)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// isDataRoot tells whether path is one of the data file folders itself.
func isDataRoot(dir, path string) bool {
	return path == filepath.Join(dir, SessionsDir) || path == filepath.Join(dir, RejectsDir)
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
