package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/parse"
	"github.com/spf13/pflag"
)

// newFlagSet returns a flag set whose --help (-h) prints the command's help
// to stdout: usage, the flags, then the usage text's Examples section,
// which every command has. Mistakes are returned, never printed or exited
// on: parseFlags turns them into usage errors.
func newFlagSet(name string, stdout io.Writer, usage string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.BoolP("help", "h", false, "show this help")
	text, examples, _ := strings.Cut(usage, "\nExamples:\n")
	fs.Usage = func() {
		fmt.Fprint(stdout, text)
		fmt.Fprint(stdout, "\nFlags:\n")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		if examples != "" {
			fmt.Fprint(stdout, "\nExamples:\n"+examples)
		}
	}
	return fs
}

// parseFlags parses args: --help prints the help and ends the command with
// errHelp; a mistake is a usage error, with the nearest flag name for an
// unknown one.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if help, _ := fs.GetBool("help"); help {
		fs.Usage()
		return errHelp
	}
	return flagError(fs, err)
}

// flagError turns an error of fs.Parse into a usage error.
func flagError(fs *pflag.FlagSet, err error) error {
	var unknown *pflag.NotExistError
	if errors.As(err, &unknown) && unknown.GetSpecifiedName() != "" {
		var names []string
		fs.VisitAll(func(f *pflag.Flag) { names = append(names, "--"+f.Name) })
		return &usageError{fmt.Errorf("%v%s", err, didYouMean("--"+unknown.GetSpecifiedName(), names))}
	}
	if err != nil {
		return &usageError{err}
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

// compactAboveFlag is --compact-above N: a month partition with more than N
// files is compacted by the run (ingest.Options.CompactAbove); 0 never.
type compactAboveFlag struct{ n int }

func newCompactAboveFlag(fs *pflag.FlagSet) *compactAboveFlag {
	f := &compactAboveFlag{n: ingest.DefaultCompactAbove}
	fs.Var(f, "compact-above", "merge a month's files once it has more than `N` (0: never)")
	return f
}

func (f *compactAboveFlag) String() string { return strconv.Itoa(f.n) }

func (f *compactAboveFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of files, or 0 for never")
	}
	f.n = n
	return nil
}

func (f *compactAboveFlag) Type() string { return "N" }

// option is the value for ingest.Options.CompactAbove, where negative is
// never and 0 the default.
func (f *compactAboveFlag) option() int {
	if f.n == 0 {
		return -1
	}
	return f.n
}

// noArgs refuses positional arguments for a command that takes none.
func noArgs(fs *pflag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// ratioFlag is a share from 0 to 1, such as --max-reject-ratio.
type ratioFlag float64

func (r *ratioFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return errors.New("want a share from 0 to 1, such as 0.01 for 1%")
	}
	*r = ratioFlag(v)
	return nil
}

func (r *ratioFlag) String() string { return strconv.FormatFloat(float64(*r), 'g', -1, 64) }

func (r *ratioFlag) Type() string { return "RATIO" }
