package main

import (
	"fmt"
	"io"
	"time"

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
