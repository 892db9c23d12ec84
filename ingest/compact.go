package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
)

// DefaultCompactAbove is how many session files a month partition may have
// before a run compacts it (Options.CompactAbove): a nightly run adds one
// or a few files to the current month, so a month is rewritten about once
// a month, and no reader opens more than this many files for a month.
// Rejects files, one per run that rejected lines, count as one partition.
const DefaultCompactAbove = 32

// Compacted says what a compaction merged: a partition's files into one.
type Compacted struct {
	Kind  string `json:"kind"`            // sessions or rejects
	Month string `json:"month,omitempty"` // of sessions
	Files int    `json:"files"`           // files merged
	Rows  int64  `json:"rows"`            // rows, the same before and after
}

// partition is a set of committed files that compaction merges into one:
// a month of sessions, or the rejects.
type partition struct {
	kind, month string
	files       []dataset.DataFile
}

// compact merges the files of every partition with more than above files
// into one file, in one commit of a new dataset version: the rows are
// copied as stored, value for value, in the order readers take them (the
// files by path, dataset.ListFiles's order), and the merged files are
// listed as obsolete, removed once the catalog is committed. A run killed
// at any moment leaves the old files or the new one (dataset.Commit,
// dataset.Recover). The caller holds the writer lock and has recovered
// the data folder.
func compact(ctx context.Context, dir string, above int, now time.Time) ([]Compacted, error) {
	cat, err := dataset.LoadCatalog(dir)
	if err != nil {
		return nil, err
	}
	var parts []*partition
	byMonth := map[string]*partition{}
	rejects := &partition{kind: dataset.KindRejects}
	for _, f := range cat.Files {
		p := rejects
		if f.Kind == dataset.KindSessions {
			if p = byMonth[f.Month]; p == nil {
				p = &partition{kind: f.Kind, month: f.Month}
				byMonth[f.Month] = p
				parts = append(parts, p)
			}
		}
		p.files = append(p.files, f)
	}
	parts = append(parts, rejects)
	parts = slices.DeleteFunc(parts, func(p *partition) bool { return len(p.files) <= max(above, 1) })
	if len(parts) == 0 {
		return nil, nil
	}

	version := cat.Version + 1
	out := newOutput(dir, version, nil, now)
	w := out.worker()
	merged := map[string]dataset.DataFile{} // first path of a partition → its new file
	obsolete := map[string]bool{}
	var done []Compacted
	for _, p := range parts {
		slices.SortFunc(p.files, func(a, b dataset.DataFile) int { return strings.Compare(a.Path, b.Path) })
		var rows int64
		var err error
		if p.kind == dataset.KindSessions {
			rows, err = mergeFiles(ctx, dir, p.files, func() (*rowFile[dataset.SessionRow], error) { return w.sessionRowFile(p.month) }, out)
		} else {
			rows, err = mergeFiles(ctx, dir, p.files, w.rejectRowFile, out)
		}
		if err != nil {
			w.release()
			out.abort()
			return nil, fmt.Errorf("compacting %s: %w", dir, err)
		}
		for _, f := range p.files {
			obsolete[f.Path] = true
		}
		done = append(done, Compacted{Kind: p.kind, Month: p.month, Files: len(p.files), Rows: rows})
	}
	w.release()
	newFiles, err := out.finish()
	if err != nil {
		return nil, fmt.Errorf("compacting %s: %w", dir, err)
	}
	for _, f := range newFiles {
		for _, p := range parts {
			if p.kind == f.Kind && p.month == f.Month {
				merged[p.files[0].Path] = f
			}
		}
	}

	next := *cat
	next.Version, next.Committed = version, now.UTC()
	next.Files, next.Obsolete = nil, nil
	for _, f := range cat.Files {
		switch nf, first := merged[f.Path]; {
		case first:
			next.Files = append(next.Files, nf) // where the partition's first file was
			next.Obsolete = append(next.Obsolete, f.Path)
		case obsolete[f.Path]:
			next.Obsolete = append(next.Obsolete, f.Path)
		default:
			next.Files = append(next.Files, f)
		}
	}
	if err := dataset.Commit(dir, &next, newFiles); err != nil {
		return nil, fmt.Errorf("committing the compaction of %s: %w", dir, err)
	}
	return done, nil
}

// mergeFiles copies the rows of files, in order, into one new file.
func mergeFiles[T any](ctx context.Context, dir string, files []dataset.DataFile, create func() (*rowFile[T], error), out *output) (int64, error) {
	f, err := create()
	if err != nil {
		return 0, err
	}
	buf := make([]T, 1024)
	var want int64
	for _, df := range files {
		err = readStored(filepath.Join(dir, filepath.FromSlash(df.Path)), buf, func(batch []T) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return f.write(batch)
		})
		if err != nil {
			break
		}
		if want += df.Rows; f.rows != want {
			err = fmt.Errorf("%s: %d rows read, the catalog says %d", df.Path, f.rows-want+df.Rows, df.Rows)
			break
		}
	}
	f.close(out)
	return f.rows, err
}
