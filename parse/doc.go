// Package parse decodes QlikView Server session logs (Sessions_<server>_<date>.log)
// into Apache Arrow records of one fixed schema, Schema, at hundreds of
// megabytes a second per core.
//
// # What it reads
//
// A session log is UTF-8 (usually with a BOM), tab-separated, without
// quoting, one line per session written when the session ends, under a
// header line that may repeat mid-file after a service restart. Columns are
// found by header name, case-insensitively with white space folded (and
// SessionId / Session Id for Session ID), never by position: the 28 columns
// of QlikView 11 to 12.30 and the 29 of 12.40 on, with Session ID anywhere,
// all read alike. A file without a header is read with the default 28- or
// 29-column layout that fits each line. Times are stored as UTC instants;
// a time written without an offset (QlikView 11.x) is local time in
// Config.Location, the server's zone (see TimeZones), with daylight saving
// applied by an explicit rule. The derived columns give every reader one
// reading of identity: user_key and user (UserKey, UserDisplay),
// document_key (DocumentKey), cal_class (ClassifyCAL), exit_class
// (ClassifyExit), duration_ms, and implausible.
//
// # The reject policy
//
// A line is rejected only when no lenient reading can keep it: its fields
// do not fit the header (fewer fields, or extra fields that are not empty),
// it cannot be placed in time (two of Timestamp, Session Start and Session
// Duration unreadable: any one follows from the other two), or it is longer
// than MaxLineBytes. A reject is a ParseError with file, line, column and
// reason (Reason gives its stable short name) and the raw line; decoding
// goes on after it. Everything else is kept, and every lenient reading is
// counted in Stats under a stable snake_case name (Stats.Lenient): an
// unreadable counter or optional time is null, a counter beyond int64 is
// null (never wrapped), invalid UTF-8 is replaced with U+FFFD, a run of NUL
// bytes left by a crash is skipped to the line after it. Values that cannot
// be real (a session before QlikViewEpoch or long after the file was
// written, a CAL Usage Count below zero or above CALUsageCeiling) are kept
// as written and flagged in the implausible column, so that no sum
// downstream trusts them.
//
// # The line invariant
//
// Every complete line (one ending in '\n') is exactly one of a row, a
// reject, a header or a blank line:
//
//	Stats.Lines == Stats.Rows + Stats.Rejects + Stats.Headers + Stats.BlankLines
//
// The bytes after the last '\n' are a line the server is still writing:
// they are held back (Stats.PartialBytes), not decoded and not rejected.
//
// # Resume and split
//
// Decoder.Offset is the byte just after the last complete line, Line its
// number and Header the header in effect there (empty when lines were read
// without one). A decoder started on the rest of the file with Config{Header:
// Header(), FirstLine: Line() + 1} yields exactly the rows and rejects that
// decoding the whole file yields after that point, wherever the first
// decoder stopped (FuzzResume checks it). That is what makes incremental
// ingestion of a growing log exact. Split cuts a file into chunks that begin
// at line starts, each with its first line number, so that one big file is
// decoded on several cores by one Decoder per chunk, with the same rows.
//
// # Slice and record lifetimes
//
// Decoder.Record is valid until the next call to Next: call Retain to keep
// it, and Release it when done. Its column buffers come from a pool and
// return to it when the record is released, so a loop that releases each
// record decodes batch after batch in the same memory. Decoder.Rejects is
// reused by the next call to Next; its Reject values (strings) may be kept.
// Header returns a copy. Stats returns a copy the caller owns.
//
// # Concurrency
//
// A Decoder is not safe for concurrent use. TimeZones, the exported key
// functions and Schema are safe to share.
package parse
