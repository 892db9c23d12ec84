package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// Version is set at build time with -ldflags "-X main.Version=…"; without it
// the module version or VCS revision from the build info is shown.
var Version = ""

func init() {
	register("version", func(stdout, stderr io.Writer) command { return &versionCommand{stdout: stdout, stderr: stderr} })
}

type versionCommand struct{ stdout, stderr io.Writer }

func (c *versionCommand) Synopsis() string { return "print the version of qvmeter" }

func (c *versionCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("version", c.stderr, "qvmeter version\n\nPrints qvmeter's version and the Go version it was built with.\n")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "qvmeter %s\n", version())
	return nil
}

func version() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v + " " + info.GoVersion
}

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
// error, any other flag mistake with errUsage.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == pflag.ErrHelp:
		return errHelp
	case err != nil:
		return errUsage
	}
	return nil
}
