package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Chunk is a byte range of a file that starts at the beginning of a line, to
// be decoded by its own Decoder (Config.FirstLine = FirstLine, and
// Config.Header = the header in effect at Start: nil or empty for a file
// without a header line, whose chunks then read every line as its start
// would).
type Chunk struct {
	Start, End int64 // [Start, End)
	FirstLine  int64 // number of the line that begins at Start
}

// Size returns the chunk's length in bytes.
func (c Chunk) Size() int64 { return c.End - c.Start }

// Split divides the byte range [start, end) of r, whose first line is
// number firstLine, into at most n chunks of about equal size that begin at
// line starts, so that one file can be decoded on several cores. Each
// chunk's first line number comes from counting line breaks, an order of
// magnitude faster than decoding; the counting runs on at most GOMAXPROCS
// goroutines with a 1 MiB buffer each, so that splitting a file of any
// size into any number of chunks costs that much memory.
func Split(r io.ReaderAt, start, end, firstLine int64, n int) ([]Chunk, error) {
	if n < 1 || end-start < int64(n)*readBufferBytes {
		n = max(1, min(n, int((end-start)/readBufferBytes)))
	}
	bounds := []int64{start}
	for i := 1; i < n; i++ {
		at, err := nextLineStart(r, start+int64(i)*(end-start)/int64(n), end)
		if err != nil {
			return nil, err
		}
		if at > bounds[len(bounds)-1] && at < end {
			bounds = append(bounds, at)
		}
	}
	bounds = append(bounds, end)

	chunks := make([]Chunk, len(bounds)-1)
	for i := range chunks {
		chunks[i] = Chunk{Start: bounds[i], End: bounds[i+1]}
	}
	// The last chunk's count is not needed.
	lineCounts := make([]int64, len(chunks)-1)
	errs := make([]error, len(lineCounts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(lineCounts), runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for i := int(next.Add(1) - 1); i < len(lineCounts); i = int(next.Add(1) - 1) {
				lineCounts[i], errs[i] = countLines(r, chunks[i].Start, chunks[i].End, buf)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	line := firstLine
	for i := range chunks {
		chunks[i].FirstLine = line
		if i < len(lineCounts) {
			line += lineCounts[i]
		}
	}
	return chunks, nil
}

// nextLineStart returns the offset just after the first '\n' at or after
// at, or end if there is none within MaxLineBytes.
func nextLineStart(r io.ReaderAt, at, end int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for limit := at + MaxLineBytes; at < end && at < limit; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), end-at)], at)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return at + int64(i) + 1, nil
		}
		at += int64(n)
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("split: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return end, nil
}

func countLines(r io.ReaderAt, start, end int64, buf []byte) (int64, error) {
	var lines int64
	for at := start; at < end; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), end-at)], at)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		at += int64(n)
		if err != nil && (err != io.EOF || at < end) {
			return 0, fmt.Errorf("split: %w", err)
		}
	}
	return lines, nil
}
