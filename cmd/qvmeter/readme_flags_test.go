package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every flag of the commands an administrator runs is in the README, so a
// flag added to --help (such as run's --compact-above) is documented
// there too. gen, the developers' estate simulator, is documented by its
// --help.
func TestREADMENamesEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	flag := regexp.MustCompile(`(?m)^\s+(?:-[a-z], )?(--[a-z][a-z-]*)`)
	for _, command := range []string{"explain", "ingest", "meter", "qms pull", "qms import", "report", "revoke", "run"} {
		code, help, stderr := runQV(t, append(strings.Fields(command), "--help")...)
		require.Equal(t, 0, code, stderr)
		flags := flag.FindAllStringSubmatch(help, -1)
		require.NotEmpty(t, flags, command)
		for _, f := range flags {
			if f[1] == "--help" {
				continue
			}
			require.Contains(t, string(readme), f[1], "qvmeter %s %s is not in README.md", command, f[1])
		}
	}
}
