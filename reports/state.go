package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
)

// StateOptions say which state a report needs.
type StateOptions struct {
	// AsOf is the time the state must be computed for. Zero accepts the
	// as-of time of a state that is otherwise fresh, and means now when the
	// state has to be computed.
	AsOf time.Time
	// License is the licence file to meter with; "" means the one the
	// current state recorded (or none).
	License string
	// ComputedBy is recorded in state.json (the qvmeter version).
	ComputedBy string
	// Now is the clock for a zero AsOf (default time.Now).
	Now func() time.Time
}

// ReadStateInfo reads DIR/state/state.json.
func ReadStateInfo(dataDir string) (*metering.StateInfo, error) {
	path := filepath.Join(dataDir, ingest.StateDir, metering.StateInfoFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info metering.StateInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &info, nil
}

// EnsureState makes DIR/state fit to report from, recomputing it (in the
// mode it was computed in, reconstruct when there was none) when it is
// missing, when it was computed from another version of the dataset, for
// another as-of time than opts.AsOf, or from another licence than
// opts.License. It returns the state's info and whether it recomputed it.
func EnsureState(ctx context.Context, dataDir string, opts StateOptions) (*metering.StateInfo, bool, error) {
	ds, err := metering.OpenDataset(dataDir)
	if err != nil {
		return nil, false, err
	}
	info, err := ReadStateInfo(dataDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	license := opts.License
	if license == "" && info != nil {
		license = info.LicenseFile
	}
	var lic *metering.License
	var licenseSum string
	var licenseErr error
	if license != "" {
		lic, licenseSum, licenseErr = metering.LoadLicense(license)
	}
	if licenseErr != nil && opts.License != "" {
		return nil, false, licenseErr
	}
	// The as-of time keeps its full precision from the flag to the state and
	// every query: a state as of 12:00:00.500 is not one as of 12:00:00.
	asOf := opts.AsOf.UTC().Truncate(time.Millisecond) // the unit of every time in the state
	recorded := time.Time{}
	if info != nil {
		recorded, _ = time.Parse(time.RFC3339Nano, info.AsOf)
	}
	// A recorded licence that cannot be read any more is no reason to
	// recompute, only an obstacle when the state must be recomputed anyway.
	if info != nil && info.DatasetVersion == ds.Version && (licenseErr != nil || info.LicenseSHA256 == licenseSum) &&
		(opts.AsOf.IsZero() || recorded.Equal(asOf)) {
		return info, false, nil
	}
	if licenseErr != nil {
		return nil, false, fmt.Errorf("recomputing the state with the licence it recorded: %w", licenseErr)
	}
	if opts.AsOf.IsZero() {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		asOf = now().UTC().Truncate(time.Millisecond) // the state's times are milliseconds
	}
	cfg := metering.Config{AsOf: asOf, License: lic}
	if info != nil && info.Mode == metering.Simulate.String() && lic != nil {
		cfg.Mode = metering.Simulate
	}
	st, err := ds.ReplayInto(ctx, dataDir, cfg, metering.Provenance{LicenseFile: license, LicenseSHA256: licenseSum, ComputedBy: opts.ComputedBy})
	if err != nil {
		return nil, false, err
	}
	return &st.Info, true, nil
}
