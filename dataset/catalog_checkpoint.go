package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeCheckpoint reads one checkpoint of catalog.json (the JSON object
// raw) into cp. A catalog holds one per log ever read, and encoding/json
// reads each at 11 allocations and two scans; the form Commit writes (keys
// as written, plain strings and integers) is read here directly, and
// anything else — an escaped string, null, another key, a malformed value
// — through encoding/json, so the result is always encoding/json's.
func decodeCheckpoint(raw []byte, cp *checkpointFile) error {
	if readCheckpoint(raw, cp) {
		return nil
	}
	*cp = checkpointFile{Checkpoint: &Checkpoint{}}
	return json.Unmarshal(raw, cp)
}

// readCheckpoint reads raw if it is in the plain form, else reports false.
func readCheckpoint(raw []byte, cp *checkpointFile) bool {
	s := jsonScan{b: raw}
	if !s.byte('{') {
		return false
	}
	if s.byte('}') {
		return s.end()
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.byte(':') {
			return false
		}
		s.space()
		switch string(key) {
		case "server", "header":
			text, ok := s.plainString()
			if !ok {
				return false
			}
			if string(key) == "server" {
				cp.Server = string(text)
			} else {
				cp.Header = string(text)
			}
		case "mod_time":
			start := s.i
			if _, ok := s.plainString(); !ok || cp.ModTime.UnmarshalJSON(raw[start:s.i]) != nil {
				return false
			}
		case "head_hash", "tail_hash":
			n, ok := s.uint()
			if !ok {
				return false
			}
			if string(key) == "head_hash" {
				cp.HeadHash = n
			} else {
				cp.TailHash = n
			}
		case "size", "head_len", "tail_len", "offset", "line", "header_ref":
			n, ok := s.int()
			if !ok {
				return false
			}
			switch string(key) {
			case "size":
				cp.Size = n
			case "head_len":
				cp.HeadLen = n
			case "tail_len":
				cp.TailLen = n
			case "offset":
				cp.Offset = n
			case "line":
				cp.Line = n
			default:
				if int64(int(n)) != n {
					return false
				}
				ref := int(n)
				cp.HeaderRef = &ref
			}
		default:
			return false
		}
		if s.byte('}') {
			return s.end()
		}
		if !s.byte(',') {
			return false
		}
	}
}

// jsonScan reads JSON tokens from b at i, spaces skipped before each.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// byte consumes c if it comes next.
func (s *jsonScan) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end tells whether nothing but space is left.
func (s *jsonScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// plainString reads a string without escapes, of valid UTF-8 and no
// control characters (what encoding/json reads as it is written).
func (s *jsonScan) plainString() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(s.b[s.i:], '"')
	if end < 0 {
		return nil, false
	}
	text := s.b[s.i : s.i+end]
	for _, c := range text {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	if !utf8.Valid(text) {
		return nil, false
	}
	s.i += end + 1
	return text, true
}

// number reads an integer as JSON writes one: -?(0|[1-9][0-9]*), not
// followed by a fraction or exponent.
func (s *jsonScan) number() ([]byte, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i > digits+1) {
		return nil, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return nil, false
	}
	return s.b[start:s.i], true
}

func (s *jsonScan) int() (int64, bool) {
	text, ok := s.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	return n, err == nil
}

func (s *jsonScan) uint() (uint64, bool) {
	text, ok := s.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(string(text), 10, 64)
	return n, err == nil
}

// jsonStream splits a JSON text read from r into its tokens and values,
// without decoding the values: encoding/json's Decoder allocates an error
// value for every value it streams inside an object, three allocations for
// each of tens of thousands of checkpoints. What it captures is decoded by
// readCheckpoint or encoding/json, which check it.
type jsonStream struct {
	r   *bufio.Reader
	buf []byte // the last value read, reused
}

func newJSONStream(r io.Reader) *jsonStream { return &jsonStream{r: bufio.NewReaderSize(r, 1<<16)} }

// next returns the next byte after spaces, without consuming it.
func (s *jsonStream) next() (byte, error) {
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return b, s.r.UnreadByte()
		}
	}
}

// delim consumes the next byte, which must be one of want.
func (s *jsonStream) delim(want string) (byte, error) {
	b, err := s.next()
	if err == nil {
		s.r.ReadByte()
		if strings.IndexByte(want, b) < 0 {
			err = fmt.Errorf("want one of %q, found %q", want, b)
		}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// value returns the next value's text, valid until the next call.
func (s *jsonStream) value() ([]byte, error) {
	first, err := s.next()
	if err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	s.buf = s.buf[:0]
	depth, inString, escaped := 0, false, false
	for {
		if !inString && depth == 0 && len(s.buf) > 0 && first != '"' {
			// A scalar ends before the delimiter or space that follows it.
			b, err := s.r.ReadByte()
			if err != nil {
				return s.buf, nil
			}
			if strings.IndexByte(",}] \t\n\r", b) >= 0 {
				return s.buf, s.r.UnreadByte()
			}
			s.buf = append(s.buf, b)
			continue
		}
		b, err := s.r.ReadByte()
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		s.buf = append(s.buf, b)
		switch {
		case inString && escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case inString && b == '"':
			inString = false
			if depth == 0 {
				return s.buf, nil
			}
		case inString:
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
		case b == '}' || b == ']':
			depth--
			if depth <= 0 {
				return s.buf, nil
			}
		}
	}
}

// key reads an object's key and the colon after it.
func (s *jsonStream) key() (string, error) {
	text, err := s.value()
	if err != nil {
		return "", err
	}
	key, err := jsonString(text)
	if err == nil {
		_, err = s.delim(":")
	}
	return key, err
}

// jsonString decodes a JSON string.
func jsonString(text []byte) (string, error) {
	scan := jsonScan{b: text}
	if plain, ok := scan.plainString(); ok && scan.end() {
		return string(plain), nil
	}
	var s string
	err := json.Unmarshal(text, &s)
	return s, err
}
