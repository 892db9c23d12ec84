package main

// Every file qvmeter writes for people and other programs (a report's
// --output, run's reports, summary.txt and index.html) goes through
// writeOutput, so that they all follow the same rules:
//
//   - a reader never sees half a file: a regular file is written to a
//     temporary file in the same folder, synced, renamed into place, and the
//     folder synced, so that the new name survives a crash too;
//   - files people can open: a new file gets 0666 less the umask (0644 under
//     the usual 022), as cp or a shell redirect would give, not os.CreateTemp's
//     0600; a replaced file keeps its mode;
//   - nothing at the path is destroyed by mistake: "-" is standard output, a
//     character device or a named pipe (/dev/null, /dev/stdout, a FIFO a
//     job reads) is written to as a stream, never replaced; a symbolic link
//     or any other non-regular file is refused unless --replace asks for it.

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/term"
)

// streamModes are the file types writeOutput writes to in place.
const streamModes = fs.ModeCharDevice | fs.ModeNamedPipe

// writeOutput writes what write produces to path ("-" is stdout). With
// replace, a symbolic link or a non-regular file other than a stream is
// replaced by a regular file instead of refused.
func writeOutput(path string, stdout io.Writer, replace bool, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	link, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replaceFile(path, 0, write)
	case err != nil:
		return err
	case link.Mode().IsRegular():
		return replaceFile(path, link.Mode().Perm(), write)
	}
	// A link to a stream (/dev/stdout → /proc/self/fd/1) is written through.
	if target, err := os.Stat(path); err == nil && target.Mode()&streamModes != 0 {
		return writeStream(path, write)
	}
	if link.IsDir() {
		return fmt.Errorf("--output %s is a directory", path)
	}
	if !replace {
		what := "a " + fileKind(link.Mode())
		if link.Mode()&fs.ModeSymlink != 0 {
			if target, err := os.Readlink(path); err == nil {
				what += " to " + target
			}
		}
		return &usageError{fmt.Errorf("--output %s is %s: name a regular file, or add --replace to replace it by one", path, what)}
	}
	return replaceFile(path, 0, write)
}

// fileKind names a non-regular file's type for a message.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}

// writeStream writes to an existing character device or named pipe as it
// is: opened for writing, neither created, truncated nor renamed over.
func writeStream(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = write(f)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

// replaceFile writes path through a temporary file in the same folder,
// renamed into place. perm 0 means a new file: 0666 less the umask.
func replaceFile(path string, perm fs.FileMode, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	var tmp *os.File
	for range 10 {
		name := filepath.Join(dir, "."+filepath.Base(path)+"."+rand.Text()[:10]+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		tmp = f
		break
	}
	if tmp == nil {
		return fmt.Errorf("no free temporary name beside %s", path)
	}
	err := write(tmp)
	if err == nil && perm != 0 {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a folder (and
// its renames are durable once done).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	return err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
