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

// ReplayInto replays the dataset with cfg, records p in the state's info and
// replaces dataDir's state with the result (see dataset.ReplaceState). It is
// what qvmeter meter and a report that finds the state stale both do.
func ReplayInto(ctx context.Context, files *dataset.Files, dataDir string, cfg Config, p Provenance) (*State, error) {
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
	if err := dataset.ReplaceState(dataDir, st.WriteTables); err != nil {
		return nil, fmt.Errorf("writing the state: %w", err)
	}
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
