package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// stampWriter starts every line written to w with the time it was begun
// (RFC 3339, UTC): standard error as a scheduler's log file keeps it.
type stampWriter struct {
	w   io.Writer
	now func() time.Time

	mu      sync.Mutex
	midLine bool // the last write ended inside a line
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf bytes.Buffer
	for rest := p; len(rest) > 0; {
		if !s.midLine {
			buf.WriteString(s.now().UTC().Format(time.RFC3339))
			buf.WriteByte(' ')
		}
		line, after, complete := bytes.Cut(rest, []byte{'\n'})
		buf.Write(line)
		if complete {
			buf.WriteByte('\n')
		}
		s.midLine, rest = !complete, after
	}
	if _, err := s.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
