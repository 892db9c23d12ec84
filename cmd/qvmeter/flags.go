package main

import (
	"fmt"
	"io"
	"time"

	"github.com/qvmeter/qvmeter/parse"
	"github.com/spf13/pflag"
)

// newFlagSet returns a flag set that prints usage (the command's text, then
// its flags) to stderr and reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, usage string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		if fs.HasFlags() {
			fmt.Fprint(stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; --help prints usage and ends the command with no
// error, any other flag mistake is said on stderr and ends it with
// errUsage. (pflag prints nothing itself when it continues on error.)
func parseFlags(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == pflag.ErrHelp:
		return errHelp
	case err != nil:
		fmt.Fprintf(fs.Output(), "qvmeter %s: %v\nRun 'qvmeter %s --help' for usage.\n", fs.Name(), err, fs.Name())
		return errUsage
	}
	return nil
}

// waitFlag is --wait of the commands that write under the data folder.
func waitFlag(fs *pflag.FlagSet) *time.Duration {
	return fs.Duration("wait", 0, "wait this long for another qvmeter writing DIR to finish (e.g. 10m; 0: refuse at once)")
}

// timezoneFlag is --timezone of ingest and run: repeatable [GLOB=]ZONE
// rules, checked as they are parsed; put them over the licence's
// [timezones] with Over.
func timezoneFlag(fs *pflag.FlagSet) *parse.TimeZones {
	zones := new(parse.TimeZones)
	fs.Var(zoneRules{zones}, "timezone", "zone of the times without an offset of the servers GLOB matches (case-insensitive; *, ?, [a-z]); "+
		"ZONE an IANA name such as America/New_York; without GLOB: every server no GLOB names; repeatable, and wins over the licence's [timezones]")
	return zones
}

// zoneRules is parse.TimeZones as a pflag.Value.
type zoneRules struct{ *parse.TimeZones }

func (zoneRules) Type() string { return "[GLOB=]ZONE" }

// rebuildFlag is --rebuild of ingest and run.
func rebuildFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("rebuild", false, "read every log again, the catalog's and the PATHs', into a new dataset version that replaces the old one in one commit (after a zone changed)")
}
