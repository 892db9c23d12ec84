// Package ingest reads what is new in QlikView Server session logs into
// qvmeter's Parquet dataset (the data folder that package dataset owns):
// one row per session, once, whichever copy of a log it came from, and
// every line that could not be read kept as a reject with its reason.
//
// A run goes through four steps.
//
// Discovery. The paths given are files or folders, walked recursively
// (symbolic links followed, loops detected, each real file once); a session
// log is Sessions*.log or Sessions*.txt. The server is the file name's part
// after "Sessions_", split from a date part (daily, weekly, monthly or
// yearly) at the last underscore only when one follows, so
// Sessions_QV_2.log is server QV_2; Windows copy suffixes (" - Copy",
// " (2)") never become part of it. A FIFO or other special file is
// refused, never opened.
//
// Planning. Each log is compared with its checkpoint in the catalog: its
// size, modification time, and hashes of its first bytes and of the bytes
// just before the offset read so far. A log is unchanged (not decoded),
// grown (read from its checkpoint, with the header that was in effect
// there: a header-less log resumes with the default layout), or rotated or
// rewritten (read from the start). The content windows are read for every
// log, so a file replaced by another of the same size and time is noticed.
//
// Decoding. Logs are decoded on every core (a large log split into chunks
// at line starts, see parse.Split) with the zone of the server's
// offset-less times (--timezone, the licence file's [timezones]; none: UTC,
// warned about on every run). The decoder's line invariant
// (lines = rows + rejects + headers + blank lines) holds for every chunk,
// and resuming from a checkpoint gives the rows of decoding the whole file,
// so an interrupted or incremental run never loses or doubles a line.
// Rejects never end a run; they are stored with file, line, column and
// reason, and their share decides the command's exit code. The decoder's
// lenient readings are summed per server into the catalog, for the summary,
// the rejects and data-quality reports and the page.
//
// Commit. A session's de-duplication key is a hash of what every layout of
// the log has (server, session start and end, user, document, client),
// never of the Session ID column alone, so a copy without that column or
// with its GUIDs in another case is the same session, and two sessions that
// share an ID are two. Rows are written under hidden temporary names, then
// committed in one step by dataset.Commit: a run that fails or is killed
// leaves the dataset as it was, and the next run completes or discards it.
// A dataset written with an older key is re-keyed by the next run, in one
// commit; Options.Rebuild re-reads every log into a new dataset version the
// same way, keeping the old one until the new one is committed.
package ingest
