package main

import (
	"fmt"
	"strings"
	"time"
)

// asOfHelp says what --as-of accepts; every command that has the flag shows
// it.
const asOfHelp = `TIME is YYYY-MM-DD (00:00), YYYY-MM-DDTHH:MM[:SS[.fff]] or the same with a
space for the T, each with an optional zone (Z, +02:00); or now, today
(00:00 today) or yesterday (00:00 yesterday). A time without a zone is UTC,
as are today and yesterday.`

// asOfLayouts are the --as-of forms with a time of day, without and with a
// zone. (time.Parse reads a fraction of a second after the seconds.)
var asOfLayouts = []string{
	time.DateOnly, "2006-01-02T15:04", "2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00",
}

// parseAsOf reads an --as-of value (see asOfHelp); now resolves now, today
// and yesterday. The result is in UTC.
func parseAsOf(text string, now time.Time) (time.Time, error) {
	value := strings.TrimSpace(text)
	today := now.UTC().Truncate(24 * time.Hour)
	switch strings.ToLower(value) {
	case "now":
		return now.UTC(), nil
	case "today":
		return today, nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	}
	// 2024-03-31 10:00 and 2024-03-31t10:00z read as 2024-03-31T10:00Z.
	normal := strings.ToUpper(value)
	if len(normal) > 10 && normal[10] == ' ' {
		normal = normal[:10] + "T" + strings.TrimLeft(normal[11:], " ")
	}
	for _, layout := range asOfLayouts {
		t, err := time.Parse(layout, normal)
		if err == nil {
			return t.UTC(), nil
		}
		// A form that fits but names no such day or hour: say which.
		if strings.Contains(err.Error(), "out of range") {
			return time.Time{}, fmt.Errorf("--as-of %q: %s", text, strings.TrimPrefix(err.(*time.ParseError).Message, ": "))
		}
	}
	return time.Time{}, fmt.Errorf("--as-of %q: want a date (2024-03-31), a time (2024-03-31T18:00, 2024-03-31 18:00:00Z, 2024-03-31T18:00+02:00), now, today or yesterday", text)
}

// asOfFlag is --as-of as a flag value: parsed, and so refused, with the
// other flags.
type asOfFlag struct {
	t   time.Time
	now func() time.Time
}

func (f *asOfFlag) Set(s string) error {
	t, err := parseAsOf(s, f.now())
	if err != nil {
		return err
	}
	f.t = t
	return nil
}

func (f *asOfFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f *asOfFlag) Type() string { return "TIME" }
