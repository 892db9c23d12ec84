package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The command line's own contract: help on stdout, --version, a mistake
// (unknown command, flag or value) exits 64 naming it and the nearest
// spelling, and a failed run 1.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help lists the commands and the exit codes", []string{"--help"}, 0, "64  a mistake on the command line", ""},
		{"help COMMAND is COMMAND --help", []string{"help", "ingest"}, 0, "--max-reject-ratio", ""},
		{"no command: usage on stdout, exit 64", []string{}, exitUsage, "Commands:", "want a command"},
		{"version", []string{"version"}, 0, "qvmeter ", ""},
		{"--version", []string{"--version"}, 0, "qvmeter ", ""},
		{"a command's help is on stdout", []string{"ingest", "--help"}, 0, "--max-reject-ratio", ""},
		{"-h is --help", []string{"meter", "-h"}, 0, "--simulate", ""},
		{"unknown command: 64 and did you mean", []string{"reprot"}, exitUsage, "", `unknown command "reprot" (did you mean report?)`},
		{"mistyped flag: 64 and did you mean", []string{"ingest", "--max-reject-ration", "0.1", "x"}, exitUsage, "", "unknown flag: --max-reject-ration (did you mean --max-reject-ratio?)"},
		{"a usage error points to the help", []string{"ingest", "--colour", "x"}, exitUsage, "", "Run 'qvmeter ingest --help' for usage."},
		{"no paths: 64", []string{"ingest"}, exitUsage, "", "want at least one PATH"},
		{"a negative ratio is refused", []string{"ingest", "--max-reject-ratio", "-1", "x"}, exitUsage, "", "want a share from 0 to 1"},
		{"a ratio above 1 is refused", []string{"run", "--max-reject-ratio", "1.5", "x"}, exitUsage, "", "want a share from 0 to 1"},
		{"an --as-of it cannot read: 64", []string{"run", "--as-of", "2024-13-01", "x"}, exitUsage, "", "month out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			require.Equal(t, tt.code, code, "stderr: %s", stderr.String())
			require.Contains(t, stdout.String(), tt.stdout)
			require.Contains(t, stderr.String(), tt.stderr)
		})
	}
}

// TestEveryCommandHasHelpWithExamples pins that --help of every command
// prints to stdout, exits 0 and has an Examples section with a command
// line of that command.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, 0, run(context.Background(), []string{name, "--help"}, &stdout, &stderr))
			require.Empty(t, stderr.String())
			_, examples, ok := strings.Cut(stdout.String(), "\nExamples:\n")
			require.True(t, ok, "no Examples section in %s", stdout.String())
			require.Contains(t, examples, "qvmeter "+name)
		})
	}
}

// TestStderrLinesStartWithTheTime pins that every line written to a
// non-terminal standard error starts with an RFC 3339 time, however the
// writes cut the lines.
func TestStderrLinesStartWithTheTime(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2024, 3, 31, 2, 30, 0, 0, time.FixedZone("CEST", 7200))
	w := &stampWriter{w: &out, now: func() time.Time { return at }}
	for _, chunk := range []string{"ingest 1.2s", "  3 new files\nmeter", " 0.5s\n", "two\nlines\n"} {
		_, err := w.Write([]byte(chunk))
		require.NoError(t, err)
	}
	require.Equal(t, "2024-03-31T00:30:00Z ingest 1.2s  3 new files\n2024-03-31T00:30:00Z meter 0.5s\n"+
		"2024-03-31T00:30:00Z two\n2024-03-31T00:30:00Z lines\n", out.String())

	var stdout, stderr bytes.Buffer
	require.Equal(t, exitUsage, run(context.Background(), []string{"reprot"}, &stdout, &stderr))
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `)
	for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
		require.Regexp(t, stamp, line)
	}
}

// TestClosest pins the "did you mean" rule: near by edit distance or a
// prefix, case aside; nothing when nothing is near.
func TestClosest(t *testing.T) {
	names := []string{"idle-cals", "capacity", "usage", "usage-cals", "summary"}
	for _, tc := range []struct {
		name, word string
		want       []string
	}{
		{"a letter missing", "idle-cal", []string{"idle-cals"}},
		{"the word itself", "capacity", []string{"capacity"}},
		{"transposed", "sumamry", []string{"summary"}},
		{"case aside", "IDLE-CALS", []string{"idle-cals"}},
		{"a prefix, nearest first", "usage-c", []string{"usage", "usage-cals"}},
		{"nothing near", "frobnicate", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := closest(tc.word, names, 2)
			if tc.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}
}
