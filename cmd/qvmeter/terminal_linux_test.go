package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/qvmeter/qvmeter/reports"
)

// openTerminal opens a pseudo-terminal and returns its terminal side.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { tty.Close() })
	return tty
}

// TestParquetIsNotWrittenToATerminal pins that a binary format is refused
// on a terminal, as standard output or named by --output, and that a
// terminal gets the table format by default.
func TestParquetIsNotWrittenToATerminal(t *testing.T) {
	dir, license := meteredDataset(t)
	tty := openTerminal(t)
	base := []string{"report", "summary", "--data", dir, "--license", license, "--as-of", "2024-03-31"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"parquet to standard output", []string{"--format", "parquet"}},
		{"parquet to --output -", []string{"--format", "parquet", "--output", "-"}},
		{"parquet to a terminal named by --output", []string{"--format", "parquet", "--output", tty.Name()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), append(append([]string{}, base...), tc.args...), tty, &stderr)
			require.Equal(t, exitUsage, code, stderr.String())
			require.Contains(t, stderr.String(), "parquet is binary and this is a terminal")
		})
	}
	summary, _ := reports.Lookup("summary")
	format, err := outputFormat("", "", formats(summary), tty)
	require.NoError(t, err)
	require.Equal(t, "table", format, "a terminal gets the table format")
}
