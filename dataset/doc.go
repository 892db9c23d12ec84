// Package dataset owns qvmeter's data folder: its layout, the catalog of
// committed files and per-log checkpoints, the Parquet row schemas of the
// sessions and rejects, the writers' lock, the state's info and its
// replacement, and atomic file replacement.
//
// ingest writes the dataset, metering replays it into a state, and reports
// read both; each of them depends on this package (and on parse), not on the
// others' internals, so that one rule about the folder lives in one place.
package dataset
