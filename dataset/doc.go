// Package dataset owns qvmeter's data folder: its layout, the catalog of
// committed files and per-log checkpoints, the Parquet row schemas of the
// sessions and rejects, the writers' lock, the state's info, its freshness
// rule and its replacement, atomic file replacement, and each server's
// freshness.
//
// Why one package: ingest writes the dataset, metering replays it into a
// state, reports read both, and qvmeter run does all three while people run
// reports beside it. Every rule about the folder — what a committed file
// is, when a state fits a report, how a file or the state is replaced, who
// may write — lives here once, so the three are siblings that depend on
// this package (and on parse), never on each other's internals.
//
// The rules, in short (README.md, "The dataset", says the same for users):
//
//   - Writers (ingest, meter, run) hold Lock for as long as they write; a
//     second writer fails at once with *ErrLocked naming the holder, or
//     waits. Readers take no lock and write nothing, so a read-only copy of
//     the folder serves them.
//   - Ingest's Commit writes a commit record, renames the data files into
//     place, then puts the record in the catalog: no catalog names a missing
//     file, and Recover completes a commit that died after its record.
//     Readers take the files the catalog lists (ListFiles).
//   - The catalog is catalog.json, a whole base, and one delta per later
//     commit (catalog.d/<version>.json, chained by hash), so that a commit
//     writes what it changed, not the checkpoints of every log ever read;
//     a commit writes a new base when the deltas have grown to a quarter
//     of it, and whenever it removes data files, so that catalog.json
//     alone is always a whole earlier version (see catalog_chain.go).
//   - The state is a folder under DIR/.states named by the link DIR/state
//     (on Windows, where a directory link cannot be renamed over another,
//     a pointer file); ReplaceState replaces it in one rename after
//     syncing the new folder. OpenState resolves the link once and pins the folder with a
//     shared lock, so the next writer's CleanStates leaves it alone.
//   - StateInfo.Fits is the freshness rule: same dataset version, same
//     as-of time to the millisecond, same licence content.
//   - ReplaceFile is the one way a file is replaced: temporary file, fsync,
//     rename, fsync of the folder.
//
// Typical use by a reader:
//
//	files, err := dataset.ListFiles(dir)     // the committed session and reject files
//	st, err := dataset.OpenState(dir)        // the state, pinned until Close
//	defer st.Close()
//	fmt.Println(st.Info.AsOf, st.Dir)
package dataset
