package dataset

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Mode is how a state assigned licences to sessions.
type Mode uint8

const (
	// Reconstruct trusts the CAL Type each line records.
	Reconstruct Mode = iota
	// Simulate ignores it and assigns by the server's order against the licence.
	Simulate
)

func (m Mode) String() string {
	if m == Simulate {
		return "simulate"
	}
	return "reconstruct"
}

// MarshalText writes the mode as state.json spells it.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads "reconstruct" or "simulate".
func (m *Mode) UnmarshalText(text []byte) error {
	switch string(text) {
	case "reconstruct", "":
		*m = Reconstruct
	case "simulate":
		*m = Simulate
	default:
		return fmt.Errorf("mode %q: want reconstruct or simulate", text)
	}
	return nil
}

// StateInfo is state.json: what the state tables were computed from.
type StateInfo struct {
	Mode Mode `json:"mode"` // "reconstruct" or "simulate"
	// AsOf is the time the state was computed for, UTC, to the millisecond
	// (RFC 3339 in state.json, with a fraction where it is not whole seconds).
	AsOf           time.Time `json:"as_of"`
	LicenseFile    string    `json:"license_file,omitempty"`
	LicenseSHA256  string    `json:"license_sha256,omitempty"`
	DatasetVersion string    `json:"dataset_version"` // Files.Version of the dataset replayed
	Sessions       int64     `json:"sessions"`        // sessions replayed (ended at or before as_of, not excluded)
	Excluded       int64     `json:"excluded"`        // sessions skipped by exclude patterns
	Later          int64     `json:"later"`           // sessions that ended after as_of
	ComputedBy     string    `json:"computed_by"`     // qvmeter version
	// Simulate mode: sessions given the CAL type their line records, and
	// sessions given another one (or denied).
	SimulatedSameAsLogged    int64 `json:"simulated_same_as_logged,omitempty"`
	SimulatedOtherThanLogged int64 `json:"simulated_other_than_logged,omitempty"`
}

// AsOfLayout prints an as-of time: RFC 3339, with milliseconds where it
// has them.
const AsOfLayout = "2006-01-02T15:04:05.999Z07:00"

// AsOfTime is t as a state records it: UTC, to the millisecond (the
// precision of every time in the dataset).
func AsOfTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// Want is what a report asks of a state.
type Want struct {
	DatasetVersion string    // Files.Version of the dataset now
	AsOf           time.Time // zero: whatever the state was computed for
	LicenseSHA256  string    // the digest of the licence to meter with ("" for none)
	// AnyLicense skips the licence comparison: the licence the state
	// recorded cannot be read any more, which is no reason to recompute.
	AnyLicense bool
}

// Fits is the state's freshness rule: a state serves a report when it was
// computed from the same dataset, for the wanted as-of time (to the
// millisecond) and from the same licence file content.
func (info *StateInfo) Fits(w Want) bool {
	return info.DatasetVersion == w.DatasetVersion &&
		(w.AnyLicense || info.LicenseSHA256 == w.LicenseSHA256) &&
		(w.AsOf.IsZero() || info.AsOf.Equal(AsOfTime(w.AsOf)))
}

// The state's layout. DIR/state is a symbolic link to one folder of
// DIR/.states, which holds the tables and state.json of one computation:
// replacing the link (a rename) is the single atomic step that replaces the
// state. Data folders written before this layout have DIR/state as a plain
// folder; the first writer moves it under DIR/.states.
const (
	statesDir    = ".states"
	stateTmpName = ".state-link-"
)

// ErrTornState means a state folder's state.json is empty or unreadable: a
// writer recomputes such a state, a reader computes its own.
type ErrTornState struct {
	Path string
	Err  error
}

func (e *ErrTornState) Error() string {
	return fmt.Sprintf("%s is torn (%v); qvmeter meter or run recomputes it", e.Path, e.Err)
}

func (e *ErrTornState) Unwrap() error { return e.Err }

// State is one state folder, pinned while it is open: a writer replacing
// the state leaves a folder a reader holds in place (see ReplaceState).
type State struct {
	Dir     string // the folder holding the tables and state.json
	Info    StateInfo
	pin     *os.File // state.json, under a shared lock
	private bool
}

// Close releases the state; a private state is removed.
func (s *State) Close() error {
	err := s.pin.Close()
	if s.private {
		err = errors.Join(err, os.RemoveAll(s.Dir))
	}
	return err
}

// OpenState resolves DIR/state once and pins the folder it names, so that
// every table read comes from one computation. It returns an error wrapping
// fs.ErrNotExist when the folder has no state, and *ErrTornState when its
// state.json cannot be read. It writes nothing: a read-only data folder
// serves it.
func OpenState(dataDir string) (*State, error) {
	for attempt := 0; ; attempt++ {
		dir, err := resolveState(dataDir)
		if err != nil {
			return nil, err
		}
		st, err := pinState(dir)
		if errors.Is(err, fs.ErrNotExist) && attempt < 5 {
			// Replaced and removed between resolving and pinning: resolve again.
			if again, _ := resolveState(dataDir); again != dir {
				continue
			}
		}
		return st, err
	}
}

// resolveState returns the folder DIR/state names: the target of the link,
// or of the pointer file where the platform has no symbolic links, or
// DIR/state itself in a data folder of the older layout.
func resolveState(dataDir string) (string, error) {
	link := filepath.Join(dataDir, StateDir)
	target, err := os.Readlink(link)
	if err == nil {
		if !filepath.IsAbs(target) {
			target = filepath.Join(dataDir, target)
		}
		return target, nil
	}
	info, statErr := os.Lstat(link)
	switch {
	case statErr != nil:
		return "", fmt.Errorf("no licence state under %s: %w", dataDir, statErr)
	case info.IsDir():
		return link, nil // a data folder of the older layout
	case info.Mode().IsRegular():
		raw, err := os.ReadFile(link)
		if err != nil {
			return "", err
		}
		rel := filepath.FromSlash(strings.TrimSpace(string(raw)))
		if !strings.HasPrefix(rel, statesDir+string(filepath.Separator)) || strings.Contains(rel, "..") {
			return "", &ErrTornState{Path: link, Err: fmt.Errorf("%q names no folder of %s", raw, statesDir)}
		}
		return filepath.Join(dataDir, rel), nil
	}
	return "", fmt.Errorf("%s: neither the link to the state nor a folder: %w", link, err)
}

// pinTimeout bounds how long a reader waits for a writer that is removing
// the folder it resolved.
const pinTimeout = 10 * time.Second

// pinState opens dir/state.json under a shared lock and reads it.
func pinState(dir string) (*State, error) {
	path := filepath.Join(dir, StateInfoFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	for started := time.Now(); ; {
		ok, err := tryLock(f, false)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("pinning %s: %w", path, err)
		}
		if ok {
			break
		}
		if time.Since(started) > pinTimeout {
			f.Close()
			return nil, fmt.Errorf("pinning %s: a writer holds it", path)
		}
		time.Sleep(lockPoll)
	}
	// A writer may have removed the folder before we locked it.
	opened, err := f.Stat()
	if err == nil {
		var now os.FileInfo
		if now, err = os.Stat(path); err == nil && !os.SameFile(opened, now) {
			err = fs.ErrNotExist
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	st := &State{Dir: dir, pin: f}
	if err := json.Unmarshal(raw, &st.Info); err != nil {
		f.Close()
		return nil, &ErrTornState{Path: path, Err: err}
	}
	return st, nil
}

// ReadStateInfo reads the state.json DIR/state names.
func ReadStateInfo(dataDir string) (*StateInfo, error) {
	st, err := OpenState(dataDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return &st.Info, nil
}

// PrivateState writes a state with write, which fills the folder it is
// given, into a new temporary folder outside the data folder, and returns
// it open: the state of a report whose parameters differ from the stored
// state's, or that cannot write. Close removes it.
func PrivateState(write func(dir string) error) (*State, error) {
	dir, err := os.MkdirTemp("", "qvmeter-state-")
	if err != nil {
		return nil, err
	}
	if err := write(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	st, err := pinState(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	st.private = true
	return st, nil
}

// ReplaceState writes a new state with write, which fills the folder it is
// given, and makes it the data folder's state in one atomic step. The
// caller holds the writer lock (Lock).
//
// The tables are written to a new folder DIR/.states/<n>-<random>, every
// file and the folder are synced, and DIR/state, a symbolic link, is
// replaced by a link to it (a new link renamed over the old one, then the
// data folder synced): a reader resolves the link once and sees the old
// state or the new one, whole. Then the folders of older states are
// removed, except the previous one and any that a reader has pinned
// (OpenState), along with the leftovers of writers that died.
func ReplaceState(dataDir string, write func(dir string) error) error {
	states := filepath.Join(dataDir, statesDir)
	if err := os.MkdirAll(states, 0o755); err != nil {
		return err
	}
	previous, _ := resolveState(dataDir)
	name, err := nextStateName(states)
	if err != nil {
		return err
	}
	dir := filepath.Join(states, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := write(dir); err != nil {
		os.RemoveAll(dir)
		return err
	}
	if err := syncFolder(dir); err != nil {
		os.RemoveAll(dir)
		return err
	}
	if err := SyncDir(states); err != nil {
		return err
	}
	if err := point(dataDir, filepath.Join(statesDir, name)); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("putting the new state in place: %w", err)
	}
	keep := map[string]bool{name: true}
	if previous != "" {
		keep[filepath.Base(previous)] = true
	}
	CleanStates(dataDir, keep)
	CleanLeftovers(dataDir)
	return nil
}

// point makes DIR/state a link to target (relative to DIR) in one rename.
func point(dataDir, target string) error {
	final := filepath.Join(dataDir, StateDir)
	if info, err := os.Lstat(final); err == nil && info.IsDir() {
		// The older layout's plain folder: move it under .states first. A
		// reader in this one gap finds no state and computes its own.
		name, err := nextStateName(filepath.Join(dataDir, statesDir))
		if err != nil {
			return err
		}
		if err := os.Rename(final, filepath.Join(dataDir, statesDir, name)); err != nil {
			return err
		}
	}
	link := filepath.Join(dataDir, stateTmpName+randomHex())
	if runtime.GOOS == "windows" || os.Symlink(target, link) != nil {
		return pointTo(final, target)
	}
	if err := os.Rename(link, final); err != nil {
		os.Remove(link)
		return err
	}
	return SyncDir(dataDir)
}

// pointTo makes DIR/state a pointer file holding the target's path, where
// a link will not do: on Windows (a directory link cannot be renamed over
// another, and making one takes a privilege) and where links cannot be
// made. It is replaced the same way, in one rename; a reader that has it
// open for the moment it reads it makes Windows refuse the rename, so it
// is tried again for a while.
func pointTo(final, target string) error {
	var err error
	for started := time.Now(); time.Since(started) < pinTimeout; time.Sleep(lockPoll) {
		err = ReplaceFile(final, func(w io.Writer) error {
			_, err := io.WriteString(w, filepath.ToSlash(target)+"\n")
			return err
		})
		if err == nil || runtime.GOOS != "windows" {
			return err
		}
	}
	return err
}

// nextStateName is the name of the next state folder: a sequence number
// one above the highest there, so that folders sort in the order they were
// written, and a random part, so that no two writers' names collide.
func nextStateName(states string) (string, error) {
	entries, err := os.ReadDir(states)
	if err != nil {
		return "", err
	}
	var seq int64
	for _, e := range entries {
		n, _, _ := strings.Cut(e.Name(), "-")
		if v, err := strconv.ParseInt(n, 10, 64); err == nil {
			seq = max(seq, v)
		}
	}
	return fmt.Sprintf("%06d-%s", seq+1, randomHex()), nil
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CleanStates removes the state folders under DIR/.states other than the
// current one and those in keep, skipping those a reader has pinned, and
// the leftovers of writers that died: link files not renamed into place,
// and the folders of the older layout (.state-new-*, .state-old-*). The
// caller holds the writer lock.
func CleanStates(dataDir string, keep map[string]bool) {
	current, _ := resolveState(dataDir)
	states := filepath.Join(dataDir, statesDir)
	entries, _ := os.ReadDir(states)
	for _, e := range entries {
		dir := filepath.Join(states, e.Name())
		if keep[e.Name()] || dir == current {
			continue
		}
		removeUnpinned(dir)
	}
	top, _ := os.ReadDir(dataDir)
	for _, e := range top {
		n := e.Name()
		if strings.HasPrefix(n, stateTmpName) || strings.HasPrefix(n, ".state-new-") || strings.HasPrefix(n, ".state-old-") {
			os.RemoveAll(filepath.Join(dataDir, n))
		}
	}
}

// removeUnpinned removes a state folder unless a reader holds its
// state.json; it holds the folder's lock itself while it removes it, so a
// reader that resolved it meanwhile sees it gone and resolves again.
func removeUnpinned(dir string) {
	f, err := os.Open(filepath.Join(dir, StateInfoFile))
	if err != nil {
		os.RemoveAll(dir) // torn: a writer died before writing state.json
		return
	}
	defer f.Close()
	if ok, err := tryLock(f, true); err == nil && ok {
		if runtime.GOOS == "windows" {
			f.Close() // Windows removes no file that is open
		}
		os.RemoveAll(dir)
	}
}

// syncFolder syncs every file in dir, then dir itself.
func syncFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := syncFile(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return SyncDir(dir)
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
