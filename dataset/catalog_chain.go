package dataset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/xxh3"
)

// The catalog on disk is a chain: catalog.json, the base, a whole catalog
// of some version B; then the deltas DIR/catalog.d/<B+1>.json,
// <B+2>.json …, each the changes of one commit, naming by hash the file it
// extends. The catalog is the base with every delta of the chain applied,
// up to the first version missing. So a nightly run that reads a few new
// logs writes a few kilobytes, not the checkpoints of every log ever read;
// when the deltas have grown to a share of the base (or to many files), the
// next commit writes a whole new base instead, and removes the deltas.
//
// A delta only adds data files. A commit that removes any (a re-key, a
// rebuild, a compaction: Obsolete) writes a base, and removes the files
// once that base is catalog.json. So every base, read alone, is a whole
// earlier version whose files all exist: a tool that reads catalog.json
// without its deltas sees an older commit, never a broken one.
const deltaDir = "catalog.d"

// Consolidation: a commit writes a new base rather than a delta when the
// deltas would exceed 1/deltaShare of the base's bytes, or number more
// than maxDeltas (each is a file a reader opens).
const (
	deltaShare = 4
	maxDeltas  = 128
)

// catalogDelta is one commit's changes to the catalog it extends.
type catalogDelta struct {
	Version int64 `json:"version"`
	// Extends is the xxh3 hash, in hex, of the file of the chain this delta
	// applies to (the base, or the delta of the version before): a delta
	// left from another chain (a catalog.json restored from a copy) is no
	// part of this one.
	Extends    string                     `json:"extends"`
	Committed  time.Time                  `json:"committed"`
	KeyVersion int                        `json:"key_version,omitempty"`
	Files      []DataFile                 `json:"files,omitempty"` // added
	Headers    []string                   `json:"headers,omitempty"`
	Sources    map[string]*checkpointFile `json:"sources,omitempty"` // added or changed
	Removed    []string                   `json:"removed_sources,omitempty"`
	// The servers whose freshness or quality changed, and those gone.
	Servers        map[string]*ServerInfo    `json:"servers,omitempty"`
	ServersRemoved []string                  `json:"removed_servers,omitempty"`
	Quality        map[string]*ServerQuality `json:"quality,omitempty"`
	QualityRemoved []string                  `json:"removed_quality,omitempty"`
}

func deltaPath(dir string, version int64) string {
	return filepath.Join(dir, deltaDir, strconv.FormatInt(version, 10)+".json")
}

func hashHex(h uint64) string { return fmt.Sprintf("%016x", h) }

// apply makes cat the version d describes.
func (d *catalogDelta) apply(cat *Catalog) error {
	cat.Version, cat.Committed, cat.KeyVersion, cat.Obsolete = d.Version, d.Committed, d.KeyVersion, nil
	cat.Files = append(cat.Files, d.Files...)
	if cat.Sources != nil { // read without its checkpoints otherwise
		if err := resolveHeaders(d.Sources, d.Headers, cat.Sources); err != nil {
			return err
		}
		for _, path := range d.Removed {
			delete(cat.Sources, path)
		}
	}
	cat.Servers = patch(cat.Servers, d.Servers, d.ServersRemoved)
	cat.Quality = patch(cat.Quality, d.Quality, d.QualityRemoved)
	return nil
}

// patch sets the changed entries of m and deletes the removed ones.
func patch[V any](m, changed map[string]V, removed []string) map[string]V {
	if m == nil && len(changed) > 0 {
		m = make(map[string]V, len(changed))
	}
	maps.Copy(m, changed)
	for _, k := range removed {
		delete(m, k)
	}
	return m
}

// changes returns the entries of m that differ from old's (by their JSON
// form: what is stored), and the keys of old that m no longer has.
func changes[V any](old map[string][]byte, m map[string]V) (map[string]V, []string, error) {
	changed := map[string]V{}
	for k, v := range m {
		text, err := json.Marshal(v)
		if err != nil {
			return nil, nil, err
		}
		if prev, ok := old[k]; !ok || !bytes.Equal(prev, text) {
			changed[k] = v
		}
	}
	var removed []string
	for k := range old {
		if _, ok := m[k]; !ok {
			removed = append(removed, k)
		}
	}
	slices.Sort(removed)
	return changed, removed, nil
}

// encodeEach is each entry of m in its JSON form.
func encodeEach[V any](m map[string]V) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k], _ = json.Marshal(v) // of ServerInfo, ServerQuality: never fails
	}
	return out
}

// image is what a writer must know of the committed catalog to write the
// next commit as a delta: which version it is and where its chain ends,
// and a fingerprint of each checkpoint and the data files, to tell what a
// new catalog changed. It is kept apart from the Catalog it was read with,
// which its caller may change.
type image struct {
	dir     string
	version int64
	head    uint64 // xxh3 of the chain's last file (0: no catalog yet)
	// The chain's files as read: catalog.json, and its last delta (nil:
	// none), to tell whether another process has committed since.
	base, last            fs.FileInfo
	baseBytes, deltaBytes int64
	deltas                int
	sources               []sourceSum // by path
	files                 []DataFile
	servers               map[string]*ServerInfo // nil: the catalog kept none yet
	// Each server's freshness and quality as stored.
	serversJSON, qualityJSON map[string][]byte
	others                   string // the fields no delta holds (see othersOf)
}

// sourceSum is a checkpoint's fingerprint.
type sourceSum struct {
	path string
	sum  xxh3.Uint128
}

// sourceSums fingerprints every checkpoint, in path order.
func sourceSums(sources map[string]*Checkpoint) []sourceSum {
	sums := make([]sourceSum, 0, len(sources))
	var buf []byte
	for path, cp := range sources {
		buf = buf[:0]
		for _, s := range []string{cp.Server, cp.Header} {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
		for _, n := range []int64{cp.Size, cp.ModTime.Unix(), int64(cp.ModTime.Nanosecond()), int64(cp.HeadHash), cp.HeadLen,
			int64(cp.TailHash), cp.TailLen, cp.Offset, cp.Line} {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(n))
		}
		sums = append(sums, sourceSum{path: path, sum: xxh3.Hash128(buf)})
	}
	slices.SortFunc(sums, func(a, b sourceSum) int { return strings.Compare(a.path, b.path) })
	return sums
}

func cloneServers(servers map[string]*ServerInfo) map[string]*ServerInfo {
	if servers == nil {
		return nil
	}
	out := make(map[string]*ServerInfo, len(servers))
	for name, s := range servers {
		c := *s
		out[name] = &c
	}
	return out
}

// remembered is the image of the catalog this process last loaded or
// committed: a writer's Commit then needs not read the catalog again.
// Before use it is checked against the files on disk (see current).
var remembered struct {
	sync.Mutex
	img *image
}

func remember(img *image) {
	remembered.Lock()
	remembered.img = img
	remembered.Unlock()
}

// committedImage returns the image of the catalog committed in dir: the
// remembered one while its files are as they were, else read anew.
func committedImage(dir string) (*image, error) {
	remembered.Lock()
	img := remembered.img
	remembered.Unlock()
	if img != nil && img.current(dir) {
		return img, nil
	}
	_, img, err := loadChain(dir, true)
	return img, err
}

// current tells whether the image is still that of the catalog in dir:
// the same catalog.json, the same last delta, and no delta after it.
func (img *image) current(dir string) bool {
	if img.dir != filepath.Clean(dir) || img.base == nil {
		return false
	}
	if !sameFile(img.base, filepath.Join(dir, CatalogFile)) {
		return false
	}
	if img.last != nil && !sameFile(img.last, deltaPath(dir, img.version)) {
		return false
	}
	_, err := os.Lstat(deltaPath(dir, img.version+1))
	return errors.Is(err, fs.ErrNotExist)
}

func sameFile(info fs.FileInfo, path string) bool {
	now, err := os.Stat(path)
	return err == nil && os.SameFile(info, now) && now.Size() == info.Size() && now.ModTime().Equal(info.ModTime())
}

// loadChain reads the catalog of dir: its base and every delta of its
// chain. A reader that meets a commit replacing the base (whose deltas it
// removes) reads again; after several tries it returns what it read, an
// older whole version. With sources, it reads the checkpoints too, and
// fingerprints what it read (the image); without, cat.Sources is nil.
func loadChain(dir string, sources bool) (*Catalog, *image, error) {
	for attempt := 0; ; attempt++ {
		cat, img, stable, err := loadChainOnce(dir, sources)
		if err != nil || stable || attempt == 10 {
			return cat, img, err
		}
	}
}

func loadChainOnce(dir string, sources bool) (cat *Catalog, img *image, stable bool, err error) {
	path := filepath.Join(dir, CatalogFile)
	img = &image{dir: filepath.Clean(dir)}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		cat = &Catalog{}
		if sources {
			cat.Sources, img.servers = map[string]*Checkpoint{}, map[string]*ServerInfo{}
		}
		return cat, img, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, false, err
	}
	// Decoded as a stream, and hashed as it is read.
	hash := xxh3.New()
	read := &countingWriter{w: hash}
	cat = &Catalog{}
	text := io.TeeReader(bufio.NewReaderSize(f, 1<<16), read)
	if err := decodeCatalog(text, cat, sources); err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, text); err != nil { // what the decoder left: trailing space
		return nil, nil, false, err
	}
	img.version, img.head, img.base, img.baseBytes = cat.Version, hash.Sum64(), info, read.n

	for {
		next := deltaPath(dir, img.version+1)
		data, info, err := readWithInfo(next)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, nil, false, err
		}
		d := &catalogDelta{}
		if err := json.Unmarshal(data, d); err != nil {
			return nil, nil, false, fmt.Errorf("%s: %w", next, err)
		}
		if d.Version != img.version+1 || d.Extends != hashHex(img.head) {
			break // another chain's
		}
		if err := d.apply(cat); err != nil {
			return nil, nil, false, fmt.Errorf("%s: %w", next, err)
		}
		img.version, img.head, img.last = d.Version, xxh3.Hash(data), info
		img.deltaBytes += int64(len(data))
		img.deltas++
	}
	stable = sameFile(img.base, path)
	if sources {
		img.sources = sourceSums(cat.Sources)
		img.files = slices.Clone(cat.Files)
		img.servers = cloneServers(cat.Servers)
		img.serversJSON, img.qualityJSON = encodeEach(cat.Servers), encodeEach(cat.Quality)
		img.others = othersOf(cat)
	}
	return cat, img, stable, nil
}

// readWithInfo reads a whole file and describes the file it read.
func readWithInfo(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), info, nil
}

func parseCatalog(path string, data []byte) (*Catalog, error) {
	cat := &Catalog{}
	if err := decodeCatalog(bytes.NewReader(data), cat, true); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cat, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// encodeCommit writes cat as the commit after prev: a delta when cat only
// adds data files to prev's and the deltas stay small (see deltaShare),
// else a whole base. It also returns the image of cat.
func encodeCommit(dir string, cat *Catalog, prev *image) (record []byte, delta bool, next *image, err error) {
	next = &image{dir: filepath.Clean(dir), version: cat.Version, sources: sourceSums(cat.Sources),
		files: slices.Clone(cat.Files), servers: cloneServers(cat.Servers),
		serversJSON: encodeEach(cat.Servers), qualityJSON: encodeEach(cat.Quality), others: othersOf(cat)}
	if prev.base != nil && cat.Version == prev.version+1 && len(cat.Obsolete) == 0 && prev.deltas < maxDeltas && next.others == prev.others &&
		len(cat.Files) >= len(prev.files) && slices.Equal(cat.Files[:len(prev.files)], prev.files) {
		d := &catalogDelta{Version: cat.Version, Extends: hashHex(prev.head), Committed: cat.Committed, KeyVersion: cat.KeyVersion,
			Files: cat.Files[len(prev.files):]}
		if d.Servers, d.ServersRemoved, err = changes(prev.serversJSON, cat.Servers); err != nil {
			return nil, false, nil, err
		}
		if d.Quality, d.QualityRemoved, err = changes(prev.qualityJSON, cat.Quality); err != nil {
			return nil, false, nil, err
		}
		changed := map[string]*Checkpoint{}
		old := prev.sources
		for _, s := range next.sources {
			for len(old) > 0 && old[0].path < s.path {
				d.Removed = append(d.Removed, old[0].path)
				old = old[1:]
			}
			if len(old) > 0 && old[0].path == s.path {
				if old[0].sum != s.sum {
					changed[s.path] = cat.Sources[s.path]
				}
				old = old[1:]
				continue
			}
			changed[s.path] = cat.Sources[s.path]
		}
		for _, s := range old {
			d.Removed = append(d.Removed, s.path)
		}
		d.Headers, d.Sources = internHeaders(changed)
		if record, err = json.Marshal(d); err != nil {
			return nil, false, nil, err
		}
		if (prev.deltaBytes+int64(len(record)))*deltaShare <= prev.baseBytes {
			next.base, next.baseBytes = prev.base, prev.baseBytes
			next.deltas, next.deltaBytes = prev.deltas+1, prev.deltaBytes+int64(len(record))
			next.head = xxh3.Hash(record)
			return record, true, next, nil
		}
	}
	if record, err = json.Marshal(cat); err != nil {
		return nil, false, nil, err
	}
	next.baseBytes, next.head = int64(len(record)), xxh3.Hash(record)
	return record, false, next, nil
}

// othersOf is the JSON of the catalog's fields that a delta does not
// hold: none today, but a field added to Catalog later is then written by
// a new base whenever it changes, never lost by a delta that lacks it.
func othersOf(cat *Catalog) string {
	c := catalogFields(*cat)
	c.Version, c.Committed, c.Files, c.Sources, c.Servers, c.KeyVersion, c.Obsolete, c.Quality = 0, time.Time{}, nil, nil, nil, 0, nil, nil
	text, _ := json.Marshal(&c) // of plain fields: never fails
	return string(text)
}

// removeDeltas removes every delta file: after a new base they are older
// versions, or another chain's. What it cannot remove (on Windows, a file
// a reader has open) is harmless, no part of the chain, and the next
// writer removes it (removeStrayDeltas).
func removeDeltas(dir string) {
	os.RemoveAll(filepath.Join(dir, deltaDir))
}

// removeStrayDeltas removes the delta files that are no part of the chain
// read (versions up to the base's, or another chain's after it): left by a
// writer that died before removing them, or that could not.
func removeStrayDeltas(dir string, baseVersion, headVersion int64) {
	entries, _ := os.ReadDir(filepath.Join(dir, deltaDir))
	for _, e := range entries {
		v, err := strconv.ParseInt(strings.TrimSuffix(e.Name(), ".json"), 10, 64)
		if err != nil || v <= baseVersion || v > headVersion {
			os.RemoveAll(filepath.Join(dir, deltaDir, e.Name()))
		}
	}
}

// pendingKind tells a commit record's version and whether it is a delta.
type pendingKind struct {
	Version int64  `json:"version"`
	Extends string `json:"extends"`
}

// readPending reads the commit record of a commit in progress: ok false
// when there is none, or it is torn (its run never committed).
func readPending(path string) (data []byte, kind pendingKind, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &kind) != nil {
		return nil, kind, false
	}
	return data, kind, true
}
