//go:build unix

package dataset

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an advisory lock on f without waiting: exclusive for a
// writer, shared for a reader pinning a state. The kernel releases it when
// the process ends, however it ends.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
