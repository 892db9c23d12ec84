package metering

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/ingest"
)

// Provenance is what state.json records about where a state came from,
// beside the dataset version and the as-of time the replay records itself.
type Provenance struct {
	LicenseFile   string // made absolute, so a later recompute from any folder finds it
	LicenseSHA256 string
	ComputedBy    string // the qvmeter version
}

// ReplayInto replays the dataset with cfg, records p in the state's info and
// replaces dataDir's state with the result (see WriteState). It is what
// qvmeter meter and a report that finds the state stale both do.
func (ds *Dataset) ReplayInto(ctx context.Context, dataDir string, cfg Config, p Provenance) (*State, error) {
	if p.LicenseFile != "" {
		abs, err := filepath.Abs(p.LicenseFile)
		if err != nil {
			return nil, err
		}
		p.LicenseFile = abs
	}
	st, err := ds.Replay(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st.Info.LicenseFile, st.Info.LicenseSHA256, st.Info.ComputedBy = p.LicenseFile, p.LicenseSHA256, p.ComputedBy
	if err := WriteState(dataDir, st); err != nil {
		return nil, fmt.Errorf("writing the state: %w", err)
	}
	return st, nil
}

// WriteState writes the state tables and state.json as DIR/state, replacing
// the previous state as a whole: the new tables are written to a hidden
// sibling folder, which is then renamed into place (the old one is renamed
// aside first and removed last), so a reader sees the old state or the new
// one, never a mix of both.
func WriteState(dataDir string, st *State) error {
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	tmp := filepath.Join(dataDir, ".state-new-"+hex.EncodeToString(suffix))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := writeTables(tmp, st); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	final := filepath.Join(dataDir, ingest.StateDir)
	old := filepath.Join(dataDir, ".state-old-"+hex.EncodeToString(suffix))
	hadOld := true
	if err := os.Rename(final, old); os.IsNotExist(err) {
		hadOld = false
	} else if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("moving the previous state aside: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		if hadOld {
			os.Rename(old, final)
		}
		os.RemoveAll(tmp)
		return fmt.Errorf("putting the new state in place: %w", err)
	}
	if hadOld {
		return os.RemoveAll(old)
	}
	return nil
}

func writeTables(dir string, st *State) error {
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
	return os.WriteFile(filepath.Join(dir, StateInfoFile), append(info, '\n'), 0o644)
}
