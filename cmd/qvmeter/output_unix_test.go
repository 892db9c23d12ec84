//go:build unix

package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// withUmask runs f with the process's umask set to mask (the umask is the
// process's: these tests do not run in parallel).
func withUmask(t *testing.T, mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

func writeText(text string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, text); return err }
}

// TestWriteOutputHonoursTheUmask pins that a new output file gets 0666
// less the umask, as a shell redirect gives, and a replaced one keeps its
// mode whatever the umask.
func TestWriteOutputHonoursTheUmask(t *testing.T) {
	for _, tc := range []struct {
		name  string
		umask int
		old   fs.FileMode // 0: no file there before
		want  fs.FileMode
	}{
		{"a new file under umask 022 is 0644", 0o022, 0, 0o644},
		{"a new file under umask 027 is 0640", 0o027, 0, 0o640},
		{"a new file under umask 002 is 0664", 0o002, 0, 0o664},
		{"a replaced file keeps 0600 under umask 022", 0o022, 0o600, 0o600},
		{"a replaced file keeps 0664 under umask 027", 0o027, 0o664, 0o664},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.csv")
			if tc.old != 0 {
				require.NoError(t, os.WriteFile(path, []byte("old"), tc.old))
				require.NoError(t, os.Chmod(path, tc.old))
			}
			withUmask(t, tc.umask, func() {
				require.NoError(t, writeOutput(path, nil, false, writeText("new")))
			})
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, tc.want, info.Mode().Perm())
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, "new", string(raw))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file left")
		})
	}
}

// TestWriteOutputLeavesSpecialFilesAlone pins --output's rules for what is
// already at the path: streams are written to in place, a symbolic link or
// another special file is refused unless --replace, and a failed write
// leaves the old file as it was.
func TestWriteOutputLeavesSpecialFilesAlone(t *testing.T) {
	t.Run("/dev/null stays a device", func(t *testing.T) {
		require.NoError(t, writeOutput(os.DevNull, nil, false, writeText("x")))
		info, err := os.Stat(os.DevNull)
		require.NoError(t, err)
		require.NotZero(t, info.Mode()&fs.ModeCharDevice)
	})
	t.Run("- is standard output", func(t *testing.T) {
		var stdout bytes.Buffer
		require.NoError(t, writeOutput("-", &stdout, false, writeText("x")))
		require.Equal(t, "x", stdout.String())
	})
	t.Run("a named pipe is written to, not replaced", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "pipe")
		require.NoError(t, syscall.Mkfifo(fifo, 0o600))
		read := make(chan string)
		go func() {
			raw, _ := os.ReadFile(fifo)
			read <- string(raw)
		}()
		require.NoError(t, writeOutput(fifo, nil, false, writeText("through the pipe")))
		require.Equal(t, "through the pipe", <-read)
		info, err := os.Lstat(fifo)
		require.NoError(t, err)
		require.NotZero(t, info.Mode()&fs.ModeNamedPipe)
	})
	t.Run("a symbolic link is refused, and replaced with --replace", func(t *testing.T) {
		dir := t.TempDir()
		target, link := filepath.Join(dir, "target.csv"), filepath.Join(dir, "link.csv")
		require.NoError(t, os.WriteFile(target, []byte("target"), 0o644))
		require.NoError(t, os.Symlink(target, link))
		err := writeOutput(link, nil, false, writeText("x"))
		var usage *usageError
		require.ErrorAs(t, err, &usage)
		require.ErrorContains(t, err, "is a symbolic link to "+target)
		require.ErrorContains(t, err, "--replace")

		require.NoError(t, writeOutput(link, nil, true, writeText("x")))
		info, err := os.Lstat(link)
		require.NoError(t, err)
		require.True(t, info.Mode().IsRegular(), "the link is now a file")
		raw, err := os.ReadFile(target)
		require.NoError(t, err)
		require.Equal(t, "target", string(raw), "the link's target is untouched")
	})
	t.Run("a socket is refused", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "s")
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		require.NoError(t, err)
		defer syscall.Close(fd)
		require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}))
		require.ErrorContains(t, writeOutput(path, nil, false, writeText("x")), "is a socket")
	})
	t.Run("a directory is refused", func(t *testing.T) {
		dir := t.TempDir()
		require.ErrorContains(t, writeOutput(dir, nil, false, writeText("x")), "is a directory")
		require.ErrorContains(t, writeOutput(dir, nil, true, writeText("x")), "is a directory")
	})
	t.Run("a failed write leaves the old file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "report.csv")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
		err := writeOutput(path, nil, false, func(w io.Writer) error {
			io.WriteString(w, "half")
			return os.ErrDeadlineExceeded
		})
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, "old", string(raw))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "no temporary file left")
		require.False(t, strings.HasSuffix(entries[0].Name(), ".tmp"))
	})
}

// TestRunFilesHonourTheUmask pins that everything run writes for people
// (reports, summary.txt, index.html, their folder) can be read by others
// under the usual umask 022, and by the group only under 027.
func TestRunFilesHonourTheUmask(t *testing.T) {
	for _, tc := range []struct {
		umask     int
		file, dir fs.FileMode
	}{{0o022, 0o644, 0o755}, {0o027, 0o640, 0o750}} {
		data := t.TempDir()
		withUmask(t, tc.umask, func() {
			code, _, stderr := runQV(t, "run", "--quiet", "--data", data, "--license", filepath.Join(estate, "license.toml"), "--as-of", "2024-04-01", estate)
			require.Equal(t, 0, code, stderr)
		})
		out := filepath.Join(data, "reports", "2024-04-01")
		info, err := os.Stat(out)
		require.NoError(t, err)
		require.Equal(t, tc.dir, info.Mode().Perm(), "umask %03o: %s", tc.umask, out)
		entries, err := os.ReadDir(out)
		require.NoError(t, err)
		require.Len(t, entries, 2*len(runReports)+2)
		for _, e := range entries {
			info, err := e.Info()
			require.NoError(t, err)
			require.Equal(t, tc.file, info.Mode().Perm(), "umask %03o: %s", tc.umask, e.Name())
		}
	}
}
