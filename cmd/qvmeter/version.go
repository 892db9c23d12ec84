package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// The release build (scripts/release.sh) stamps these with
// -ldflags "-X main.Version=… -X main.Commit=… -X main.BuildDate=…". A plain
// `go build` leaves them empty and the build info of the module fills in
// what it knows.
var (
	Version   = ""
	Commit    = ""
	BuildDate = ""
)

func init() {
	register("version", func(stdout, stderr io.Writer) command { return &versionCommand{stdout: stdout, stderr: stderr} })
}

type versionCommand struct{ stdout, stderr io.Writer }

func (c *versionCommand) Synopsis() string { return "print the version of qvmeter" }

const versionUsage = `qvmeter version

Prints qvmeter's version, the commit it was built from, the build date, the
Go version and platform, and the version of the DuckDB library linked into
the binary (asked from the library itself). The same text as qvmeter --version.

Examples:

	qvmeter version
	qvmeter --version
`

func (c *versionCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("version", c.stdout, versionUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return printVersion(ctx, c.stdout)
}

// printVersion writes the text of qvmeter version and qvmeter --version:
//
//	qvmeter 0.2.0
//	commit  3f2a9c1d0b7e
//	built   2026-12-01T22:00:00Z
//	go      go1.26.8 windows/amd64
//	duckdb  v1.1.3 19864453f7
func printVersion(ctx context.Context, w io.Writer) error {
	duck, err := duckDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("asking DuckDB its version: %w", err)
	}
	b := stampedBuild()
	_, err = fmt.Fprintf(w, "qvmeter %s\ncommit  %s\nbuilt   %s\ngo      %s %s/%s\nduckdb  %s\n",
		b.version, b.commit, b.date, runtime.Version(), runtime.GOOS, runtime.GOARCH, duck)
	return err
}

// version is the short form recorded in state.json as what computed it:
// the version, the commit and the Go version.
func version() string {
	b := stampedBuild()
	v := b.version
	if b.commit != "unknown" {
		v += " " + b.commit
	}
	return v + " " + runtime.Version()
}

type build struct{ version, commit, date string }

// stampedBuild is what the linker stamped, completed from the build info
// the go command records (module version, VCS revision and time).
func stampedBuild() build {
	b := build{version: Version, commit: Commit, date: BuildDate}
	info, ok := debug.ReadBuildInfo()
	if b.version == "" {
		b.version = "(devel)"
		if ok && info.Main.Version != "" {
			b.version = info.Main.Version
		}
	}
	if b.commit == "" && ok {
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.commit = s.Value
				if len(b.commit) > 12 {
					b.commit = b.commit[:12]
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if b.commit != "" && modified {
			b.commit += "-dirty"
		}
	}
	if b.commit == "" {
		b.commit = "unknown"
	}
	if b.date == "" {
		b.date = "unknown (not a release build)"
	}
	return b
}

// duckDBVersion asks the linked DuckDB library for its version and source
// id, so the answer is whatever library the binary really carries.
func duckDBVersion(ctx context.Context) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v, id string
	if err := db.QueryRowContext(ctx, "SELECT library_version, source_id FROM pragma_version()").Scan(&v, &id); err != nil {
		return "", err
	}
	return v + " " + id, nil
}
