package metering

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
)

// Provenance is what state.json records about where a state came from,
// beside the dataset version and the as-of time the replay records itself.
type Provenance struct {
	LicenseFile   string // made absolute, so a later recompute from any folder finds it
	LicenseSHA256 string
	ComputedBy    string // the qvmeter version
}

// Compute replays the dataset's files with cfg and records p in the state's
// info: what qvmeter meter, run and a report that finds the stored state
// unfit all do before they write the state (State.WriteTables).
func Compute(ctx context.Context, files *dataset.Files, cfg Config, p Provenance) (*State, error) {
	if p.LicenseFile != "" {
		abs, err := filepath.Abs(p.LicenseFile)
		if err != nil {
			return nil, err
		}
		p.LicenseFile = abs
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(computeMemoryLimit(debug.SetMemoryLimit(-1))))
	cfg.writeOnly = true
	st, err := Replay(ctx, files, cfg)
	if err != nil {
		return nil, err
	}
	st.Info.LicenseFile, st.Info.LicenseSHA256, st.Info.ComputedBy = p.LicenseFile, p.LicenseSHA256, p.ComputedBy
	return st, nil
}

// replayMemoryLimit is the soft limit on the Go heap while Compute and
// WriteTables run: a complement to the replay's bounded live heap, not its
// bound. The replay holds about 100 MiB live whatever the history (two row
// groups, one month of the sessions that need time order, holders,
// dictionaries, and the capacity table's rows at 40 bytes each), but the
// collector's default pacing lets garbage grow the heap to twice what is
// live before collecting, which put the peak RSS of a 3 GiB log's replay at
// 307 MiB. Lower (160 MiB) makes the collector run without pause on the
// benchmark's 12-million-session estate: CPU time 1.7x.
const replayMemoryLimit = 192 << 20

// computeMemoryLimit is the limit Compute runs under: replayMemoryLimit,
// unless the process has one already (GOMEMLIMIT, or a caller's).
func computeMemoryLimit(current int64) int64 {
	if current != math.MaxInt64 {
		return current
	}
	return replayMemoryLimit
}

// WriteTables writes the state tables and state.json into dir.
func (st *State) WriteTables(dir string) error {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(computeMemoryLimit(debug.SetMemoryLimit(-1))))
	tables := []struct {
		name  string
		write func(path string) error
	}{
		{HoldersTable, func(p string) error { return parquet.WriteFile(p, st.Holders) }},
		{CapacityTable, st.writeCapacity},
		{MonthsTable, func(p string) error { return parquet.WriteFile(p, st.Months) }},
		{ConcurrencyTable, func(p string) error { return parquet.WriteFile(p, st.Concurrency) }},
		{UsageTable, func(p string) error { return parquet.WriteFile(p, st.Usage) }},
		{AnomaliesTable, func(p string) error { return parquet.WriteFile(p, st.Anomalies) }},
		{DenialsTable, func(p string) error { return parquet.WriteFile(p, st.Denials) }},
	}
	for _, t := range tables {
		if err := t.write(filepath.Join(dir, t.name)); err != nil {
			return fmt.Errorf("writing %s: %w", t.name, err)
		}
	}
	info, err := json.MarshalIndent(st.Info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, dataset.StateInfoFile), append(info, '\n'), 0o644)
}

// capacityRowGroupRows bounds a row group of a capacity table written
// from the ledger (capacityTable): the writer holds a row group's columns.
const capacityRowGroupRows = 64 * 1024

// writeCapacity writes the capacity table: State.Capacity, or the ledger's
// rows block by block (capacityTable).
func (st *State) writeCapacity(path string) error {
	if st.capacity == nil {
		return parquet.WriteFile(path, st.Capacity)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := parquet.NewGenericWriter[CapacityRow](f, parquet.MaxRowsPerRowGroup(capacityRowGroupRows))
	if err := st.capacity.write(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}
