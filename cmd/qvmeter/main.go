// Command qvmeter reads QlikView Server session logs and answers the
// licensing questions the server cannot: idle named CALs, capacity minutes
// per month, session-CAL peaks. Each subcommand lives in its own file with
// its own flag set and a Run(ctx, args) method.
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

// exitError carries a process exit code other than 1 up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errUsage marks a command-line mistake and errHelp a request for help: in
// both cases the usage text has been printed already.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	newCommand, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "qvmeter: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 1
	}
	err := newCommand(stdout, stderr).Run(ctx, args[1:])
	var exit *exitError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		return 1
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
	fmt.Fprint(w, "\nUse \"qvmeter <command> --help\" for more about a command.\n")
}
