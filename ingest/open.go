package ingest

import (
	"fmt"
	"os"
)

// openLog opens a session log for reading without ever blocking: a FIFO
// put where a log was found (or named on the command line) would block an
// ordinary open until a writer came, holding the data folder's lock. The
// file is opened non-blocking where the system has that flag, and anything
// but a regular file is refused.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlocking, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file (%s)", path, fileType(info.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
