package dataset

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ReplaceFile writes path through write with qvmeter's one durability
// policy for replacing a file: write a temporary file in the same folder
// (".<name>.<random>.tmp", created 0666 less the umask, as any new file),
// fsync it, rename it over path, fsync the folder. A reader sees the old
// file or the new one, never part, and after a crash the new one is there
// whole or not at all. A temporary file a crash leaves behind is removed by
// the next writer of the data folder (CleanLeftovers).
func ReplaceFile(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	var f *os.File
	var err error
	for range 10 {
		tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+randomHex()+TmpSuffix)
		if f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666); !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	buf := bufio.NewWriterSize(f, 1<<16)
	err = write(buf)
	if err == nil {
		err = buf.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return SyncDir(dir)
}

// WriteFileAtomic replaces path with data (see ReplaceFile).
func WriteFileAtomic(path string, data []byte) error {
	return ReplaceFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir makes a rename in dir durable (a no-op where directories cannot be
// synced, as on Windows).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && runtime.GOOS != "windows" {
		return err
	}
	return nil
}

// staleTemp is how old a temporary file under DIR/reports must be before
// the next writer removes it: a report written there by hand (report
// --output) may still be writing its own.
const staleTemp = time.Hour

// CleanLeftovers removes what writers that died left in the data folder:
// the temporary files of ReplaceFile at its top (the catalog's), and
// those under DIR/reports an hour old (run's report files and
// index.html). The state's leftovers are CleanStates', the data files'
// Recover's. The caller holds the writer lock.
func CleanLeftovers(dataDir string) {
	isTemp := func(name string) bool { return strings.HasPrefix(name, ".") && strings.HasSuffix(name, TmpSuffix) }
	top, _ := os.ReadDir(dataDir)
	for _, e := range top {
		if !e.IsDir() && isTemp(e.Name()) {
			os.Remove(filepath.Join(dataDir, e.Name()))
		}
	}
	filepath.WalkDir(filepath.Join(dataDir, ReportsDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isTemp(d.Name()) {
			return nil
		}
		if info, err := d.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			os.Remove(path)
		}
		return nil
	})
}
