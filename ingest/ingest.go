package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/zeebo/xxh3"
)

// MemoryLimit is the Go runtime's soft memory limit that LimitMemory sets
// while an ingest runs. What a run holds is bounded whatever the size of
// its logs (per worker a decoder record and one open file's row group, and
// a few months' session keys: about 60 MB); the limit makes the collector
// keep the heap near that rather than let it reach twice it, so that with
// the binary's own pages the peak RSS stays under 128 MiB.
const MemoryLimit = 88 << 20

// LimitMemory sets the soft memory limit (debug.SetMemoryLimit) to
// MemoryLimit, unless GOMEMLIMIT sets one, and returns what restores the
// previous one; qvmeter calls it around an ingest. It is no bound: what
// grows with the number of logs (the catalog's checkpoints, one per log)
// can hold more than MemoryLimit, and a limit below the live heap would
// have the collector run without pause. So while the limit is set, it is
// kept at least half as much again as the heap live after the last
// collection.
func LimitMemory() (restore func()) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	previous := debug.SetMemoryLimit(MemoryLimit)
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if live := int64(sample[0].Value.Uint64()); live > 0 {
				debug.SetMemoryLimit(max(MemoryLimit, live+live/2))
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		debug.SetMemoryLimit(previous)
	}
}

// Options configure one ingest run.
type Options struct {
	Data    string   // the data folder
	Paths   []string // log files or folders, walked recursively
	Server  string   // server name for every file; "" = from each file name
	Workers int      // parallel decoders (default: GOMAXPROCS)

	// BatchSize is the parser's rows per record (default 8k: memory per
	// worker is bounded by it, not by the input).
	BatchSize int

	// ChunkBytes is the size above which a file is split across workers
	// (default 16 MiB: small enough that the last chunks keep every worker
	// busy, large enough that splitting costs nothing).
	ChunkBytes int64

	// Zones gives each server the zone of its times logged without an
	// offset: --timezone over the licence's [timezones] (no rule: UTC, and
	// a warning per server on every run).
	Zones parse.TimeZones

	// Rebuild re-reads every log from its start, the catalog's sources as
	// well as those under Paths, into a new dataset version that replaces
	// the stored one in one commit (after a zone changed, or a parser fix).
	// The rows of catalog sources no longer on disk are kept as stored.
	Rebuild bool

	// Compact merges, after the run, every month's session files into one
	// file per month, and the rejects files into one (qvmeter ingest
	// --compact). Without it, a partition is compacted once it has more
	// than CompactAbove files (0: DefaultCompactAbove; negative: never).
	Compact      bool
	CompactAbove int

	// Now stamps rejects with the time they were stored (default time.Now).
	Now func() time.Time

	// Progress, if set, is updated while the run goes.
	Progress *Progress

	// Wait is how long to wait for another writer of the data folder to
	// finish (0: fail at once with *dataset.ErrLocked).
	Wait time.Duration
	// LockHeld says the caller holds the data folder's writer lock
	// (dataset.Lock) for the whole run, as qvmeter run does.
	LockHeld bool
}

// Progress is updated atomically by a run; poll it for a progress bar.
type Progress struct {
	BytesTotal atomic.Int64
	BytesDone  atomic.Int64
	FilesTotal atomic.Int64
	FilesDone  atomic.Int64
}

// Summary says what a run did.
type Summary struct {
	DatasetVersion int64            `json:"dataset_version"`
	FilesNew       int              `json:"files_new"`
	FilesGrown     int              `json:"files_grown"`
	FilesUnchanged int              `json:"files_unchanged"`
	FilesRotated   int              `json:"files_rotated"`
	FilesSkipped   int              `json:"files_skipped"` // not session logs
	Unreadable     []string         `json:"unreadable"`    // paths that could not be read, with the reason
	BytesRead      int64            `json:"bytes_read"`
	LinesRead      int64            `json:"lines_read"`
	RowsStored     int64            `json:"rows_stored"`
	Duplicates     int64            `json:"duplicates"`
	Rejects        int64            `json:"rejects"`
	RejectsBy      map[string]int64 `json:"rejects_by_reason"`
	PartialBytes   int64            `json:"partial_bytes"` // incomplete last lines held back for the next run
	Months         []string         `json:"months"`        // month partitions written
	Seconds        float64          `json:"seconds"`

	// Servers says per server what this run read: lines, the zone its
	// offset-less times were converted with, and every lenient reading.
	Servers map[string]*ServerSummary `json:"servers"`
	// Warnings are said on every run while they hold: offset-less times
	// converted as UTC for want of a zone, or with a zone changed since.
	Warnings []string `json:"warnings"`
	// Rekeyed is set when this run re-keyed a dataset of an older key.
	Rekeyed *Rekeyed `json:"rekeyed,omitempty"`
	// Rebuilt is set when this run rebuilt the dataset (Options.Rebuild).
	Rebuilt *Rebuilt `json:"rebuilt,omitempty"`
	// Compacted are the partitions this run compacted, in a commit of
	// their own after its ingest (see Options.Compact).
	Compacted []Compacted `json:"compacted,omitempty"`
}

// ServerSummary is what one run read from one server's logs.
type ServerSummary struct {
	Zone  string `json:"zone"` // of its offset-less times (dataset.NoZone: taken as UTC)
	Lines int64  `json:"lines"`
	dataset.ServerQuality
	stats parse.Stats
}

// Readings returns the lenient readings of the run's lines of the server
// that are not zero, in the decoder's order (parse.Stats.Lenient).
func (s *ServerSummary) Readings() []parse.Count { return s.stats.Lenient() }

// Rekeyed says how a dataset stored with an older session key was brought
// to KeyVersion: every stored row re-keyed, the duplicates the old key had
// let in dropped.
type Rekeyed struct {
	FromVersion int   `json:"from_version"`
	ToVersion   int   `json:"to_version"`
	Rows        int64 `json:"rows"`       // rows kept
	Duplicates  int64 `json:"duplicates"` // rows dropped: one session stored twice under the old key
}

// Rebuilt says what a rebuild replaced.
type Rebuilt struct {
	PreviousVersion int64 `json:"previous_version"`
	PreviousRows    int64 `json:"previous_rows"`
	// Missing are catalog sources not read again, deleted or unreadable
	// (those are in Unreadable too): their stored rows (KeptRows) and
	// rejects (KeptRejects) are kept as they were.
	Missing     []string `json:"missing"`
	KeptRows    int64    `json:"kept_rows"`
	KeptRejects int64    `json:"kept_rejects"`
	// Adopted are data files no catalog listed (catalog.json deleted or
	// restored from an older copy), which a plain run refuses: a rebuild
	// keeps their rows of logs it does not read again and replaces them.
	Adopted []string `json:"adopted,omitempty"`
}

// RejectRatio is rejected lines over lines read (0 when nothing was read).
func (s *Summary) RejectRatio() float64 {
	if s.LinesRead == 0 {
		return 0
	}
	return float64(s.Rejects) / float64(s.LinesRead)
}

// fileState is what a run found a source to be.
type fileState uint8

const (
	stateUnchanged fileState = iota
	stateNew
	stateGrown
	stateRotated
)

// task is one source to read from an offset.
type task struct {
	src       source
	state     fileState
	from      int64
	firstLine int64
	header    []byte // header in effect at from (nil: the file starts with it, or has none)
	headHash  uint64
	headLen   int64
	tailHash  uint64 // of the tailBytes before the checkpoint's offset
	tailLen   int64
	split     bool           // may be decoded in chunks on several workers
	loc       *time.Location // zone of offset-less times
	zone      string         // its name, or dataset.NoZone
}

// chunkResult is what decoding one chunk of a task left behind.
type chunkResult struct {
	chunk       parse.Chunk
	startHeader []byte
	endHeader   []byte
	offset      int64 // absolute offset after the last complete line
	line        int64
	stats       parse.Stats
	duplicates  int64
	stored      int64
	gone        error // the file could not be opened any more: the task is skipped
}

// errLayoutChanged means a file split across workers changed its header
// mid-file between two chunks; the run is redone with that file whole.
type errLayoutChanged struct{ path string }

func (e *errLayoutChanged) Error() string { return e.path + ": header changed mid-file" }

// layoutRetries counts runs redone because a split file changed its header
// mid-file (for tests: a split that always failed would only be slow).
var layoutRetries atomic.Int64

// Run ingests what is new in the session logs under opts.Paths into the
// dataset in opts.Data: one atomic commit at the end, so a run that fails
// or is killed leaves the dataset as it was.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	started := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 8 * 1024
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = 16 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = new(Progress)
	}
	if err := os.MkdirAll(opts.Data, 0o755); err != nil {
		return nil, err
	}
	if !opts.LockHeld {
		unlock, err := dataset.Lock(ctx, opts.Data, opts.Wait)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}

	wholeFiles := map[string]bool{}
	for {
		sum, err := runOnce(ctx, opts, wholeFiles)
		var changed *errLayoutChanged
		if errors.As(err, &changed) && !wholeFiles[changed.path] {
			wholeFiles[changed.path] = true
			layoutRetries.Add(1)
			continue
		}
		if err == nil {
			err = compactAfter(ctx, opts, sum)
		}
		if sum != nil {
			sum.Seconds = time.Since(started).Seconds()
		}
		return sum, err
	}
}

// compactAfter compacts the partitions of the data folder that a run leaves
// with too many files (Options.Compact, Options.CompactAbove).
func compactAfter(ctx context.Context, opts Options, sum *Summary) error {
	above := opts.CompactAbove
	switch {
	case opts.Compact:
		above = 1
	case above < 0:
		return nil
	case above == 0:
		above = DefaultCompactAbove
	}
	done, err := compact(ctx, opts.Data, above, opts.Now())
	if err != nil {
		return err
	}
	if len(done) > 0 {
		sum.Compacted = done
		sum.DatasetVersion++
	}
	return nil
}

func runOnce(ctx context.Context, opts Options, wholeFiles map[string]bool) (*Summary, error) {
	cat, err := dataset.LoadCatalog(opts.Data)
	if err != nil {
		return nil, err
	}
	var adopted []dataset.DataFile // rebuild: data files the catalog does not list
	if err := dataset.Recover(opts.Data, cat); err != nil {
		var unknown *dataset.ErrUnknownFiles
		if !opts.Rebuild || !errors.As(err, &unknown) {
			return nil, fmt.Errorf("recovering %s: %w", opts.Data, err)
		}
		if adopted, err = adoptFiles(unknown.Files); err != nil {
			return nil, fmt.Errorf("rebuilding %s: %w", opts.Data, err)
		}
	}
	paths := opts.Paths
	if opts.Rebuild {
		paths = append([]string(nil), paths...)
		for path := range cat.Sources {
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				paths = append(paths, path)
			}
		}
	}
	found := discover(paths, opts.Server)
	sum := &Summary{DatasetVersion: cat.Version, FilesSkipped: found.skipped, RejectsBy: map[string]int64{}, Servers: map[string]*ServerSummary{}}
	for _, err := range found.unreadable {
		sum.Unreadable = append(sum.Unreadable, err.Error())
	}
	rekey := !opts.Rebuild && cat.KeyVersion < KeyVersion && len(cat.Files) > 0

	var tasks []task
	refreshed := map[string]*dataset.Checkpoint{} // unchanged files whose checkpoint gains its tail hash
	checkpoints := cat.Sources
	if opts.Rebuild {
		checkpoints = nil
	}
	planned, errs := planAll(found.sources, checkpoints)
	for i, src := range found.sources {
		cp, t := checkpoints[src.path], planned[i]
		if errs[i] != nil {
			sum.Unreadable = append(sum.Unreadable, errs[i].Error())
			continue
		}
		switch t.state {
		case stateUnchanged:
			sum.FilesUnchanged++
			if cp.TailLen == 0 && t.tailLen > 0 {
				c := *cp
				c.TailHash, c.TailLen = t.tailHash, t.tailLen
				refreshed[src.path] = &c
			}
			continue
		case stateNew:
			sum.FilesNew++
		case stateGrown:
			sum.FilesGrown++
		case stateRotated:
			sum.FilesRotated++
		}
		t.split = !wholeFiles[src.path]
		t.loc, t.zone = zoneOf(opts.Zones, src.server)
		tasks = append(tasks, t)
		opts.Progress.BytesTotal.Add(src.size - t.from)
	}
	opts.Progress.FilesTotal.Store(int64(len(tasks)))
	var missing []string // rebuild: catalog sources not read again, whose rows are kept
	if opts.Rebuild {
		missing = notReread(cat, tasks)
	}
	if len(tasks) == 0 && !rekey && !opts.Rebuild && len(refreshed) == 0 {
		sum.Warnings = zoneWarnings(cat.Quality, opts.Zones)
		return sum, nil
	}

	version := cat.Version + 1
	for _, f := range adopted { // never write over a file being adopted
		var n int64
		if _, err := fmt.Sscanf(path.Base(f.Path), "part-%d-", &n); err == nil && n >= version {
			version = n + 1
		}
	}
	keys := newKeySet(opts.Data, version, cat, opts.Workers)
	if rekey || opts.Rebuild {
		keys = newKeySet(opts.Data, version, &dataset.Catalog{}, opts.Workers)
	}
	defer keys.close()
	out := newOutput(opts.Data, version, keys, opts.Now())
	next := &dataset.Catalog{Version: version, Committed: opts.Now().UTC(), KeyVersion: KeyVersion, Sources: map[string]*dataset.Checkpoint{}, Quality: map[string]*dataset.ServerQuality{}}
	switch {
	case rekey:
		rows, dups, err := copyStored(ctx, out, cat.Files, nil)
		if err != nil {
			out.abort()
			return nil, fmt.Errorf("re-keying %s: %w", opts.Data, err)
		}
		sum.Rekeyed = &Rekeyed{FromVersion: max(cat.KeyVersion, 1), ToVersion: KeyVersion, Rows: rows, Duplicates: dups}
		for _, f := range cat.Files {
			if f.Kind == dataset.KindSessions {
				next.Obsolete = append(next.Obsolete, f.Path)
			} else {
				next.Files = append(next.Files, f)
			}
		}
	case opts.Rebuild:
		replaced := *cat
		replaced.Files = append(slices.Clone(cat.Files), adopted...)
		rebuilt, err := keepMissing(ctx, out, &replaced, tasks, missing)
		if err != nil {
			out.abort()
			return nil, fmt.Errorf("rebuilding %s: %w", opts.Data, err)
		}
		for _, f := range adopted {
			rebuilt.Adopted = append(rebuilt.Adopted, f.Path)
		}
		sum.Rebuilt = rebuilt
		// Each server's freshness from the rebuilt rows alone: times read
		// with another zone move its newest session end.
		next.Servers = map[string]*dataset.ServerInfo{}
		for _, f := range replaced.Files {
			next.Obsolete = append(next.Obsolete, f.Path)
		}
		for _, path := range missing {
			next.Sources[path] = cat.Sources[path]
		}
	default:
		next.Files = append(next.Files, cat.Files...)
	}
	if !opts.Rebuild {
		for path, cp := range cat.Sources {
			next.Sources[path] = cp
		}
		for server, q := range cat.Quality {
			next.Quality[server] = cloneQuality(q)
		}
	}
	for path, cp := range refreshed {
		next.Sources[path] = cp
	}

	results, err := decodeAll(ctx, opts, tasks, out)
	if err != nil {
		out.abort()
		return nil, err
	}
	newFiles, err := out.finish()
	if err != nil {
		return nil, err
	}
	next.Files = append(next.Files, newFiles...)

	months := map[string]bool{}
	for _, f := range newFiles {
		if f.Kind == dataset.KindSessions {
			months[f.Month] = true
		}
	}
	type serverRead struct {
		zone  string
		stats parse.Stats
	}
	read := map[string]*serverRead{} // what this run read, per server
	for i, t := range tasks {
		for _, r := range results[i] {
			sum.BytesRead += r.chunk.Size()
			sum.LinesRead += r.stats.Lines
			sum.Rejects += r.stats.Rejects
			sum.RowsStored += r.stored
			sum.Duplicates += r.duplicates
			st := read[t.src.server]
			if st == nil {
				st = &serverRead{zone: t.zone}
				read[t.src.server] = st
			}
			st.stats.Add(r.stats)
		}
		if gone := goneError(results[i]); gone != nil && opts.Rebuild {
			out.abort()
			return nil, fmt.Errorf("rebuilding %s: %w: it went away while the rebuild read it; the dataset is unchanged", opts.Data, gone)
		} else if gone != nil {
			// Deleted between discovery and reading: what was read of it is
			// stored, its checkpoint stays where it was.
			sum.Unreadable = append(sum.Unreadable, fmt.Sprintf("%v (it went away while this run read it; the next run reads it if it comes back)", gone))
			continue
		}
		last := results[i][len(results[i])-1]
		header := last.endHeader
		if header == nil {
			header = t.header
		}
		cp := &dataset.Checkpoint{
			Server: t.src.server, Size: t.src.size, ModTime: t.src.modTime,
			HeadHash: t.headHash, HeadLen: t.headLen,
			Offset: last.offset, Line: last.line, Header: string(header),
		}
		cp.TailHash, cp.TailLen, _ = tailWindow(t.src.path, last.offset)
		next.Sources[t.src.path] = cp
		sum.PartialBytes += last.stats.PartialBytes
	}
	for server, st := range read {
		ss := &ServerSummary{Zone: st.zone, Lines: st.stats.Lines, stats: st.stats}
		addStats(&ss.ServerQuality, st.stats, st.zone)
		sum.Servers[server] = ss
		q := next.Quality[server]
		if q == nil {
			q = &dataset.ServerQuality{}
			next.Quality[server] = q
		}
		addStats(q, st.stats, st.zone)
	}
	for reason, n := range out.rejectsBy {
		sum.RejectsBy[reason] = n
	}
	for m := range months {
		sum.Months = append(sum.Months, m)
	}
	sort.Strings(sum.Months)
	if err := dataset.Commit(opts.Data, next, newFiles); err != nil {
		return nil, fmt.Errorf("committing %s: %w", opts.Data, err)
	}
	sum.DatasetVersion = version
	sum.Warnings = zoneWarnings(next.Quality, opts.Zones)
	return sum, nil
}

// notReread lists the catalog's sources that a rebuild does not read again:
// deleted, unreadable, or no longer a regular file. A source found under
// another name (a link) is read again.
func notReread(cat *dataset.Catalog, tasks []task) []string {
	read := map[string]bool{}
	for _, t := range tasks {
		if real, err := realPath(t.src.path); err == nil {
			read[real] = true
		}
		read[t.src.path] = true
	}
	var missing []string
	for path := range cat.Sources {
		if read[path] {
			continue
		}
		if real, err := realPath(path); err == nil && read[real] {
			continue
		}
		missing = append(missing, path)
	}
	sort.Strings(missing)
	return missing
}

// keepMissing copies into a rebuild's output the stored rows and rejects
// of every log the rebuild does not read again, so that a rebuild never
// loses what only the dataset still has: logs deleted, moved away or
// unreadable, whether the catalog still has their checkpoint (missing) or
// has dropped it (Commit drops the checkpoints of deleted logs). Rows are
// matched by server and file name: a stored row whose log has a name that
// a task reads again is left to that re-read.
func keepMissing(ctx context.Context, out *output, cat *dataset.Catalog, tasks []task, missing []string) (*Rebuilt, error) {
	rebuilt := &Rebuilt{PreviousVersion: cat.Version, Missing: missing}
	for _, f := range cat.Files {
		if f.Kind == dataset.KindSessions {
			rebuilt.PreviousRows += f.Rows
		}
	}
	type fileOf struct{ server, name string }
	reread := map[fileOf]bool{}
	for _, t := range tasks {
		reread[fileOf{t.src.server, filepath.Base(t.src.path)}] = true
	}
	var err error
	rebuilt.KeptRows, _, err = copyStored(ctx, out, cat.Files, func(r *dataset.SessionRow) bool { return !reread[fileOf{r.Server, r.SourceFile}] })
	if err != nil {
		return nil, err
	}
	rebuilt.KeptRejects, err = copyRejects(out, cat.Files, func(r *dataset.RejectRow) bool { return !reread[fileOf{r.Server, r.SourceFile}] })
	if err != nil {
		return nil, err
	}
	return rebuilt, nil
}

// adoptFiles describes data files no catalog lists (paths relative to the
// data folder, as dataset.ErrUnknownFiles gives them) as a rebuild reads
// them: session files by the month partition they lie in.
func adoptFiles(paths []string) ([]dataset.DataFile, error) {
	var files []dataset.DataFile
	for _, rel := range paths {
		f := dataset.DataFile{Path: rel, Kind: dataset.KindRejects}
		month, ok := strings.CutPrefix(path.Dir(rel), dataset.SessionsDir+"/month=")
		if _, err := time.Parse("2006-01", month); ok && err == nil {
			f.Kind, f.Month = dataset.KindSessions, month
		} else if path.Dir(rel) != dataset.RejectsDir {
			return nil, fmt.Errorf("%s is no data file of this layout (sessions/month=YYYY-MM/*.parquet or rejects/*.parquet): move it away and run again", rel)
		}
		files = append(files, f)
	}
	return files, nil
}

// goneError returns why a task's file could not be opened any more, if so.
func goneError(results []chunkResult) error {
	for _, r := range results {
		if r.gone != nil {
			return r.gone
		}
	}
	return nil
}

// headBytes is how much of a file's start identifies it, and tailBytes how
// much before the checkpoint's offset is compared too: a log is only ever
// appended to, so a file whose head and tail window are as they were is the
// file read before. Every run reads both windows of every file, unchanged
// ones included (8 KiB and one open per file), so that a replacement of the
// same size and modification time, or a rewrite at the same size, is seen.
// A same-size rewrite confined to the middle of a file is not: no log is
// ever written that way.
const (
	headBytes = 4096
	tailBytes = 4096
)

// planners is how many files are planned at once: opening a file on a
// network share is latency, not CPU, so more than the cores.
const planners = 16

// planAll plans every source against its checkpoint, several at a time.
func planAll(sources []source, checkpoints map[string]*dataset.Checkpoint) ([]task, []error) {
	tasks := make([]task, len(sources))
	errs := make([]error, len(sources))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(planners, len(sources)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, max(headBytes, tailBytes))
			for {
				i := int(next.Add(1) - 1)
				if i >= len(sources) {
					return
				}
				tasks[i], errs[i] = plan(sources[i], checkpoints[sources[i].path], buf)
			}
		}()
	}
	wg.Wait()
	return tasks, errs
}

// plan compares a source with its checkpoint: unchanged, new, grown (read
// from the checkpoint) or rotated (read from the start). buf holds a window.
func plan(src source, cp *dataset.Checkpoint, buf []byte) (task, error) {
	t := task{src: src, firstLine: 1}
	f, err := openLog(src.path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	head := buf[:min(headBytes, src.size)]
	if _, err := f.ReadAt(head, 0); err != nil && !(err == io.EOF && len(head) == 0) {
		return t, fmt.Errorf("%s: %w", src.path, err)
	}
	t.headHash, t.headLen = xxh3.Hash(head), int64(len(head))
	if cp == nil {
		t.state = stateNew
		return t, nil
	}
	same := cp.HeadLen <= src.size && cp.Offset <= src.size && xxh3.Hash(head[:min(cp.HeadLen, int64(len(head)))]) == cp.HeadHash
	if same {
		t.tailHash, t.tailLen, err = tailWindowOf(f, cp.Offset, buf)
		if err != nil {
			return t, fmt.Errorf("%s: %w", src.path, err)
		}
		same = cp.TailLen == 0 || (t.tailLen == cp.TailLen && t.tailHash == cp.TailHash)
	}
	switch {
	case !same:
		t.state = stateRotated
	case src.size == cp.Size:
		t.state = stateUnchanged // touched, or replaced by the same bytes
	case src.size <= cp.Offset:
		t.state = stateUnchanged // an unfinished last line was cut back: nothing new
	default:
		t.state = stateGrown
		t.from, t.firstLine = cp.Offset, cp.Line+1
		if cp.Header != "" {
			t.header = []byte(cp.Header)
		}
	}
	return t, nil
}

// tailWindow hashes the up to tailBytes bytes of a file before offset.
func tailWindow(path string, offset int64) (hash uint64, n int64, err error) {
	f, err := openLog(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return tailWindowOf(f, offset, make([]byte, tailBytes))
}

// tailWindowOf hashes the up to tailBytes bytes of f before offset, read
// into buf.
func tailWindowOf(f *os.File, offset int64, buf []byte) (hash uint64, n int64, err error) {
	buf = buf[:min(tailBytes, offset)]
	if _, err := f.ReadAt(buf, offset-int64(len(buf))); err != nil && len(buf) > 0 {
		return 0, 0, err
	}
	return xxh3.Hash(buf), int64(len(buf)), nil
}

// job is one chunk of one task for a worker.
type job struct {
	task   int
	index  int
	chunk  parse.Chunk
	header []byte
}

// decodeAll decodes the tasks on opts.Workers goroutines, splitting large
// files into chunks, and returns each task's chunk results in order.
func decodeAll(ctx context.Context, opts Options, tasks []task, out *output) ([][]chunkResult, error) {
	results := make([][]chunkResult, len(tasks))
	var jobs []job
	for i, t := range tasks {
		chunks := []parse.Chunk{{Start: t.from, End: t.src.size, FirstLine: t.firstLine}}
		header := t.header
		if t.split && t.src.size-t.from > opts.ChunkBytes {
			// A file gone since it was planned keeps its one chunk, whose
			// job finds it gone.
			if f, err := openLog(t.src.path); err == nil {
				n := int((t.src.size - t.from + opts.ChunkBytes - 1) / opts.ChunkBytes)
				chunks, err = parse.Split(f, t.from, t.src.size, t.firstLine, n)
				if err == nil && header == nil {
					header, err = firstLine(f)
				}
				f.Close()
				if err != nil {
					return nil, fmt.Errorf("%s: %w", t.src.path, err)
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		results[i] = make([]chunkResult, len(chunks))
		for k, c := range chunks {
			j := job{task: i, index: k, chunk: c, header: t.header}
			if k > 0 {
				j.header = header
			}
			jobs = append(jobs, j)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wr := out.worker()
			defer wr.release()
			for j := range next {
				r, err := decodeChunk(ctx, opts, tasks[j.task], j, wr)
				if err != nil {
					cancel(err)
					continue
				}
				results[j.task][j.index] = r
				if j.index == len(results[j.task])-1 {
					opts.Progress.FilesDone.Add(1)
				}
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	for i, rs := range results {
		for k := 1; k < len(rs); k++ {
			if string(rs[k].startHeader) != string(headerOrPrevious(rs[k-1])) {
				return nil, &errLayoutChanged{path: tasks[i].src.path}
			}
		}
	}
	return results, nil
}

func headerOrPrevious(r chunkResult) []byte {
	if r.endHeader != nil {
		return r.endHeader
	}
	return r.startHeader
}

// firstLine returns the first line of a file, as the decoder keeps a
// header, if it is a header.
func firstLine(f *os.File) ([]byte, error) {
	buf := make([]byte, 64<<10)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	line := buf[:n]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	header, ok := parse.HeaderLine(line)
	if !ok {
		return nil, nil
	}
	return append([]byte(nil), header...), nil
}

// decodeChunk decodes one chunk and hands its rows and rejects to the
// worker's writers.
func decodeChunk(ctx context.Context, opts Options, t task, j job, wr *workerOutput) (chunkResult, error) {
	f, err := openLog(t.src.path)
	if errors.Is(err, fs.ErrNotExist) {
		return chunkResult{chunk: j.chunk, gone: err}, nil
	}
	if err != nil {
		return chunkResult{}, err
	}
	defer f.Close()
	name := filepath.Base(t.src.path)
	d := parse.NewDecoder(io.NewSectionReader(f, j.chunk.Start, j.chunk.Size()), parse.Config{
		File: name, Server: t.src.server, BatchSize: opts.BatchSize, Location: t.loc,
		NotAfter: t.src.modTime, Header: j.header, FirstLine: j.chunk.FirstLine,
	})
	r := chunkResult{chunk: j.chunk, startHeader: j.header}
	var done int64
	for d.Next() {
		if err := ctx.Err(); err != nil {
			return r, context.Cause(ctx)
		}
		stored, dups, err := wr.writeRecord(d.Record())
		if err != nil {
			return r, err
		}
		r.stored += stored
		r.duplicates += dups
		if err := wr.writeRejects(t.src.server, d.Rejects()); err != nil {
			return r, err
		}
		opts.Progress.BytesDone.Add(d.Offset() - done)
		done = d.Offset()
	}
	if err := d.Err(); err != nil {
		return r, err
	}
	opts.Progress.BytesDone.Add(j.chunk.Size() - done)
	r.endHeader = d.Header()
	r.offset = j.chunk.Start + d.Offset()
	r.line = d.Line()
	r.stats = d.Stats()
	return r, nil
}
