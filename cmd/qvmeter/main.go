// Command qvmeter reads QlikView Server session logs and answers the
// licensing questions the server cannot: idle named CALs, capacity minutes
// per month, session-CAL peaks. Each subcommand lives in its own file with
// its own flag set and a Run(ctx, args) method.
//
// Help goes to standard output, everything else a person should read
// (progress, warnings, errors) to standard error; written to a file or a
// pipe rather than a terminal, every line of standard error starts with an
// RFC 3339 time, so that a scheduler's log says when each thing happened.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

// command is one subcommand of qvmeter.
type command interface {
	// Run parses args (without the subcommand's name) and does the work.
	Run(ctx context.Context, args []string) error
	// Synopsis is the one line shown in qvmeter --help.
	Synopsis() string
}

// commands maps each subcommand's name to a constructor, so that every run
// gets a fresh flag set. Subcommands register themselves from init in their
// own files.
var commands = map[string]func(stdout, stderr io.Writer) command{}

func register(name string, newCommand func(stdout, stderr io.Writer) command) {
	commands[name] = newCommand
}

// exitUsage is the exit code of a command-line mistake (sysexits.h's
// EX_USAGE), apart from 1, a run that failed.
const exitUsage = 64

// exitError carries a process exit code other than 1 up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a command-line mistake: said with a pointer to the
// command's help, and exit code 64.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// errHelp ends a command whose help was asked for (and printed).
var errHelp = errors.New("help")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if !isTerminal(stderr) {
		stderr = &stampWriter{w: stderr, now: time.Now}
	}
	if len(args) == 0 {
		printUsage(stdout)
		fmt.Fprintln(stderr, "qvmeter: want a command")
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help":
		printUsage(stdout)
		return 0
	case "help":
		if len(args) == 1 {
			printUsage(stdout)
			return 0
		}
		// qvmeter help report idle-cals is qvmeter report idle-cals --help.
		args = append(args[1:], "--help")
	case "--version", "-version", "-v":
		if err := printVersion(ctx, stdout); err != nil {
			fmt.Fprintf(stderr, "qvmeter: %v\n", err)
			return 1
		}
		return 0
	}
	newCommand, ok := commands[args[0]]
	if !ok {
		names := make([]string, 0, len(commands))
		for name := range commands {
			names = append(names, name)
		}
		fmt.Fprintf(stderr, "qvmeter: unknown command %q%s\nRun 'qvmeter --help' for the commands.\n", args[0], didYouMean(args[0], names))
		return exitUsage
	}
	err := newCommand(stdout, stderr).Run(ctx, args[1:])
	var exit *exitError
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "qvmeter %s: %v\nRun 'qvmeter %s --help' for usage.\n", args[0], usage.err, args[0])
		return exitUsage
	case errors.As(err, &exit):
		fmt.Fprintf(stderr, "qvmeter %s: %v\n", args[0], exit.err)
		return exit.code
	default:
		fmt.Fprintf(stderr, "qvmeter %s: %v\n", args[0], err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `qvmeter reads QlikView Server session logs into a Parquet dataset and
reports licence use: idle CALs, Analyzer Capacity minutes, session-CAL peaks.

Usage:

	qvmeter <command> [arguments]
	qvmeter --version

Commands:

`)
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "	%-10s %s\n", name, commands[name](io.Discard, io.Discard).Synopsis())
	}
	fmt.Fprint(w, `
Use "qvmeter <command> --help" for more about a command.

Exit codes:

	0   all well
	1   the command failed, or some paths could not be read
	2   more lines were rejected than --max-reject-ratio allows (ingest, run)
	3   an alert of the licence file fired, or a log folder or server is silent (run)
	64  a mistake on the command line (unknown command, flag or value)

Examples:

	qvmeter run --data /srv/qvmeter --license license.toml /mnt/qvs01/logs
	qvmeter report idle-cals --data /srv/qvmeter --format table
	qvmeter explain 'CORP\alice' --data /srv/qvmeter
`)
}
