package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
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
	fs := newFlagSet("version", c.stdout, "qvmeter version\n\nPrints qvmeter's version and the Go version it was built with (also qvmeter --version).\n\nExamples:\n\n\tqvmeter version\n\tqvmeter --version\n")
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
