package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenHelpDocumentsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"gen", "--help"}, &stdout, &stderr))
	help := stdout.String()
	for _, flag := range []string{
		"--out DIR", "--servers N", "--users N", "--documents N", "--start YYYY-MM-DD", "--days N",
		"--seed N", "--size SIZE", "--era ERA", "--convert-date YYYY-MM-DD",
		"--named N", "--documents-cals N", "--session N", "--usage N", "--professional N",
		"--analyzer N", "--capacity-minutes N", "--overage OVERAGE", "--mess",
	} {
		require.Contains(t, help, flag)
	}
	require.Contains(t, help, "Examples:")
	require.Contains(t, help, "(default auto)")
}

func TestGenFlagMistakes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no output folder", []string{"gen"}, "--out is required"},
		{"unknown flag", []string{"gen", "--out", "x", "--colour"}, "unknown flag: --colour"},
		{"bad size", []string{"gen", "--out", "x", "--size", "big"}, "want a number of bytes"},
		{"bad era", []string{"gen", "--out", "x", "--era", "lef"}, "want cal, slk or convert"},
		{"bad date", []string{"gen", "--out", "x", "--start", "1 Feb"}, `invalid argument "1 Feb"`},
		{"negative pool", []string{"gen", "--out", "x", "--named", "-3"}, "want a number ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, exitUsage, run(context.Background(), tt.args, &stdout, &stderr))
			require.Contains(t, stderr.String(), tt.want)
			require.NoDirExists(t, "x", "nothing generated")
		})
	}
}

func TestGenSetsThePoolsItIsGiven(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"gen", "--out", dir, "--users", "20", "--days", "3", "--era", "cal", "--named", "7", "--usage", "0"}
	require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
	license, err := os.ReadFile(filepath.Join(dir, "license.toml"))
	require.NoError(t, err)
	require.Contains(t, string(license), "named = 7\n")
	require.Contains(t, string(license), "usage = 0\n")
	require.NotContains(t, string(license), "[slk]")
	require.Contains(t, stdout.String(), "sessions")
}

// TestCommittedEstateIsReproducible runs the command in
// scripts/fixtures.sh into a temporary folder and compares every file with
// fixtures/estate byte for byte.
func TestCommittedEstateIsReproducible(t *testing.T) {
	root := filepath.Join("..", "..")
	script, err := os.ReadFile(filepath.Join(root, "scripts", "fixtures.sh"))
	require.NoError(t, err)
	var args []string
	for line := range strings.Lines(string(script)) {
		if rest, ok := strings.CutPrefix(line, `"$qvmeter" `); ok {
			args = strings.Fields(rest)
		}
	}
	require.NotEmpty(t, args, "scripts/fixtures.sh runs \"$qvmeter\" gen …")
	dir := t.TempDir()
	for i, a := range args {
		if a == `"$out"` {
			args[i] = dir
		}
	}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
	committed := filepath.Join(root, "fixtures", "estate")
	want, err := os.ReadDir(committed)
	require.NoError(t, err)
	got, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Equal(t, len(want), len(got), "number of files")
	for _, e := range want {
		a, err := os.ReadFile(filepath.Join(committed, e.Name()))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		require.True(t, bytes.Equal(a, b), "%s differs from the committed one: run make fixtures", e.Name())
	}
}
