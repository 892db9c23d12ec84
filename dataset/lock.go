package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrLocked is returned when another qvmeter process writes the dataset.
type ErrLocked struct {
	Dir   string
	Owner string // what the other process wrote into the lock file
}

func (e *ErrLocked) Error() string {
	return fmt.Sprintf("%s is being written by another qvmeter (%s); try again when it has finished", e.Dir, e.Owner)
}

// Lock takes the data folder's writer lock, or fails at once with
// *ErrLocked. The lock is an OS lock on DIR/lock, so a process that dies
// (even by SIGKILL) releases it.
func Lock(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	if !ok {
		owner, _ := os.ReadFile(f.Name())
		f.Close()
		return nil, &ErrLocked{Dir: dir, Owner: strings.TrimSpace(string(owner))}
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+" on "+host+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
