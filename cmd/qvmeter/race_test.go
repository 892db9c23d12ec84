package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
)

// sharedDir is a folder every user can enter (t.TempDir is 0700), for the
// binary and the data folder an unprivileged child reads.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "qvmeter-shared-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(path, 0o755) // the read-only copy
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	return dir
}

// asCommand makes this test binary the qvmeter command (TestMain).
const asCommand = "QVMETER_TEST_AS_COMMAND=1"

// The race tests run this test binary as qvmeter, as separate processes:
// it is the command built with the test's code, without the minute a
// separate build of DuckDB's bindings takes.
func TestMain(m *testing.M) {
	if os.Getenv("QVMETER_TEST_AS_COMMAND") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// qvmeterCommand copies this test binary, the command, into dir, where an
// unprivileged user can run it.
func qvmeterCommand(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "qvmeter")
	data, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	return bin
}

// qvProcess runs the built binary and returns its exit code and output.
func qvProcess(ctx context.Context, bin string, cred *syscall.Credential, args ...string) (int, string, string) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), asCommand)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = append(cmd.Env, "HOME="+os.TempDir())
	}
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		code = -1
		stderr.WriteString(err.Error())
	}
	return code, stdout.String(), stderr.String()
}

// readReports reads every file of a run's report folder.
func readReports(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(data)
	}
	return files
}

// While the nightly run works, an administrator runs reports and meter for
// another as-of time, as separate processes, over and over: the run's
// reports equal a clean run's, the stored state is the run's, the meters
// were refused (the run holds the writer lock), and every report that got
// a state printed a whole one. Then the same reports work on a read-only
// copy of the data folder, as an unprivileged user.
func TestRunRacedByReportsAndMeterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs qvmeter as separate processes")
	}
	shared := sharedDir(t)
	bin := qvmeterCommand(t, shared)
	license := filepath.Join(shared, "license.toml") // where an unprivileged user can read it
	text, err := os.ReadFile(filepath.Join(estate, "license.toml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(license, text, 0o644))
	logs, err := filepath.Abs(estate)
	require.NoError(t, err)
	ctx := context.Background()

	// Both runs ingest on one worker (GOMAXPROCS=1): with several, which
	// worker writes which part file varies, and with it the order the
	// replay meets a user's spellings, which picks the one shown.
	oneWorker := append(os.Environ(), asCommand, "GOMAXPROCS=1")
	clean := filepath.Join(shared, "clean")
	cleanRun := exec.Command(bin, "run", "--quiet", "--data", clean, "--license", license, "--as-of", "2024-03-31", logs)
	cleanRun.Env = oneWorker
	out, err := cleanRun.CombinedOutput()
	require.NoError(t, err, string(out))
	want := readReports(t, filepath.Join(clean, "reports", "2024-03-31"))

	data := filepath.Join(shared, "data")
	run := exec.Command(bin, "run", "--data", data, "--license", license, "--as-of", "2024-03-31", logs)
	run.Env = oneWorker
	var runErr syncBuffer
	run.Stderr = &runErr
	require.NoError(t, run.Start())
	var done atomic.Bool
	var wg sync.WaitGroup
	var reportsOK, metersRefused atomic.Int64
	var failures sync.Map
	wg.Add(2)
	go func() { // reports for another as-of time, and for the stored one
		defer wg.Done()
		for i := 0; !done.Load(); i++ {
			args := []string{"report", "summary", "--data", data, "--format", "csv"}
			if i%2 == 0 {
				args = append(args, "--as-of", "2024-03-15")
			}
			code, stdout, stderr := qvProcess(ctx, bin, nil, args...)
			switch {
			case code == 0 && strings.HasPrefix(stdout, "as_of,"):
				reportsOK.Add(1)
			case code != 0 && (strings.Contains(stderr, "no sessions dataset") || strings.Contains(stderr, "no such file")):
				// before the run's first commit
			default:
				failures.Store("report "+strings.Join(args, " "), stderr+stdout)
			}
		}
	}()
	go func() { // meter for another as-of time, until the run has metered
		defer wg.Done()
		for !done.Load() && !strings.Contains(runErr.String(), "meter ") {
			code, _, stderr := qvProcess(ctx, bin, nil, "meter", "--data", data, "--as-of", "2024-03-15")
			switch {
			case code == 1 && strings.Contains(stderr, "being written by another qvmeter (pid"):
				metersRefused.Add(1)
			case code == 1 && strings.Contains(stderr, "no sessions dataset"):
				// before the run created the data folder
			default:
				failures.Store("meter "+stderr, code)
			}
		}
	}()
	err = run.Wait()
	done.Store(true)
	wg.Wait()
	require.NoError(t, err, runErr.String())
	failures.Range(func(k, v any) bool {
		t.Errorf("%v: %v", k, v)
		return true
	})
	t.Logf("during the run: %d reports printed, %d meters refused", reportsOK.Load(), metersRefused.Load())
	require.Positive(t, metersRefused.Load(), "a meter ran while the run held the lock")
	got := readReports(t, filepath.Join(data, "reports", "2024-03-31"))
	// summary.txt tells the run's own story (step times, folders): only its
	// outcome must agree.
	require.Contains(t, got["summary.txt"], "exit code 0")
	delete(got, "summary.txt")
	delete(want, "summary.txt")
	require.Len(t, got, len(want))
	for name := range want {
		require.Equal(t, want[name], got[name], "the run's %s equals a clean run's", name)
	}
	stored, err := dataset.ReadStateInfo(data)
	require.NoError(t, err)
	require.Equal(t, time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), stored.AsOf, "the stored state is the run's")
	require.Equal(t, license, stored.LicenseFile)

	// A read-only copy, read by a user who owns none of it.
	readOnly := filepath.Join(shared, "read-only")
	out, err = exec.Command("cp", "-a", data, readOnly).CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command("chmod", "-R", "a-w", readOnly).CombinedOutput()
	require.NoError(t, err, string(out))
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody
		if code, _, stderr := qvProcess(ctx, bin, cred, "--help"); code != 0 {
			t.Skipf("cannot run a child as nobody here: %s", stderr)
		}
	}
	for _, args := range [][]string{
		{"report", "idle-cals", "--data", readOnly, "--format", "csv"},
		{"report", "idle-cals", "--data", readOnly, "--format", "csv", "--as-of", "2024-03-15"},
		{"report", "summary", "--data", readOnly, "--format", "csv", "--as-of", "2024-03-20T12:00:00.250Z"},
	} {
		code, stdout, stderr := qvProcess(ctx, bin, cred, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		if len(args) == 6 {
			require.Equal(t, want["idle-cals.csv"], stdout, "the stored state serves a read-only folder")
		}
	}
	entries, err := os.ReadDir(readOnly)
	require.NoError(t, err)
	require.Len(t, entries, 7, "nothing was written (catalog.json, lock, rejects, reports, sessions, state, .states)")
}

// syncBuffer is a bytes.Buffer the child's output goroutine writes while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
