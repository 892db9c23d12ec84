package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The command line's own contract: --help succeeds, an unknown command or a
// mistyped flag fails with code 1 and says why.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help lists the commands", []string{"--help"}, 0, "ingest", ""},
		{"version", []string{"version"}, 0, "qvmeter ", ""},
		{"a command's help", []string{"ingest", "--help"}, 0, "", "--max-reject-ratio"},
		{"unknown command", []string{"frobnicate"}, 1, "", `unknown command "frobnicate"`},
		{"mistyped flag is named", []string{"ingest", "--colour", "x"}, 1, "", "unknown flag: --colour"},
		{"no paths", []string{"ingest"}, 1, "", "qvmeter ingest [--data DIR]"},
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
