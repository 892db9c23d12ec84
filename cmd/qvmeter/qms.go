package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/qvmeter/qvmeter/qms"
)

func init() {
	register("qms", func(stdout, stderr io.Writer) command { return &qmsCommand{stdout: stdout, stderr: stderr} })
}

type qmsCommand struct{ stdout, stderr io.Writer }

func (c *qmsCommand) Synopsis() string {
	return "store the servers' own CAL state (QMS API or CalData.pgo.xml) as a dated snapshot"
}

// passwordEnv is where the QMS account's password is read from when no
// --password-file is given: never from a flag, which ps would show.
const passwordEnv = "QVMETER_QMS_PASSWORD"

const qmsUsage = `qvmeter qms pull --url URL [--user DOMAIN\name] [--password-file FILE] [--data DIR]
qvmeter qms import [--server NAME] [--data DIR] FILE...

Stores the CAL state the QlikView servers keep themselves (who holds which
named and document CAL, last used, quarantined until, licence leases) as
a snapshot of the day in DIR/qms/date=YYYY-MM-DD/cals.parquet (replacing
that day's; written beside it and renamed into place, so a failure leaves
what was stored as it was). The reports assigned, never-used,
orphan-document-cals and leases and qvmeter revoke read the latest one.

pull asks the QlikView Management Service API (SOAP over HTTP on port
4799, NTLM): GetTimeLimitedServiceKey, GetServices(QlikViewServer), then
for every server GetCALConfiguration (scope All), GetUserDocuments and
GetDocumentMetaData (scope Licensing) for each document. It only reads.
The account must be in the local group "QlikView Management API" on the
QMS machine. Its password comes from --password-file or the environment
variable ` + passwordEnv + `, never from a flag.

import reads files instead: CalData.pgo.xml and BorrowedCalData.pgo.xml,
which a QlikView Server with a CAL licence writes beside its .pgo files
when Settings.ini has PgoAsXmlAlso=1 under [Settings 7] (--server names
the server they come from), or the CSV or JSON export documented in the
README (columns server, cal_type, user, document, last_used,
quarantined_until, machine, leased_at, document_deleted, removed). All
files of one import make one snapshot; a file of another shape is refused
and nothing is stored.

Examples:

	QVMETER_QMS_PASSWORD=… qvmeter qms pull --url http://qms01:4799/QMS/Service --user 'CORP\svc_qvmeter' --data /srv/qvmeter
	qvmeter qms import --server QVS-PROD-01 --data /srv/qvmeter '\\qvs01\c$\ProgramData\QlikTech\Documents\CalData.pgo.xml'
`

// qmsFlags are the flags that say how to reach the QMS.
type qmsFlags struct {
	url, user, passwordFile *string
	timeout                 *time.Duration
}

func addQMSFlags(fs *pflag.FlagSet) *qmsFlags {
	return &qmsFlags{
		url:          fs.String("url", "", "the QMS API: http://<qms-host>:4799/QMS/Service (default the licence file's [qms] url)"),
		user:         fs.String("user", "", `account DOMAIN\name (default the licence file's [qms] user)`),
		passwordFile: fs.String("password-file", "", "file holding the account's password (default $"+passwordEnv+")"),
		timeout:      fs.Duration("timeout", qms.DefaultTimeout, "longest wait for one answer of the QMS"),
	}
}

// client builds a QMS client from the flags, falling back on the licence
// file's [qms] section.
func (f *qmsFlags) client(section metering.QMS) (*qms.Client, error) {
	url, user, passwordFile := *f.url, *f.user, *f.passwordFile
	if url == "" {
		url = section.URL
	}
	if user == "" {
		user = section.User
	}
	if passwordFile == "" {
		passwordFile = section.PasswordFile
	}
	if url == "" {
		return nil, errors.New("no QMS: give --url http://<qms-host>:4799/QMS/Service or set [qms] url in the licence file")
	}
	password := os.Getenv(passwordEnv)
	if passwordFile != "" {
		data, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	}
	if user != "" && password == "" {
		return nil, fmt.Errorf("no password for %s: give --password-file or set %s", user, passwordEnv)
	}
	return qms.NewClient(qms.Options{URL: url, User: user, Password: password, Timeout: *f.timeout})
}

func (c *qmsCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "pull" && args[0] != "import") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(c.stdout, qmsUsage)
			return errHelp
		}
		if len(args) == 0 {
			return usageErrorf("want a subcommand: pull or import (see qvmeter qms --help)")
		}
		return usageErrorf("no qms subcommand %q%s: want pull or import", args[0], didYouMean(args[0], []string{"pull", "import"}))
	}
	fs := newFlagSet("qms "+args[0], c.stdout, qmsUsage)
	data := fs.String("data", "qvmeter-data", "data folder the snapshot is stored in")
	license := fs.String("license", "", "licence file whose [qms] section gives defaults")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	wait := waitFlag(fs)
	var flags *qmsFlags
	var server *string
	if args[0] == "pull" {
		flags = addQMSFlags(fs)
	} else {
		server = fs.String("server", "", "the QlikView Server a PGO file comes from (PGO files do not name it; default the licence file's [qms] server)")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var section metering.QMS
	if *license != "" {
		lic, _, err := metering.LoadLicense(*license)
		if err != nil {
			return err
		}
		section = lic.QMS
	}
	now := time.Now().UTC()
	var (
		recs []qms.Record
		from string
		err  error
	)
	if args[0] == "pull" {
		if fs.NArg() > 0 {
			return usageErrorf("qms pull: unexpected argument %q", fs.Arg(0))
		}
		recs, from, err = pullQMS(ctx, flags, section, now)
	} else {
		if fs.NArg() == 0 {
			return usageErrorf("qms import: want at least one FILE (CalData.pgo.xml, BorrowedCalData.pgo.xml, or a CSV/JSON export)")
		}
		if *server == "" {
			*server = section.Server
		}
		recs, from, err = importQMS(c.stderr, fs.Args(), *server, now, *quiet)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o777); err != nil {
		return err
	}
	unlock, err := dataset.Lock(ctx, *data, *wait)
	if err != nil {
		return err
	}
	defer unlock()
	path, err := qms.WriteSnapshot(*data, now, recs)
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(c.stdout, "%s from %s → %s\n", describeRecords(recs), from, path)
	}
	return nil
}

// pullQMS reads the CAL state from the QMS.
func pullQMS(ctx context.Context, flags *qmsFlags, section metering.QMS, now time.Time) ([]qms.Record, string, error) {
	client, err := flags.client(section)
	if err != nil {
		return nil, "", err
	}
	defer client.Close()
	recs, err := client.Pull(ctx, now)
	if err != nil {
		return nil, "", err
	}
	url := *flags.url
	if url == "" {
		url = section.URL
	}
	return recs, url, nil
}

// importQMS reads the CAL state from files; all or nothing.
func importQMS(stderr io.Writer, files []string, server string, now time.Time, quiet bool) ([]qms.Record, string, error) {
	var all []qms.Record
	for _, f := range files {
		recs, note, err := qms.ImportFile(f, server, now)
		if err != nil {
			return nil, "", fmt.Errorf("%w (nothing stored)", err)
		}
		if note != "" && !quiet {
			fmt.Fprintf(stderr, "qvmeter qms import: %s: %s\n", f, note)
		}
		all = append(all, recs...)
	}
	return all, strings.Join(files, ", "), nil
}

// describeRecords counts records by licence type.
func describeRecords(recs []qms.Record) string {
	byType := map[string]int{}
	for _, r := range recs {
		byType[r.CALType]++
	}
	var parts []string
	for t, n := range byType {
		parts = append(parts, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(parts)
	what := "no CAL"
	if len(parts) > 0 {
		what = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%d CALs (%s)", len(recs), what)
}

// qmsReports are the reports qvmeter run adds when a QMS snapshot exists.
var qmsReports = []string{"assigned", "never-used", "orphan-document-cals", "leases"}

// refreshQMS is qvmeter run's QMS step: it pulls from the licence file's
// [qms] url, or imports its [qms] import file, and stores the snapshot.
func refreshQMS(ctx context.Context, stderr io.Writer, section metering.QMS, dataDir string, now time.Time) (string, error) {
	var (
		recs []qms.Record
		from string
		err  error
	)
	if section.Import != "" {
		recs, from, err = importQMS(stderr, []string{section.Import}, section.Server, now, false)
	} else {
		none, timeout := "", qms.DefaultTimeout
		recs, from, err = pullQMS(ctx, &qmsFlags{url: &none, user: &none, passwordFile: &none, timeout: &timeout}, section, now)
	}
	if err != nil {
		return "", err
	}
	path, err := qms.WriteSnapshot(dataDir, now, recs)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s from %s → %s", describeRecords(recs), from, path), nil
}
