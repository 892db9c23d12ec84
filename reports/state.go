package reports

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
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
	// Store replaces the data folder's state when it does not fit: the
	// caller holds the writer lock (dataset.Lock), as qvmeter meter and run
	// do. Without it a state that does not fit is computed into a private
	// temporary folder and the stored one is left alone.
	Store bool
}

// EnsureState returns a state fit to report from, open (close it when
// done): the data folder's state when it fits (dataset.StateInfo.Fits), or
// one recomputed in the mode the stored state was computed in (reconstruct
// when there was none), when the stored one is missing, torn, computed
// from another version of the dataset, for another as-of time than
// opts.AsOf, or from another licence than opts.License. The recomputed
// state replaces the stored one only with opts.Store; otherwise it is
// private. It also reports whether it recomputed.
func EnsureState(ctx context.Context, dataDir string, opts StateOptions) (*dataset.State, bool, error) {
	files, err := dataset.ListFiles(dataDir)
	if err != nil {
		return nil, false, err
	}
	stored, err := dataset.OpenState(dataDir)
	var torn *dataset.ErrTornState
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.As(err, &torn) {
		return nil, false, err
	}
	var info *dataset.StateInfo
	if stored != nil {
		info = &stored.Info
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
		closeState(stored)
		return nil, false, licenseErr
	}
	// A recorded licence that cannot be read any more is no reason to
	// recompute, only an obstacle when the state must be recomputed anyway.
	if info != nil && info.Fits(dataset.Want{DatasetVersion: files.Version, AsOf: opts.AsOf, LicenseSHA256: licenseSum, AnyLicense: licenseErr != nil}) {
		return stored, false, nil
	}
	closeState(stored)
	if licenseErr != nil {
		return nil, false, fmt.Errorf("recomputing the state with the licence it recorded: %w", licenseErr)
	}
	asOf := opts.AsOf
	if asOf.IsZero() {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		asOf = now()
	}
	cfg := metering.Config{AsOf: dataset.AsOfTime(asOf), License: lic}
	if info != nil && info.Mode == metering.Simulate && lic != nil {
		cfg.Mode = metering.Simulate
	}
	st, err := metering.Compute(ctx, files, cfg, metering.Provenance{LicenseFile: license, LicenseSHA256: licenseSum, ComputedBy: opts.ComputedBy})
	if err != nil {
		return nil, false, err
	}
	if !opts.Store {
		private, err := dataset.PrivateState(st.WriteTables)
		return private, err == nil, err
	}
	if err := dataset.ReplaceState(dataDir, st.WriteTables); err != nil {
		return nil, false, fmt.Errorf("writing the state: %w", err)
	}
	replaced, err := dataset.OpenState(dataDir)
	return replaced, err == nil, err
}

func closeState(st *dataset.State) {
	if st != nil {
		st.Close()
	}
}
