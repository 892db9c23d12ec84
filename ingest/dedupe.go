package ingest

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/zeebo/xxh3"
)

// KeyVersion is the version of the session key that ingest writes; the
// catalog records the version its stored rows were keyed with, and a run
// that finds an older one re-keys the dataset first (see rekey).
//
//	1  xxh3 of the Session ID where the log had one, else of (server,
//	   server_started, session_start, session_end, client_machine_id,
//	   document_key, user_key): a copy without the Session ID column, or
//	   with the GUID in another letter case, was stored twice, and two
//	   sessions sharing a Session ID were stored once.
//	2  xxh3 of (lower(server), session_start, session_end, user_key,
//	   document_key, lower(client_machine_id)), null and empty alike: only
//	   what every layout of every version has, never the Session ID.
const KeyVersion = 2

// A session is one user on one document from one client machine on one
// server between two instants: that is its identity, whatever copy, column
// set or GUID spelling the line came from. The Session ID is left out on
// purpose: a copy may lack the column, spell the GUID in another case, and
// two different sessions have been seen to share one. The limit of this
// key: two sessions of one user on one document from one client machine
// on one server that start and end in the same millisecond (the same
// second, for logs without milliseconds) are taken as one.
//
// Keys are compared as 64-bit hashes. With 100 million sessions in one
// month the chance that two different sessions share a key is about 3 in
// 10,000; per nightly run it is negligible.

// sessionKeys computes the session key of every row of rec into keys.
func sessionKeys(rec arrow.Record, keys []uint64, scratch []byte) ([]uint64, []byte) {
	keys = keys[:0]
	server := rec.Column(parse.ColServer)
	start := rec.Column(parse.ColSessionStart).(*array.Timestamp).TimestampValues()
	end := rec.Column(parse.ColSessionEnd).(*array.Timestamp).TimestampValues()
	user := rec.Column(parse.ColUserKey)
	doc := rec.Column(parse.ColDocumentKey)
	client := rec.Column(parse.ColClientMachineID)
	for row := 0; row < int(rec.NumRows()); row++ {
		var key uint64
		key, scratch = sessionKey(scratch, parse.StringAt(server, row), int64(start[row]), int64(end[row]),
			parse.StringAt(user, row), parse.StringAt(doc, row), parse.StringAt(client, row))
		keys = append(keys, key)
	}
	return keys, scratch
}

// rowKey is the session key of a stored row.
func rowKey(r *dataset.SessionRow, scratch []byte) (uint64, []byte) {
	var client string
	if r.ClientMachineID != nil {
		client = *r.ClientMachineID
	}
	return sessionKey(scratch, r.Server, r.SessionStart, r.SessionEnd, r.UserKey, r.DocumentKey, client)
}

// sessionKey hashes a session's identity (see KeyVersion). user and doc are
// the parser's keys, already folded; server and client are folded here.
func sessionKey(scratch []byte, server string, start, end int64, user, doc, client string) (uint64, []byte) {
	scratch = appendLowerASCII(scratch[:0], server)
	scratch = append(scratch, 0)
	scratch = binary.LittleEndian.AppendUint64(scratch, uint64(start))
	scratch = binary.LittleEndian.AppendUint64(scratch, uint64(end))
	scratch = append(scratch, user...)
	scratch = append(scratch, 0)
	scratch = append(scratch, doc...)
	scratch = append(scratch, 0)
	scratch = appendLowerASCII(scratch, client)
	return xxh3.Hash(scratch), scratch
}

// appendLowerASCII appends s with A-Z lower-cased: server names and GUIDs
// are ASCII, and folding only ASCII keeps a key stable across Go versions'
// Unicode tables.
func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// copyStored copies the stored sessions of files whose rows keep accepts
// (all, if keep is nil) into new files of out, each with its session key
// recomputed under KeyVersion, the first occurrence of a key winning, in
// catalog order as the runs that stored them went. It seeds out's key set
// with the keys it keeps, so that the run's own rows are checked against
// them. Used to re-key a dataset of an older key version, and by a rebuild
// to keep the rows of logs that are no longer on disk.
func copyStored(ctx context.Context, out *output, files []dataset.DataFile, keep func(*dataset.SessionRow) bool) (rows, duplicates int64, err error) {
	var months []string
	byMonth := map[string][]dataset.DataFile{}
	for _, f := range files {
		if f.Kind != dataset.KindSessions {
			continue
		}
		if byMonth[f.Month] == nil {
			months = append(months, f.Month)
		}
		byMonth[f.Month] = append(byMonth[f.Month], f)
	}
	w := out.worker()
	defer w.release()
	var scratch []byte
	buf := make([]dataset.SessionRow, 1024)
	for _, month := range months {
		set, err := out.keys.month(month)
		if err != nil {
			return rows, duplicates, err
		}
		var f *rowFile[dataset.SessionRow]
		for _, df := range byMonth[month] {
			err := readStored(filepath.Join(out.dir, filepath.FromSlash(df.Path)), buf, func(batch []dataset.SessionRow) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				kept := batch[:0]
				for i := range batch {
					r := &batch[i]
					if keep != nil && !keep(r) {
						continue
					}
					var key uint64
					key, scratch = rowKey(r, scratch)
					if !set.add(key) {
						duplicates++
						continue
					}
					r.SessionKey = int64(key)
					kept = append(kept, *r)
				}
				if len(kept) == 0 {
					return nil
				}
				if f == nil {
					var err error
					if f, err = w.sessionRowFile(month); err != nil {
						return err
					}
				}
				return f.write(kept)
			})
			if err != nil {
				if f != nil {
					f.close(out)
				}
				return rows, duplicates, err
			}
		}
		if f != nil {
			f.close(out)
			rows += f.rows
		}
	}
	return rows, duplicates, nil
}

// readStored reads a stored Parquet file of T in batches of len(buf) rows.
func readStored[T any](path string, buf []T, each func([]T) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if err := each(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// copyRejects copies the stored rejects that keep accepts into one new
// rejects file of out, and returns how many.
func copyRejects(out *output, files []dataset.DataFile, keep func(*dataset.RejectRow) bool) (int64, error) {
	w := out.worker()
	defer w.release()
	buf := make([]dataset.RejectRow, 1024)
	var n int64
	for _, f := range files {
		if f.Kind != dataset.KindRejects {
			continue
		}
		err := readStored(filepath.Join(out.dir, filepath.FromSlash(f.Path)), buf, func(batch []dataset.RejectRow) error {
			kept := batch[:0]
			for i := range batch {
				if keep(&batch[i]) {
					kept = append(kept, batch[i])
				}
			}
			if len(kept) == 0 {
				return nil
			}
			if err := w.writeRejectRows(kept); err != nil {
				return err
			}
			n += int64(len(kept))
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
