package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
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
	out := catalogFile{catalogFields: (*catalogFields)(c)}
	out.Headers, out.Sources = internHeaders(c.Sources)
	return json.Marshal(out)
}

// internHeaders gives the checkpoints their form on disk: each distinct
// header once in a table, each checkpoint referring to it by index.
func internHeaders(sources map[string]*Checkpoint) ([]string, map[string]*checkpointFile) {
	var headers []string
	out := make(map[string]*checkpointFile, len(sources))
	index := map[string]int{}
	for path, cp := range sources {
		n, ok := index[cp.Header]
		if !ok {
			n = len(headers)
			index[cp.Header] = n
			headers = append(headers, cp.Header)
		}
		out[path] = &checkpointFile{Checkpoint: cp, HeaderRef: &n}
	}
	return headers, out
}

// UnmarshalJSON reads a catalog, with or without a headers table; the
// checkpoints share one string per distinct header.
func (c *Catalog) UnmarshalJSON(data []byte) error {
	*c = Catalog{}
	return decodeCatalog(bytes.NewReader(data), c, true)
}

// decodeCatalog reads a catalog from r as a stream: one checkpoint at a
// time, never the whole text in memory (catalog.json holds one per log
// ever read: tens of megabytes for tens of thousands of logs). Without
// sources, the checkpoints are skipped (c.Sources stays nil): readers of
// the file list and the servers need none.
func decodeCatalog(r io.Reader, c *Catalog, sources bool) error {
	s := newJSONStream(r)
	if sources {
		c.Sources = map[string]*Checkpoint{}
	}
	var headers []string
	refs := map[string]int{} // header_ref by path, where the table comes after the sources
	servers := map[string]string{}
	rest := map[string]json.RawMessage{}
	if _, err := s.delim("{"); err != nil {
		return err
	}
	end := byte(0)
	if b, err := s.next(); err == nil && b == '}' { // {}
		end, _ = s.delim("}")
	}
	for end != '}' {
		key, err := s.key()
		if err != nil {
			return err
		}
		switch key {
		case "sources":
			if err := s.sources(func(path string, raw []byte) error {
				if !sources {
					return nil
				}
				cp := checkpointFile{Checkpoint: &Checkpoint{}}
				if err := decodeCheckpoint(raw, &cp); err != nil {
					return fmt.Errorf("sources[%q]: %w", path, err)
				}
				cp.Checkpoint.Header = cp.Header
				switch ref := cp.HeaderRef; {
				case ref != nil && headers != nil && *ref >= 0 && *ref < len(headers):
					cp.Checkpoint.Header = headers[*ref]
				case ref != nil:
					refs[path] = *ref
				}
				// One string per server, as per header.
				if name, ok := servers[cp.Server]; ok {
					cp.Server = name
				} else {
					servers[cp.Server] = cp.Server
				}
				c.Sources[path] = cp.Checkpoint
				return nil
			}); err != nil {
				return err
			}
		default:
			raw, err := s.value()
			if err != nil {
				return err
			}
			if key == "headers" {
				err = json.Unmarshal(raw, &headers)
			} else {
				rest[key] = bytes.Clone(raw)
			}
			if err != nil {
				return err
			}
		}
		if end, err = s.delim(",}"); err != nil {
			return err
		}
	}
	if b, err := s.next(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%q after the catalog", b)
	}
	for path, n := range refs {
		if n < 0 || n >= len(headers) {
			return fmt.Errorf("sources[%q]: header_ref %d outside the %d headers", path, n, len(headers))
		}
		c.Sources[path].Header = headers[n]
	}
	// The small fields, by their tags in Catalog.
	text, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	return json.Unmarshal(text, (*catalogFields)(c))
}

// sources calls fn with each entry of the sources object (or none, for
// null), the value's text valid during the call.
func (s *jsonStream) sources(fn func(path string, raw []byte) error) error {
	if b, err := s.next(); err == nil && b == 'n' {
		raw, err := s.value()
		if err == nil && string(raw) != "null" {
			err = fmt.Errorf("sources: want an object, found %q", raw)
		}
		return err
	}
	if _, err := s.delim("{"); err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	if b, err := s.next(); err == nil && b == '}' {
		_, err = s.delim("}")
		return err
	}
	for {
		path, err := s.key()
		if err != nil {
			return err
		}
		raw, err := s.value()
		if err != nil {
			return err
		}
		if err := fn(path, raw); err != nil {
			return err
		}
		if end, err := s.delim(",}"); err != nil || end == '}' {
			return err
		}
	}
}

// resolveHeaders puts the checkpoints read into sources, each with its
// header from the table (or, written before the table, its own).
func resolveHeaders(in map[string]*checkpointFile, headers []string, sources map[string]*Checkpoint) error {
	for path, cp := range in {
		if cp == nil { // null
			cp = &checkpointFile{}
		}
		if cp.Checkpoint == nil {
			cp.Checkpoint = &Checkpoint{}
		}
		switch {
		case cp.HeaderRef != nil && (*cp.HeaderRef < 0 || *cp.HeaderRef >= len(headers)):
			return fmt.Errorf("sources[%q]: header_ref %d outside the %d headers", path, *cp.HeaderRef, len(headers))
		case cp.HeaderRef != nil:
			cp.Checkpoint.Header = headers[*cp.HeaderRef]
		default:
			cp.Checkpoint.Header = cp.Header
		}
		sources[path] = cp.Checkpoint
	}
	return nil
}

// pendingFile is the commit record: the next catalog (a base) or its
// delta, written before the data files are renamed into place.
const pendingFile = ".catalog-next.json"

// LoadCatalog reads the catalog of a data folder (catalog.json and its
// deltas), or returns an empty one for a new dataset. It writes nothing (a
// commit left half-done by a crash is completed by the next writer's
// Recover).
func LoadCatalog(dir string) (*Catalog, error) {
	cat, img, err := loadChain(dir, true)
	if err != nil {
		return nil, err
	}
	remember(img)
	return cat, nil
}

// Commit makes cat the dataset, newFiles being the data files it adds,
// written and synced under their temporary names (TempName). The caller
// holds the writer lock. In order:
//
//  1. the commit record, DIR/.catalog-next.json, is written and synced:
//     from here on the commit has happened, and a run that dies is
//     completed by the next writer (Recover);
//  2. the data files are renamed into place and their folders synced;
//  3. the commit record is renamed into the catalog: as the next delta,
//     DIR/catalog.d/<version>.json, or, when cat removes data files or the
//     deltas have grown (see deltaShare), over DIR/catalog.json as a new
//     base, whose older deltas are then removed;
//  4. the data files the new version replaced (cat.Obsolete: a re-key or
//     a rebuild) are removed.
//
// So the catalog never names a missing file, and the files a glob of
// DIR/sessions/**/*.parquet sees are always committed ones; only while a
// commit renames (or after a crash in between, until the next writer) a
// glob may see part of the newest commit's files. Readers that must see
// whole commits read the catalog's file list (ListFiles), as qvmeter does.
// A delta holds what cat changed against the committed catalog (added
// data files, added, changed and removed checkpoints, and the servers'
// freshness and quality whole): its bytes follow the change, not the
// number of logs ever read.
//
// Commit also drops the checkpoints of logs deleted from a folder that
// still exists (a folder that is gone may be an unmounted share), and
// updates each server's freshness (ServerInfo) from the new session files.
// If the commit record cannot be written, the new files are removed and
// the dataset is as it was.
func Commit(dir string, cat *Catalog, newFiles []DataFile) error {
	prev, err := committedImage(dir)
	if err == nil {
		pruneSources(cat)
		err = updateServers(dir, cat, newFiles, prev)
	}
	var record []byte
	var delta bool
	var next *image
	if err == nil {
		record, delta, next, err = encodeCommit(dir, cat, prev)
	}
	if err == nil && delta {
		err = makeDeltaDir(dir)
	}
	pending := filepath.Join(dir, pendingFile)
	if err == nil {
		err = WriteFileAtomic(pending, record)
	}
	if err != nil {
		RemoveTemps(dir, newFiles)
		return err
	}
	if err := finishRenames(dir, newFiles); err != nil {
		return err
	}
	if err := placeRecord(dir, cat.Version, delta); err != nil {
		return err
	}
	if err := next.stat(dir, delta); err == nil {
		remember(next)
	}
	return removeObsolete(dir, cat)
}

// makeDeltaDir makes DIR/catalog.d, durably, before a delta is renamed in.
func makeDeltaDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, deltaDir)); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, deltaDir), 0o755); err != nil {
		return err
	}
	return SyncDir(dir)
}

// placeRecord renames the commit record into the catalog: as the delta of
// version, or over catalog.json, whose older deltas it then removes.
func placeRecord(dir string, version int64, delta bool) error {
	pending := filepath.Join(dir, pendingFile)
	if delta {
		if err := os.Rename(pending, deltaPath(dir, version)); err != nil {
			return err
		}
		if err := SyncDir(filepath.Join(dir, deltaDir)); err != nil {
			return err
		}
		return SyncDir(dir)
	}
	if err := os.Rename(pending, filepath.Join(dir, CatalogFile)); err != nil {
		return err
	}
	if err := SyncDir(dir); err != nil {
		return err
	}
	removeDeltas(dir)
	return nil
}

// stat records the files of a chain just written, so that the next commit
// can tell the image is still current.
func (img *image) stat(dir string, delta bool) error {
	var err error
	if delta {
		img.last, err = os.Stat(deltaPath(dir, img.version))
	} else {
		img.base, err = os.Stat(filepath.Join(dir, CatalogFile))
	}
	return err
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
// is gone but its folder is still there. Each folder is listed once (a
// stat per log costs more: the checkpoints of one folder are thousands).
func pruneSources(cat *Catalog) {
	byDir := map[string][]string{}
	for path := range cat.Sources {
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], path)
	}
	for dir, paths := range byDir {
		present, err := namesIn(dir, paths)
		if err != nil {
			continue // gone (an unmounted share) or unreadable: nothing is known deleted
		}
		for i, path := range paths {
			if !present[i] {
				delete(cat.Sources, path)
			}
		}
	}
}

// namesIn tells which of paths, all in dir, dir holds, listing it in
// batches.
func namesIn(dir string, paths []string) ([]bool, error) {
	index := make(map[string]int, len(paths))
	for i, path := range paths {
		index[filepath.Base(path)] = i
	}
	present := make([]bool, len(paths))
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(4096)
		for _, name := range names {
			if i, ok := index[name]; ok {
				present[i] = true
			}
		}
		if errors.Is(err, io.EOF) {
			return present, nil
		}
		if err != nil {
			return nil, err
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
// (its data files renamed into place, the record put in the catalog, and
// cat updated to it), the files the committed version replaced are removed
// if its writer died before it did (Obsolete), every other temporary file
// is removed (its run never committed), and so are delta files no part of
// the catalog's chain. It then refuses, with *ErrUnknownFiles, a data
// folder whose sessions or rejects hold Parquet files the catalog does not
// list: a deleted or restored catalog.json would otherwise make the next
// run overwrite them or store their sessions twice.
//
// It lists the data folders once and stats no committed file: its cost
// follows the number of data files, not of logs.
func Recover(dir string, cat *Catalog) error {
	img, err := committedImage(dir)
	if err != nil {
		return err
	}
	pending := filepath.Join(dir, pendingFile)
	files := cat.Files
	record, kind, ok := readPending(pending)
	var base *Catalog // a base record to complete
	var delta *catalogDelta
	switch {
	case !ok:
		// None, or a torn record: its run's writes were not all synced, so
		// it never committed.
	case kind.Extends != "" && kind.Version == img.version+1 && kind.Extends == hashHex(img.head):
		delta = &catalogDelta{}
		if err := json.Unmarshal(record, delta); err != nil {
			return fmt.Errorf("%s: %w", pending, err)
		}
		files = append(slices.Clone(img.files), delta.Files...)
	case kind.Extends == "" && kind.Version > img.version:
		if base, err = parseCatalog(pending, record); err != nil {
			return err
		}
		files = base.Files
	}
	if err := settleTemps(dir, files); err != nil {
		return err
	}
	if delta != nil || base != nil {
		if delta != nil {
			err = makeDeltaDir(dir)
		}
		if err == nil {
			err = placeRecord(dir, kind.Version, delta != nil)
		}
		if err != nil {
			return err
		}
		next, img, err := loadChain(dir, true)
		if err != nil {
			return err
		}
		remember(img)
		*cat = *next
	} else {
		os.Remove(pending)
		removeStrayDeltas(dir, img.version-int64(img.deltas), img.version)
	}
	// The files the committed version replaced, if its process died before
	// it removed them: they are no data of any version, and must not be
	// taken for unknown files below.
	if err := removeObsolete(dir, cat); err != nil {
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

// settleTemps walks the data folders: the temporary files of files listed
// are renamed into place (a commit that died after its record; catalogs of
// the older order, catalog first, then renames), every other temporary
// file is removed.
func settleTemps(dir string, files []DataFile) error {
	known := knownFiles(files)
	renamed := map[string]bool{}
	_, err := scanData(dir, known, func(tmp, final, rel string) error {
		if !known[rel] {
			return os.Remove(tmp)
		}
		renamed[filepath.Dir(final)] = true
		return os.Rename(tmp, final)
	})
	if err != nil {
		return err
	}
	for _, d := range slices.Sorted(maps.Keys(renamed)) {
		if err := SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func knownFiles(files []DataFile) map[string]bool {
	known := make(map[string]bool, len(files))
	for _, f := range files {
		known[f.Path] = true
	}
	return known
}

// scanData walks the data folders, DIR/sessions and DIR/rejects, skipping
// hidden folders (writers' own), and returns the Parquet files known does
// not name (relative to dir, with '/', sorted). It calls temp, if not nil,
// for every temporary data file, with its final path and that path
// relative to dir.
func scanData(dir string, known map[string]bool, temp func(tmp, final, rel string) error) ([]string, error) {
	var unknown []string
	err := walkData(dir, func(path string, d fs.DirEntry) error {
		name := d.Name()
		hidden := strings.HasPrefix(name, ".")
		switch {
		case hidden && d.IsDir() && !isDataRoot(dir, path):
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case hidden && strings.HasSuffix(name, TmpSuffix) && temp != nil:
			final := filepath.Join(filepath.Dir(path), strings.TrimSuffix(name[1:], TmpSuffix))
			rel, err := filepath.Rel(dir, final)
			if err != nil {
				return err
			}
			return temp(path, final, filepath.ToSlash(rel))
		case hidden || !strings.HasSuffix(name, ".parquet"):
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
	return scanData(dir, knownFiles(cat.Files), nil)
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
