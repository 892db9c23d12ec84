package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/zeebo/xxh3"
)

// Options configure one ingest run.
type Options struct {
	Data    string   // the data folder
	Paths   []string // log files or folders, walked recursively
	Server  string   // server name for every file; "" = from each file name
	Workers int      // parallel decoders (default: GOMAXPROCS)

	// BatchSize is the parser's rows per record (default 32k: memory per
	// worker is bounded by it, not by the input).
	BatchSize int

	// ChunkBytes is the size above which a file is split across workers
	// (default 16 MiB: small enough that the last chunks keep every worker
	// busy, large enough that splitting costs nothing).
	ChunkBytes int64

	// Location is the zone of times logged without an offset (default UTC).
	Location *time.Location

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
	split     bool // may be decoded in chunks on several workers
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
		opts.BatchSize = 32 * 1024
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
		if sum != nil {
			sum.Seconds = time.Since(started).Seconds()
		}
		return sum, err
	}
}

func runOnce(ctx context.Context, opts Options, wholeFiles map[string]bool) (*Summary, error) {
	cat, err := dataset.LoadCatalog(opts.Data)
	if err != nil {
		return nil, err
	}
	if err := dataset.Recover(opts.Data, cat); err != nil {
		return nil, fmt.Errorf("recovering %s: %w", opts.Data, err)
	}
	found := discover(opts.Paths, opts.Server)
	sum := &Summary{DatasetVersion: cat.Version, FilesSkipped: found.skipped, RejectsBy: map[string]int64{}}
	for _, err := range found.unreadable {
		sum.Unreadable = append(sum.Unreadable, err.Error())
	}

	var tasks []task
	for _, src := range found.sources {
		t, err := plan(src, cat.Sources[src.path])
		if err != nil {
			sum.Unreadable = append(sum.Unreadable, err.Error())
			continue
		}
		switch t.state {
		case stateUnchanged:
			sum.FilesUnchanged++
			continue
		case stateNew:
			sum.FilesNew++
		case stateGrown:
			sum.FilesGrown++
		case stateRotated:
			sum.FilesRotated++
		}
		t.split = !wholeFiles[src.path]
		tasks = append(tasks, t)
		opts.Progress.BytesTotal.Add(src.size - t.from)
	}
	opts.Progress.FilesTotal.Store(int64(len(tasks)))
	if len(tasks) == 0 {
		return sum, nil
	}

	version := cat.Version + 1
	out := newOutput(opts.Data, version, newKeySet(opts.Data, cat), opts.Now())
	results, err := decodeAll(ctx, opts, tasks, out)
	if err != nil {
		out.abort()
		return nil, err
	}
	newFiles, err := out.finish()
	if err != nil {
		return nil, err
	}

	next := &dataset.Catalog{Version: version, Committed: opts.Now().UTC(), Files: append(append([]dataset.DataFile(nil), cat.Files...), newFiles...), Sources: map[string]*dataset.Checkpoint{}}
	for path, cp := range cat.Sources {
		next.Sources[path] = cp
	}
	months := map[string]bool{}
	for _, f := range newFiles {
		if f.Kind == dataset.KindSessions {
			months[f.Month] = true
		}
	}
	for i, t := range tasks {
		last := results[i][len(results[i])-1]
		header := last.endHeader
		if header == nil {
			header = t.header
		}
		next.Sources[t.src.path] = &dataset.Checkpoint{
			Server: t.src.server, Size: t.src.size, ModTime: t.src.modTime,
			HeadHash: t.headHash, HeadLen: t.headLen,
			Offset: last.offset, Line: last.line, Header: string(header),
		}
		for _, r := range results[i] {
			sum.BytesRead += r.chunk.Size()
			sum.LinesRead += r.stats.Lines
			sum.Rejects += r.stats.Rejects
			sum.RowsStored += r.stored
			sum.Duplicates += r.duplicates
		}
		sum.PartialBytes += last.stats.PartialBytes
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
	return sum, nil
}

// headBytes is how much of a file's start identifies it.
const headBytes = 4096

// plan compares a source with its checkpoint: unchanged (not opened beyond
// the identity check), new, grown (read from the checkpoint) or rotated
// (read from the start).
func plan(src source, cp *dataset.Checkpoint) (task, error) {
	t := task{src: src, firstLine: 1}
	if cp != nil && cp.Size == src.size && cp.ModTime.Equal(src.modTime) {
		t.state = stateUnchanged
		return t, nil
	}
	f, err := os.Open(src.path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	head := make([]byte, min(headBytes, src.size))
	if _, err := io.ReadFull(f, head); err != nil {
		return t, fmt.Errorf("%s: %w", src.path, err)
	}
	t.headHash, t.headLen = xxh3.Hash(head), int64(len(head))
	switch {
	case cp == nil:
		t.state = stateNew
	case src.size >= cp.Offset && cp.HeadLen <= src.size && xxh3.Hash(head[:cp.HeadLen]) == cp.HeadHash:
		if src.size == cp.Size {
			t.state = stateUnchanged // touched, not grown
			return t, nil
		}
		t.state = stateGrown
		t.from, t.firstLine, t.header = cp.Offset, cp.Line+1, []byte(cp.Header)
	default:
		t.state = stateRotated
	}
	return t, nil
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
			f, err := os.Open(t.src.path)
			if err != nil {
				return nil, err
			}
			n := int((t.src.size - t.from + opts.ChunkBytes - 1) / opts.ChunkBytes)
			chunks, err = parse.Split(f, t.from, t.src.size, t.firstLine, n)
			if err == nil && header == nil {
				header, err = firstLine(f)
			}
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.src.path, err)
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
	f, err := os.Open(t.src.path)
	if err != nil {
		return chunkResult{}, err
	}
	defer f.Close()
	name := filepath.Base(t.src.path)
	d := parse.NewDecoder(io.NewSectionReader(f, j.chunk.Start, j.chunk.Size()), parse.Config{
		File: name, Server: t.src.server, BatchSize: opts.BatchSize, Location: opts.Location,
		Header: j.header, FirstLine: j.chunk.FirstLine,
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
