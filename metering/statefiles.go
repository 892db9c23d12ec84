package metering

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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
	st, err := Replay(ctx, files, cfg)
	if err != nil {
		return nil, err
	}
	st.Info.LicenseFile, st.Info.LicenseSHA256, st.Info.ComputedBy = p.LicenseFile, p.LicenseSHA256, p.ComputedBy
	return st, nil
}

// WriteTables writes the state tables and state.json into dir.
func (st *State) WriteTables(dir string) error {
	tables := []struct {
		name  string
		write func(path string) error
	}{
		{HoldersTable, func(p string) error { return parquet.WriteFile(p, st.Holders) }},
		{CapacityTable, func(p string) error { return parquet.WriteFile(p, st.Capacity) }},
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
