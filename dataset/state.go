package dataset

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// StateInfo is DIR/state/state.json: what the state tables were computed from.
type StateInfo struct {
	Mode           string `json:"mode"`  // "reconstruct" or "simulate"
	AsOf           string `json:"as_of"` // RFC 3339, UTC
	LicenseFile    string `json:"license_file,omitempty"`
	LicenseSHA256  string `json:"license_sha256,omitempty"`
	DatasetVersion string `json:"dataset_version"` // sha256 of the sorted dataset file list with sizes
	Sessions       int64  `json:"sessions"`        // sessions replayed (ended at or before as_of, not excluded)
	Excluded       int64  `json:"excluded"`        // sessions skipped by exclude patterns
	Later          int64  `json:"later"`           // sessions that ended after as_of
	ComputedBy     string `json:"computed_by"`     // qvmeter version
	// Simulate mode: sessions given the CAL type their line records, and
	// sessions given another one (or denied).
	SimulatedSameAsLogged    int64 `json:"simulated_same_as_logged,omitempty"`
	SimulatedOtherThanLogged int64 `json:"simulated_other_than_logged,omitempty"`
}

// ReadStateInfo reads DIR/state/state.json.
func ReadStateInfo(dataDir string) (*StateInfo, error) {
	path := filepath.Join(dataDir, StateDir, StateInfoFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info StateInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &info, nil
}

// ReplaceState writes a new state with write, which fills the folder it is
// given, and puts it in place as DIR/state, replacing the previous state as
// a whole: the new tables are written to a hidden sibling folder, which is
// then renamed into place (the old one is renamed aside first and removed
// last), so a reader sees the old state or the new one, never a mix of both.
func ReplaceState(dataDir string, write func(dir string) error) error {
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	tmp := filepath.Join(dataDir, ".state-new-"+hex.EncodeToString(suffix))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	final := filepath.Join(dataDir, StateDir)
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
