package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// Columns of QlikView 12.50 with Session ID last, and of 11.x up to 12.30.
var (
	columns29 = []string{"Exe Type", "Exe Version", "Server Started", "Timestamp", "Document", "Document Timestamp",
		"QlikView User", "Exit Reason", "Session Start", "Session Duration", "CPU Spent (s)", "Bytes Received",
		"Bytes Sent", "Calls", "Selections", "Authenticated User", "Identifying User", "Client Machine Identification",
		"Serial Number", "Client Type", "Client Build Version", "Secure Protocol", "Tunnel Protocol", "Server Port",
		"Client Address", "Client Port", "CAL Type", "CAL Usage Count", "Session ID"}
	columns28 = columns29[:28]
)

// sess is one session line: times in the log's own form.
type sess struct {
	start, end string
	user, doc  string
	client, id string
}

// sessions returns n distinct sessions, one a minute from 2024-02-01 08:00
// UTC, with lower-case GUIDs.
func sessions(n int) []sess {
	out := make([]sess, n)
	t0 := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC)
	for i := range out {
		start := t0.Add(time.Duration(i) * time.Minute)
		out[i] = sess{
			start: start.Format("20060102T150405.000-0700"), end: start.Add(10 * time.Minute).Format("20060102T150405.000-0700"),
			user: fmt.Sprintf(`CORP\user%d`, i%7), doc: `C:\Docs\Sales.qvw`,
			client: fmt.Sprintf("1718e2e6-5b1c-4b9e-87a9-%012x", i%5), id: fmt.Sprintf("315dcfab-7448-4f4b-8209-%012x", i),
		}
	}
	return out
}

// logText writes sessions under a header of cols (no header if header is false).
func logText(cols []string, header bool, ss []sess) string {
	var b strings.Builder
	if header {
		b.WriteString("\ufeff" + strings.Join(cols, "\t") + "\r\n")
	}
	for _, s := range ss {
		fields := make([]string, len(cols))
		for i, c := range cols {
			fields[i] = map[string]string{
				"Exe Type": "RLS64", "Exe Version": "12.50.20200.0", "Server Started": "20240101T000000.000+0000",
				"Timestamp": s.end, "Document": s.doc, "Exit Reason": "Socket closed by client", "Session Start": s.start,
				"Session Duration": "00:10:00", "CPU Spent (s)": "0.500000", "Bytes Received": "1000", "Bytes Sent": "2000",
				"Calls": "3", "Selections": "1", "Authenticated User": s.user, "Client Machine Identification": s.client,
				"Client Type": "Ajax", "Secure Protocol": "On", "Server Port": "4747", "Client Address": "10.0.0.1",
				"Client Port": "50000", "CAL Type": "Named User", "CAL Usage Count": "0", "Session ID": s.id,
			}[c]
		}
		b.WriteString(strings.Join(fields, "\t") + "\r\n")
	}
	return b.String()
}

func writeLog(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

func runOpts(t *testing.T, opts ingest.Options) *ingest.Summary {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	if opts.ChunkBytes == 0 {
		opts.ChunkBytes = 256 << 10
	}
	sum, err := ingest.Run(context.Background(), opts)
	require.NoError(t, err)
	return sum
}

// identity is what a stored row says about its session, for comparing
// datasets regardless of which copy a row came from.
func identities(rows []dataset.SessionRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %d %d %s %s", r.Server, r.SessionStart, r.SessionEnd, r.UserKey, r.DocumentKey)
	}
	sort.Strings(out)
	return out
}

// The de-duplication rules of issue 10: a session is one row whatever copy,
// column set or GUID spelling it came from; two different sessions are two
// rows even if a Session ID repeats.
func TestDeduplicationKey(t *testing.T) {
	ss := sessions(40)
	upper := make([]sess, len(ss))
	for i, s := range ss {
		s.id, s.client = strings.ToUpper(s.id), strings.ToUpper(s.client)
		upper[i] = s
	}
	shared := sessions(2)
	shared[1].id = shared[0].id
	shared[1].user = `CORP\someone-else`
	for _, tt := range []struct {
		quirk string
		files map[string]string
		rows  int
	}{
		{"a copy without the Session ID column is the same sessions", map[string]string{
			"live/Sessions_QVS01_2024-02-01.log":   logText(columns29, true, ss),
			"export/Sessions_QVS01_2024-02-01.log": logText(columns28, true, ss),
		}, 40},
		{"a copy with upper-case GUIDs is the same sessions", map[string]string{
			"live/Sessions_QVS01_2024-02-01.log":   logText(columns29, true, ss),
			"backup/Sessions_QVS01_2024-02-01.log": logText(columns29, true, upper),
		}, 40},
		{"a Windows copy beside the log is the same sessions on the same server", map[string]string{
			"Sessions_QVS01_2024-02-01.log":            logText(columns29, true, ss),
			"Sessions_QVS01_2024-02-01 - Copy (2).log": logText(columns29, true, ss),
		}, 40},
		{"two different sessions sharing a Session ID are two rows", map[string]string{
			"Sessions_QVS01_2024-02-01.log": logText(columns29, true, shared),
		}, 2},
		{"a header-less copy is the same sessions", map[string]string{
			"Sessions_QVS01_2024-02-01.log":     logText(columns29, true, ss),
			"old/Sessions_QVS01_2024-02-01.log": logText(columns28, false, ss),
		}, 40},
	} {
		t.Run(tt.quirk, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				writeLog(t, filepath.Join(dir, name), text)
			}
			data := t.TempDir()
			sum := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
			require.Zero(t, sum.Rejects)
			rows := readDataset(t, data)
			require.Len(t, rows, tt.rows)
			require.Equal(t, int64(tt.rows), sum.RowsStored)
			for _, r := range rows {
				require.Equal(t, "QVS01", r.Server)
			}
		})
	}
}

// Resume is exact: a log that grows, with or without a header, read in
// pieces, stores what one read of the whole file stores (issue 10: a
// header-less log that grew lost every appended line for good).
func TestResumeIsExact(t *testing.T) {
	ss := sessions(400)
	for _, tt := range []struct {
		quirk  string
		header bool
		chunk  int64 // ChunkBytes: small = the split path
	}{
		{"a log with a header grows", true, 1 << 40},
		{"a header-less log grows", false, 1 << 40},
		{"a header-less log grows, read in chunks on several workers", false, 16 << 10},
		{"a log with a header grows, read in chunks on several workers", true, 16 << 10},
	} {
		t.Run(tt.quirk, func(t *testing.T) {
			whole := logText(columns29, tt.header, ss)
			dir := t.TempDir()
			path := filepath.Join(dir, "Sessions_QVS01.log")
			data := t.TempDir()
			for _, cut := range []int{len(whole) / 5, len(whole)/2 + 17, len(whole) - 3, len(whole)} {
				writeLog(t, path, whole[:cut])
				sum := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}, ChunkBytes: tt.chunk, Workers: 2})
				require.Zero(t, sum.Rejects, "cut at %d", cut)
			}
			fresh := t.TempDir()
			runOpts(t, ingest.Options{Data: fresh, Paths: []string{path}})
			require.Len(t, readDataset(t, data), len(ss))
			require.Equal(t, readDataset(t, fresh), readDataset(t, data))
		})
	}
}

// A log rotated into a header-less file keeps its appended lines too.
func TestRotationIntoHeaderlessLogKeepsAppendedLines(t *testing.T) {
	ss := sessions(60)
	dir := t.TempDir()
	path := filepath.Join(dir, "Sessions_QVS01.log")
	data := t.TempDir()
	writeLog(t, path, logText(columns29, true, ss[:20]))
	runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	writeLog(t, path, logText(columns28, false, ss[20:40]))
	require.Equal(t, 1, runOpts(t, ingest.Options{Data: data, Paths: []string{dir}}).FilesRotated)
	writeLog(t, path, logText(columns28, false, ss[20:60]))
	sum := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	require.Equal(t, 1, sum.FilesGrown)
	require.Zero(t, sum.Rejects)
	require.Equal(t, int64(20), sum.RowsStored)
	require.Len(t, readDataset(t, data), 60)
}

// "Unchanged" is decided by content: a log replaced by another of the same
// size and modification time, or rewritten in place at the same size past
// its first 4 KiB, is read again (issue 10: both were taken as unchanged).
func TestSameSizeReplacementDetected(t *testing.T) {
	ss := sessions(100)
	text := logText(columns29, true, ss)
	require.Greater(t, len(text), 3*4096)
	other := make([]sess, len(ss))
	for i, s := range ss {
		s.doc = `C:\Docs\Stock.qvw` // same length as Sales.qvw
		other[i] = s
	}
	for _, tt := range []struct {
		quirk string
		next  string
		rows  int
	}{
		{"replaced by another log of the same size and modification time", logText(columns29, true, other), 100},
		{"rewritten in place at the same size beyond its first 4 KiB", text[:len(text)-200] + strings.Replace(text[len(text)-200:], "Socket closed by client", "Socket closed by CLIENT", 1), 0},
		{"the same bytes written again are unchanged", text, 0},
	} {
		t.Run(tt.quirk, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "Sessions_QVS01_2024-02-01.log")
			writeLog(t, path, text)
			mtime := time.Date(2024, 2, 2, 0, 0, 0, 0, time.UTC)
			require.NoError(t, os.Chtimes(path, mtime, mtime))
			data := t.TempDir()
			runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})

			writeLog(t, path, tt.next)
			require.NoError(t, os.Chtimes(path, mtime, mtime))
			sum := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
			if tt.next == text {
				require.Equal(t, 1, sum.FilesUnchanged)
				require.Zero(t, sum.BytesRead)
				return
			}
			require.Equal(t, 1, sum.FilesRotated, "read again from the start")
			require.Equal(t, int64(len(tt.next)), sum.BytesRead)
			require.Equal(t, int64(tt.rows), sum.RowsStored)
		})
	}
}

// FuzzResumeFromCheckpoint: for any log and any cut point, ingesting the
// prefix and then the whole file stores what one ingest of the whole file
// stores, with and without a header, whole or split across workers.
func FuzzResumeFromCheckpoint(f *testing.F) {
	f.Add(uint16(1000), true, false)
	f.Add(uint16(30000), false, false)
	f.Add(uint16(65535), false, true)
	f.Add(uint16(17), true, true)
	f.Add(uint16(0), false, true)
	ss := sessions(120)
	f.Fuzz(func(t *testing.T, cutAt uint16, header, split bool) {
		whole := logText(columns29, header, ss)
		cut := int(cutAt) * len(whole) / 65536
		chunk := int64(1 << 40)
		if split {
			chunk = 8 << 10
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "Sessions_QVS01.log")
		data := t.TempDir()
		writeLog(t, path, whole[:cut])
		runOpts(t, ingest.Options{Data: data, Paths: []string{path}, ChunkBytes: chunk, Workers: 2})
		writeLog(t, path, whole)
		sum := runOpts(t, ingest.Options{Data: data, Paths: []string{path}, ChunkBytes: chunk, Workers: 2})
		require.Zero(t, sum.Rejects)
		fresh := t.TempDir()
		runOpts(t, ingest.Options{Data: fresh, Paths: []string{path}})
		require.Equal(t, readDataset(t, fresh), readDataset(t, data))
	})
}

// Issue 10, "NUL runs are skipped to the next line start": a log whose tail
// a crash zeroed and the server then went on writing keeps the line after
// the NUL run, whole, and counts the run.
func TestLineAfterNULRunKept(t *testing.T) {
	dir := t.TempDir()
	ss := sessions(4)
	head := logText(columns29, true, ss[:3])
	tail := logText(columns29, false, ss[3:])
	writeLog(t, filepath.Join(dir, "logs", "Sessions_QVS-CRASH_2024-02-01.log"), head+strings.Repeat("\x00", 512)+tail)
	data := filepath.Join(dir, "data")
	sum := runOpts(t, ingest.Options{Data: data, Paths: []string{filepath.Join(dir, "logs")}})
	require.EqualValues(t, 4, sum.RowsStored, "the line after the NUL run is a session")
	require.Zero(t, sum.Rejects)
	rows := readDataset(t, data)
	require.Len(t, rows, 4)
	for _, r := range rows {
		require.NotNil(t, r.ExeType)
		require.Equal(t, "RLS64", *r.ExeType, "no NUL byte carried into a field")
	}
	require.Contains(t, fmt.Sprint(sum.Servers["QVS-CRASH"].Readings()), "nul_runs")
}
