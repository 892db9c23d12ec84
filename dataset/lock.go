package dataset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrLocked is returned when another qvmeter process writes the data folder.
type ErrLocked struct {
	Dir    string
	Owner  string        // what the other process wrote into the lock file
	Waited time.Duration // how long this process waited for it
}

func (e *ErrLocked) Error() string {
	if e.Waited > 0 {
		return fmt.Sprintf("%s is being written by another qvmeter (%s), still after waiting %s; try again when it has finished or wait longer (--wait)", e.Dir, e.Owner, e.Waited.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s is being written by another qvmeter (%s); try again when it has finished, or let it wait (--wait)", e.Dir, e.Owner)
}

// lockPoll is how often a waiting writer tries the lock again.
const lockPoll = 50 * time.Millisecond

// Lock takes the data folder's writer lock, waiting up to wait for another
// writer to finish; with wait 0 it fails at once. It fails with *ErrLocked,
// which names the process holding the lock. The lock is an OS lock on
// DIR/lock, so a process that dies (even by SIGKILL) releases it.
//
// Every command that writes under the data folder holds it for as long as
// it writes: ingest, meter and run. Readers never take it (they pin the
// state they read, see OpenState), so a read-only data folder serves them.
func Lock(ctx context.Context, dir string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	for {
		ok, err := tryLock(f, true)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		if ok {
			break
		}
		waited := time.Since(started)
		if waited+lockPoll > wait || ctx.Err() != nil {
			owner, _ := os.ReadFile(f.Name())
			f.Close()
			if wait == 0 {
				waited = 0 // refused at once, as asked: no wait to report
			}
			return nil, &ErrLocked{Dir: dir, Owner: strings.TrimSpace(string(owner)), Waited: waited}
		}
		select {
		case <-time.After(lockPoll):
		case <-ctx.Done():
		}
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+" on "+host+" since "+time.Now().UTC().Format(time.RFC3339)+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
