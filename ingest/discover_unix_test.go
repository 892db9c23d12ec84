//go:build unix

package ingest_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// A FIFO is never opened blocking: named on the command line it is refused
// (issue 12: ingest hung for ever holding the lock), in a folder skipped.
func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "Sessions_QVS01_2024-02-01.log")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	writeLog(t, filepath.Join(dir, "Sessions_QVS02_2024-02-01.log"), logText(columns29, true, sessions(3)))
	data := t.TempDir()
	done := make(chan *ingest.Summary)
	go func() { done <- runOpts(t, ingest.Options{Data: data, Paths: []string{fifo, dir}}) }()
	select {
	case sum := <-done:
		require.Len(t, sum.Unreadable, 1)
		require.Contains(t, sum.Unreadable[0], "not a regular file (a named pipe)")
		require.Equal(t, 1, sum.FilesNew)
		require.Equal(t, 1, sum.FilesSkipped, "the FIFO in the folder")
		require.Equal(t, int64(3), sum.RowsStored)
	case <-time.After(20 * time.Second):
		t.Fatal("ingest blocked on a FIFO")
	}
}

// A rebuild keeps the stored rows of a log it cannot read again (here
// replaced by a FIFO), and says why it was not read.
func TestRebuildKeepsRowsOfUnreadableLogs(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "Sessions_QVS01_2024-02-01.log")
	writeLog(t, log, logText(columns29, true, sessions(4)))
	data := t.TempDir()
	runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
	require.NoError(t, os.Remove(log))
	require.NoError(t, syscall.Mkfifo(log, 0o644))

	sum := runOpts(t, ingest.Options{Data: data, Rebuild: true})
	require.Len(t, sum.Unreadable, 1)
	require.Contains(t, sum.Unreadable[0], "not a regular file")
	require.Equal(t, []string{log}, sum.Rebuilt.Missing)
	require.Equal(t, int64(4), sum.Rebuilt.KeptRows)
	require.Len(t, readDataset(t, data), 4)
}
