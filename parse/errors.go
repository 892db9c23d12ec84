package parse

import (
	"errors"
	"fmt"
)

// The reasons a line is rejected. Each is the Err of a ParseError; Reason
// gives the stable short name stored with the reject.
var (
	ErrFieldCount   = errors.New("wrong number of fields")
	ErrTimestamp    = errors.New("unreadable Timestamp")
	ErrSessionStart = errors.New("unreadable Session Start")
	ErrLineTooLong  = errors.New("line too long")
)

var reasons = []struct {
	err  error
	name string
}{
	{ErrFieldCount, "field_count"},
	{ErrTimestamp, "bad_timestamp"},
	{ErrSessionStart, "bad_session_start"},
	{ErrLineTooLong, "line_too_long"},
}

// Reason returns the short, stable name of a reject reason ("field_count",
// "bad_timestamp", "bad_session_start", "line_too_long"), or "other".
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// ParseError locates a problem in a session log.
type ParseError struct {
	File   string // the Config.File of the decoder
	Line   int64  // 1-based line number; the header is line 1
	Column string // the header name of the field at fault; "" for the whole line
	Err    error  // one of the Err* values above, wrapped with detail
}

func (e *ParseError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %q: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reject is a line the decoder could not turn into a row.
type Reject struct {
	*ParseError
	Raw string // the line as read, without its line ending; invalid UTF-8 replaced
}

// Reason is the reject's short reason name (see Reason).
func (r Reject) Reason() string { return Reason(r.Err) }
