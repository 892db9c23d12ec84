package metering

import (
	"context"
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// Replay reads the dataset's session files into a new engine and returns
// the state. One
// goroutine decodes row groups, column by column and only the columns the
// rules need, and interns their dictionaries (once per dictionary entry, not
// per row), while the caller's goroutine replays them. The sessions whose rules
// do not depend on order (needsOrder) are replayed as they come; the
// others are collected for the month, sorted by session_end and replayed at
// the end of the month.
func Replay(ctx context.Context, files *dataset.Files, cfg Config) (*State, error) {
	horizon, err := longestSession(files)
	if err != nil {
		return nil, err
	}
	// A longer session is set aside as implausible (duration_above_ceiling)
	// and never waits for start order: one must not make the replay hold
	// every session CAL until the end.
	cfg.Horizon = max(cfg.Horizon, min(horizon, parse.DurationCeiling.Milliseconds()))
	e, err := NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Two row groups in flight, one being decoded while the other is
	// replayed: each holds its columns and sessions (about 400 bytes a row).
	decoded, free := make(chan *decodedRowGroup, 1), make(chan *decodedRowGroup, 2)
	for range cap(free) {
		free <- &decodedRowGroup{}
	}
	r := &rowGroupReplayer{e: e}
	go decode(ctx, files, newInterner(e), decoded, free)
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
			e.closeMonth(rg.month)
		} else {
			r.replay(rg)
		}
		free <- rg
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := e.Finish()
	st.Info.DatasetVersion = files.Version
	return st, nil
}

// longestSession reads the duration_ms statistics of every row group: the
// reorder horizon of the replay.
func longestSession(files *dataset.Files) (int64, error) {
	var longest int64
	for _, m := range files.Months {
		for _, path := range m.Files {
			err := dataset.ReadParquet(path, func(f *parquet.File) error {
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
