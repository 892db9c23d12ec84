package qms

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ExportColumns are the columns of the documented CSV export (and the keys
// of the JSON export's objects), for CAL state kept by other tools: a
// header row naming them (any order, server/cal_type/user required), one
// CAL a row. Times are RFC 3339 or "YYYY-MM-DD hh:mm:ss" (UTC); empty is
// unknown (never used, not quarantined).
var ExportColumns = []string{"server", "cal_type", "user", "document", "last_used", "quarantined_until",
	"machine", "leased_at", "document_deleted", "removed"}

// ParseError is a bad line of an export: which file, line (1-based, the
// header is line 1) and column, and why.
type ParseError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

var calTypes = []string{Named, Document, Lease, Session, Usage}

// exportRow builds a Record from one row's fields by column name. A
// missing licence state is worse than none: a row that cannot be read
// fails the whole import, so a partial import never looks like removed
// CALs.
func exportRow(file string, line int, get func(string) string, source string, takenAt time.Time) (Record, error) {
	bad := func(column string, err error) (Record, error) {
		return Record{}, &ParseError{File: file, Line: line, Column: column, Err: err}
	}
	r := Record{Server: strings.TrimSpace(get("server")), CALType: strings.ToLower(strings.TrimSpace(get("cal_type"))),
		User: strings.TrimSpace(get("user")), Document: strings.TrimSpace(get("document")), Machine: strings.TrimSpace(get("machine")),
		Source: source, TakenAt: takenAt}
	switch {
	case r.Server == "":
		return bad("server", errors.New("empty"))
	case !slices.Contains(calTypes, r.CALType):
		return bad("cal_type", fmt.Errorf("%q: want one of %s", r.CALType, strings.Join(calTypes, ", ")))
	case r.User == "":
		return bad("user", errors.New("empty"))
	case r.CALType == Document && r.Document == "":
		return bad("document", errors.New("a document CAL needs its document"))
	}
	for _, f := range []struct {
		column string
		dst    **time.Time
	}{{"last_used", &r.LastUsed}, {"quarantined_until", &r.QuarantinedUntil}, {"leased_at", &r.LeasedAt}} {
		t, err := ParseTime(get(f.column))
		if err != nil {
			return bad(f.column, err)
		}
		*f.dst = t
	}
	for _, f := range []struct {
		column string
		dst    *bool
	}{{"document_deleted", &r.DocumentDeleted}, {"removed", &r.Removed}} {
		if v := strings.TrimSpace(get(f.column)); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad(f.column, fmt.Errorf("%q: want true or false", v))
			}
			*f.dst = b
		}
	}
	r.normalize()
	return r, nil
}

// ReadCSV reads the documented CSV export.
func ReadCSV(file string, r io.Reader, takenAt time.Time) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, &ParseError{File: file, Line: 1, Err: fmt.Errorf("no header row: %w", err)}
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(ExportColumns, h) {
			return nil, &ParseError{File: file, Line: 1, Column: h, Err: fmt.Errorf("unknown column: want %s", strings.Join(ExportColumns, ","))}
		}
		index[h] = i
	}
	for _, required := range []string{"server", "cal_type", "user"} {
		if _, ok := index[required]; !ok {
			return nil, &ParseError{File: file, Line: 1, Column: required, Err: errors.New("missing column")}
		}
	}
	var out []Record
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				line = perr.Line
			}
			return nil, &ParseError{File: file, Line: line, Err: err}
		}
		get := func(column string) string {
			if i, ok := index[column]; ok && i < len(fields) {
				return fields[i]
			}
			return ""
		}
		rec, err := exportRow(file, line, get, SourceCSV, takenAt)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return dedupe(out), nil
}

// ReadJSON reads the documented JSON export: an array of objects with the
// CSV's columns as keys (times as strings, flags as booleans).
func ReadJSON(file string, r io.Reader, takenAt time.Time) ([]Record, error) {
	var rows []map[string]any
	if err := json.NewDecoder(r).Decode(&rows); err != nil {
		return nil, &ParseError{File: file, Line: 1, Err: fmt.Errorf("want a JSON array of objects: %w", err)}
	}
	var out []Record
	for i, row := range rows {
		for k := range row {
			if !slices.Contains(ExportColumns, k) {
				return nil, &ParseError{File: file, Line: i + 1, Column: k, Err: errors.New("unknown key (line is the object's index, from 1)")}
			}
		}
		get := func(column string) string {
			switch v := row[column].(type) {
			case nil:
				return ""
			case string:
				return v
			case bool:
				return strconv.FormatBool(v)
			default:
				return fmt.Sprint(v)
			}
		}
		rec, err := exportRow(file, i+1, get, SourceJSON, takenAt)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return dedupe(out), nil
}

// dedupe keeps one record per server, licence type, user, document (and
// machine, for leases, session and usage CALs): the one last used.
func dedupe(recs []Record) []Record {
	type keyed struct {
		key string
		rec Record
	}
	all := make([]keyed, len(recs))
	for i, r := range recs {
		machine := ""
		if r.CALType != Named && r.CALType != Document {
			machine = strings.ToLower(r.Machine)
		}
		all[i] = keyed{strings.Join([]string{strings.ToLower(r.Server), r.CALType, r.UserKey, r.DocumentKey, machine, strconv.FormatBool(r.Removed)}, "\x00"), r}
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	var out []Record
	for i, k := range all {
		if i > 0 && all[i-1].key == k.key {
			if last := out[len(out)-1].LastUsed; k.rec.LastUsed != nil && (last == nil || k.rec.LastUsed.After(*last)) {
				out[len(out)-1] = k.rec
			}
			continue
		}
		out = append(out, k.rec)
	}
	return out
}
