package ingest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// maxOpenMonths bounds the month partitions a worker writes at once. Each
// open file holds a row group in memory, so this is one: logs are written
// in time order, and a worker's chunk rarely leaves its month but at the
// month's turn.
//
// A month whose file the worker closed (evicted to open another) never
// gets a second file from the decoding: its later rows go to the worker's
// spill file, whatever their month, and release distributes the spill into
// one more file per month, maxOpenMonths months a pass. So a run writes at
// most two files per month and worker, whatever the order of its input
// (a log whose lines cycle among months included), with at most
// maxOpenMonths+1 files open per worker.
const maxOpenMonths = 1

// fileBuffer is the write buffer of a data file being written: a few
// writes of a page each, never the file.
const fileBuffer = 256 << 10

// output collects the new data files of one run. Every file is written
// under its temporary name and synced before the commit renames it.
type output struct {
	dir     string
	version int64
	keys    *keySet
	now     time.Time

	mu        sync.Mutex
	workers   int
	files     []dataset.DataFile // finished, synced, still under temporary names
	err       error              // the first error of a worker's release
	rejectsBy map[string]int64
}

func newOutput(dir string, version int64, keys *keySet, now time.Time) *output {
	return &output{dir: dir, version: version, keys: keys, now: now, rejectsBy: map[string]int64{}}
}

// worker returns the output of one worker goroutine.
func (o *output) worker() *workerOutput {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.workers++
	return &workerOutput{out: o, id: o.workers - 1, months: map[string]*sessionFile{}, closed: map[string]bool{}}
}

// finish returns the run's new files once every worker has released.
func (o *output) finish() ([]dataset.DataFile, error) {
	if o.err != nil {
		o.abort()
		return nil, o.err
	}
	return o.files, nil
}

// abort removes every file of the run.
func (o *output) abort() {
	dataset.RemoveTemps(o.dir, o.files)
	o.files = nil
}

func (o *output) finished(f dataset.DataFile, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		if o.err == nil {
			o.err = err
		}
		return
	}
	o.files = append(o.files, f)
}

// workerOutput writes one worker's rows and rejects to its own files, so
// that workers encode Parquet in parallel without sharing a writer.
type workerOutput struct {
	out     *output
	id      int
	seq     int
	months  map[string]*sessionFile
	recent  []string        // open months, least recently used first
	closed  map[string]bool // months whose file was closed: later rows go to spill
	spill   *sessionFile    // rows of closed months, any month (month "")
	rejects *rowFile[dataset.RejectRow]

	keys    []uint64
	scratch []byte
	groups  []monthRows
	keep    []int32
}

// monthRows are the rows of a record in one month partition.
type monthRows struct {
	month monthOf
	rows  []int32
}

// tempFile is a data file being written under its temporary name.
type tempFile struct {
	rel string // final path relative to the data folder
	f   *os.File
	buf *bufio.Writer
}

func (w *workerOutput) create(rel string) (*tempFile, error) {
	final := filepath.Join(w.out.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(dataset.TempName(final))
	if err != nil {
		return nil, err
	}
	return &tempFile{rel: rel, f: f, buf: bufio.NewWriterSize(f, fileBuffer)}, nil
}

// close flushes, syncs and closes the file and reports it to the output.
func (t *tempFile) close(o *output, kind, month string, rows int64, closeWriter func() error) {
	err := closeWriter()
	if err == nil {
		err = t.buf.Flush()
	}
	if err == nil {
		err = t.f.Sync()
	}
	var size int64
	if err == nil {
		var info os.FileInfo
		if info, err = t.f.Stat(); err == nil {
			size = info.Size()
		}
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(t.f.Name())
		o.finished(dataset.DataFile{}, fmt.Errorf("writing %s: %w", t.f.Name(), err))
		return
	}
	o.finished(dataset.DataFile{Path: t.rel, Kind: kind, Month: month, Rows: rows, Bytes: size}, nil)
}

func (w *workerOutput) name(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s/part-%08d-w%d-%03d.parquet", prefix, w.out.version, w.id, w.seq)
}

type sessionFile struct {
	*tempFile
	w     *sessionWriter
	month string
}

func (w *workerOutput) sessionFile(month string) (*sessionFile, error) {
	if w.closed[month] {
		return w.spillFile()
	}
	for i, m := range w.recent {
		if m == month {
			w.recent = append(append(w.recent[:i:i], w.recent[i+1:]...), month)
			return w.months[month], nil
		}
	}
	if len(w.recent) == maxOpenMonths {
		oldest := w.recent[0]
		w.recent = w.recent[1:]
		w.closeSessions(oldest)
	}
	t, err := w.create(w.name(dataset.SessionsDir + "/month=" + month))
	if err != nil {
		return nil, err
	}
	sf := &sessionFile{tempFile: t, w: newSessionWriter(t.buf), month: month}
	w.months[month] = sf
	w.recent = append(w.recent, month)
	return sf, nil
}

func (w *workerOutput) closeSessions(month string) {
	sf := w.months[month]
	delete(w.months, month)
	w.closed[month] = true
	sf.close(w.out, dataset.KindSessions, month, sf.w.rows, sf.w.close)
}

// spillFile returns the worker's spill file, created on first use under a
// hidden temporary name in DIR/sessions (a crash leaves it to Recover).
func (w *workerOutput) spillFile() (*sessionFile, error) {
	if w.spill != nil {
		return w.spill, nil
	}
	path := filepath.Join(w.out.dir, dataset.SessionsDir, fmt.Sprintf(".spill-%08d-w%d.parquet%s", w.out.version, w.id, dataset.TmpSuffix))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	t := &tempFile{f: f, buf: bufio.NewWriterSize(f, fileBuffer)}
	w.spill = &sessionFile{tempFile: t, w: newSessionWriter(t.buf)}
	return w.spill, nil
}

// writeRecord stores the rows of rec that were not stored before, each in
// the partition of its session_end month (UTC). Rows are taken a month at
// a time, in their order within the month, so that a record whose lines
// alternate among months costs one claim and one write per month.
func (w *workerOutput) writeRecord(rec arrow.Record) (stored, duplicates int64, err error) {
	n := int(rec.NumRows())
	if n == 0 {
		return 0, 0, nil
	}
	w.keys, w.scratch = sessionKeys(rec, w.keys, w.scratch)
	end := rec.Column(parse.ColSessionEnd).(*array.Timestamp).TimestampValues()
	groups := w.groups[:0]
	last := -1
	for row := 0; row < n; row++ {
		ms := int64(end[row])
		if last < 0 || !groups[last].month.contains(ms) {
			last = -1
			for g := range groups {
				if groups[g].month.contains(ms) {
					last = g
					break
				}
			}
			if last < 0 {
				if len(groups) < cap(groups) {
					groups = groups[:len(groups)+1]
				} else {
					groups = append(groups, monthRows{})
				}
				last = len(groups) - 1
				groups[last].month.of(ms)
				groups[last].rows = groups[last].rows[:0]
			}
		}
		groups[last].rows = append(groups[last].rows, int32(row))
	}
	w.groups = groups
	for g := range groups {
		month, rows := groups[g].month.name, groups[g].rows
		keep, err := w.out.keys.claim(month, rows, w.keys, w.keep[:0])
		if err != nil {
			return stored, duplicates, err
		}
		w.keep = keep
		duplicates += int64(len(rows) - len(keep))
		if len(keep) == 0 {
			continue
		}
		sf, err := w.sessionFile(month)
		if err != nil {
			return stored, duplicates, err
		}
		if err := sf.w.write(rec, keep, w.keys); err != nil {
			return stored, duplicates, fmt.Errorf("writing %s: %w", sf.f.Name(), err)
		}
		stored += int64(len(keep))
	}
	return stored, duplicates, nil
}

// writeRejectRows appends rows to the worker's rejects file, started on
// its first rows.
func (w *workerOutput) writeRejectRows(rows []dataset.RejectRow) error {
	if w.rejects == nil {
		f, err := w.rejectRowFile()
		if err != nil {
			return err
		}
		w.rejects = f
	}
	return w.rejects.write(rows)
}

func (w *workerOutput) writeRejects(server string, rejects []parse.Reject) error {
	if len(rejects) == 0 {
		return nil
	}
	rows := make([]dataset.RejectRow, len(rejects))
	for i, r := range rejects {
		rows[i] = dataset.RejectRow{
			Server: server, SourceFile: r.File, SourceLine: r.Line, Column: r.Column,
			Reason: r.Reason(), Message: r.Error(), Raw: r.Raw, IngestedAt: w.out.now.UnixMilli(),
		}
	}
	if err := w.writeRejectRows(rows); err != nil {
		return err
	}
	w.out.mu.Lock()
	for _, r := range rejects {
		w.out.rejectsBy[r.Reason()]++
	}
	w.out.mu.Unlock()
	return nil
}

// release closes the worker's files, distributing its spill file.
func (w *workerOutput) release() {
	for len(w.recent) > 0 {
		month := w.recent[0]
		w.recent = w.recent[1:]
		w.closeSessions(month)
	}
	if w.spill != nil {
		if err := w.distributeSpill(); err != nil {
			w.out.finished(dataset.DataFile{}, err)
		}
	}
	if w.rejects != nil {
		w.rejects.close(w.out)
	}
}

// monthOf names the UTC month of a time in ms, remembering the last month's
// bounds so that the common case is two comparisons.
type monthOf struct {
	lo, hi int64
	name   string
}

func (m *monthOf) contains(ms int64) bool { return m.lo <= ms && ms < m.hi }

func (m *monthOf) of(ms int64) string {
	if m.contains(ms) && m.name != "" {
		return m.name
	}
	t := time.UnixMilli(ms).UTC()
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	m.lo, m.hi = first.UnixMilli(), first.AddDate(0, 1, 0).UnixMilli()
	m.name = first.Format("2006-01")
	return m.name
}

// rowFile writes stored rows (SessionRow or RejectRow) to one new data
// file: the spill's distribution, a re-key, a rebuild's kept rows and
// compaction copy rows this way, unchanged but for what the caller changes.
type rowFile[T any] struct {
	*tempFile
	w       *parquet.GenericWriter[T]
	kind    string
	month   string
	rows    int64
	inGroup int64
}

// sessionRowFile starts a new session file of month.
func (w *workerOutput) sessionRowFile(month string) (*rowFile[dataset.SessionRow], error) {
	t, err := w.create(w.name(dataset.SessionsDir + "/month=" + month))
	if err != nil {
		return nil, err
	}
	return &rowFile[dataset.SessionRow]{tempFile: t, w: parquet.NewGenericWriter[dataset.SessionRow](t.buf, sessionWriterOptions...), kind: dataset.KindSessions, month: month}, nil
}

// rejectRowFile starts a new rejects file.
func (w *workerOutput) rejectRowFile() (*rowFile[dataset.RejectRow], error) {
	t, err := w.create(w.name(dataset.RejectsDir))
	if err != nil {
		return nil, err
	}
	return &rowFile[dataset.RejectRow]{tempFile: t, w: parquet.NewGenericWriter[dataset.RejectRow](t.buf, parquet.Compression(zstdFast)), kind: dataset.KindRejects}, nil
}

// write appends rows, flushing a row group every rowsPerRowGroup rows.
func (f *rowFile[T]) write(rows []T) error {
	if _, err := f.w.Write(rows); err != nil {
		return fmt.Errorf("writing %s: %w", f.f.Name(), err)
	}
	f.rows += int64(len(rows))
	if f.inGroup += int64(len(rows)); f.inGroup >= rowsPerRowGroup {
		f.inGroup = 0
		return f.w.Flush()
	}
	return nil
}

// close finishes the file and reports it to the output.
func (f *rowFile[T]) close(o *output) {
	f.tempFile.close(o, f.kind, f.month, f.rows, f.w.Close)
}

// distributeSpill closes the spill file and copies its rows into one new
// file per month, maxOpenMonths months a pass over it, in their order; the
// spill file is removed.
func (w *workerOutput) distributeSpill() error {
	sp := w.spill
	w.spill = nil
	path := sp.f.Name()
	defer os.Remove(path)
	err := sp.w.close()
	if err == nil {
		err = sp.buf.Flush()
	}
	if cerr := sp.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	buf := make([]dataset.SessionRow, 1024)
	done := map[string]bool{}
	for {
		pass := map[string]*rowFile[dataset.SessionRow]{} // this pass's months
		var month monthOf
		err := readStored(path, buf, func(batch []dataset.SessionRow) error {
			for i := 0; i < len(batch); {
				m := month.of(batch[i].SessionEnd)
				j := i + 1
				for j < len(batch) && month.contains(batch[j].SessionEnd) {
					j++
				}
				run := batch[i:j]
				i = j
				if done[m] {
					continue
				}
				f, ok := pass[m]
				if !ok {
					if len(pass) == maxOpenMonths {
						continue // a later pass
					}
					var err error
					if f, err = w.sessionRowFile(m); err != nil {
						return err
					}
					pass[m] = f
				}
				if err := f.write(run); err != nil {
					return err
				}
			}
			return nil
		})
		for m, f := range pass {
			f.close(w.out)
			done[m] = true
		}
		if err != nil {
			return err
		}
		if len(pass) == 0 {
			return nil
		}
	}
}
