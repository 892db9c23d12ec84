package ingest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// source is one session log found on disk.
type source struct {
	path    string // absolute, cleaned, as found (a symbolic link keeps its own name)
	server  string
	size    int64
	modTime time.Time
}

// discovery is what walking the input paths found.
type discovery struct {
	sources    []source
	skipped    int     // files that are not session logs
	unreadable []error // paths that could not be read, each error naming it
}

// IsSessionLog tells whether a file name is a QlikView session log:
// Sessions*.log or Sessions*.txt (archived copies), in any case.
func IsSessionLog(name string) bool {
	// ASCII case folding, no lower-cased copy: every name of a folder of
	// 50,000 logs is asked.
	return len(name) >= len("sessions") && hasFold(name[:len("sessions")], "sessions") &&
		(hasFold(name[len(name)-min(len(name), 4):], ".log") || hasFold(name[len(name)-min(len(name), 4):], ".txt"))
}

// hasFold tells whether s is lower, an ASCII lower-case word, in any case.
func hasFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c != lower[i] && !('A' <= c && c <= 'Z' && c+'a'-'A' == lower[i]) {
			return false
		}
	}
	return true
}

// ServerFromName takes the server name from a session log's file name,
// Sessions_<SERVER>[_<date>].log (or .txt). It returns "" when the name has
// no server part.
//
// Windows copy suffixes are dropped first, repeatedly: " - Copy",
// " - Copy (2)" (and the German, French, Spanish and Italian " - Kopie",
// " - Copie", " - Copia"), and " (2)". Then the name is split at the last
// underscore only when what follows is a date part of one of the forms a
// server that splits its log daily, weekly, monthly or yearly writes:
//
//	2024-03-01, 20240301     daily
//	2024-W09, 2024W09, 2024-W9, 2024_W09   weekly (ISO week number)
//	2024-03, 202403          monthly (a week number written 2024-09 reads the same way)
//	2024                     yearly
//
// Otherwise the whole rest is the server name: a server that never splits
// writes Sessions_<SERVER>.log, and server names contain '-' and '_'
// (Sessions_QV_2.log is server QV_2).
func ServerFromName(name string) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	stem = stripCopySuffixes(stem[len("sessions"):])
	stem = strings.TrimPrefix(stem, "_")
	i := strings.LastIndexByte(stem, '_')
	if i < 0 {
		return stem
	}
	if isWeek(stem[i+1:]) { // 2024_W09: the year is the part before
		if j := strings.LastIndexByte(stem[:i], '_'); j >= 0 && isYear(stem[j+1:i]) {
			return stem[:j]
		}
		return stem
	}
	if isDatePart(stem[i+1:]) {
		return stem[:i]
	}
	return stem
}

// copySuffixes are what Windows Explorer appends to the name of a copy,
// before the extension, in the languages most estates run.
var copySuffixes = []string{" - copy", " - kopie", " - copie", " - copia"}

// stripCopySuffixes removes every trailing copy suffix of a name stem.
func stripCopySuffixes(stem string) string {
	for {
		trimmed := strings.TrimRight(stem, " ")
		if n := copyNumberLen(trimmed); n > 0 {
			trimmed = strings.TrimRight(trimmed[:len(trimmed)-n], " ")
		}
		lower := strings.ToLower(trimmed)
		for _, s := range copySuffixes {
			if strings.HasSuffix(lower, s) {
				trimmed = trimmed[:len(trimmed)-len(s)]
				break
			}
		}
		if trimmed == stem {
			return stem
		}
		stem = trimmed
	}
}

// copyNumberLen returns the length of a trailing " (N)" (N digits), or 0.
func copyNumberLen(s string) int {
	if !strings.HasSuffix(s, ")") {
		return 0
	}
	open := strings.LastIndexByte(s, '(')
	if open < 1 || s[open-1] != ' ' || !allDigits(s[open+1:len(s)-1]) {
		return 0
	}
	return len(s) - open + 1
}

// isDatePart tells whether s is the date part of a split log's name (see
// ServerFromName for the forms).
func isDatePart(s string) bool {
	switch {
	case isYear(s):
		return true
	case len(s) >= 6 && isYear(s[:4]) && isWeek(strings.TrimPrefix(s[4:], "-")): // 2024W09, 2024-W09
		return true
	case len(s) == 6 || len(s) == 8: // 202403, 20240301
		return allDigits(s) && isYear(s[:4]) && validMonthDay(s[4:6], s[6:])
	case len(s) == 7 && s[4] == '-': // 2024-03, or a week 2024-09
		return isYear(s[:4]) && allDigits(s[5:]) && s[5:] >= "01" && s[5:] <= "53"
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		return isYear(s[:4]) && allDigits(s[5:7]) && allDigits(s[8:]) && validMonthDay(s[5:7], s[8:])
	}
	return false
}

// isYear: four digits from 1990 to 2199.
func isYear(s string) bool { return len(s) == 4 && allDigits(s) && s >= "1990" && s <= "2199" }

// isWeek: W1 to W53, one or two digits, either case.
func isWeek(s string) bool {
	if len(s) < 2 || len(s) > 3 || (s[0] != 'W' && s[0] != 'w') || !allDigits(s[1:]) {
		return false
	}
	n := 0
	for _, c := range s[1:] {
		n = 10*n + int(c-'0')
	}
	return n >= 1 && n <= 53
}

func validMonthDay(month, day string) bool {
	if month < "01" || month > "12" {
		return false
	}
	return day == "" || (len(day) == 2 && allDigits(day) && day >= "01" && day <= "31")
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// discover walks the input paths (files or folders, recursively) for
// session logs. A path that cannot be read is recorded and skipped.
//
// Symbolic links are followed, in folders as on the command line: a link to
// a log is read like the log, a link to a folder is walked. Each real file
// is read once, under the first name it is found by (in sorted walk order),
// and each real folder is walked once, which also ends link loops. The
// server comes from the real file's name when that is a session log's name,
// so that a link and its target can never make two servers of one log.
//
// A file that is not a regular file (a FIFO, a device, a socket) is never
// opened: named on the command line it is refused as unreadable; in a
// folder it is skipped.
func discover(paths []string, serverOverride string) discovery {
	w := walker{serverOverride: serverOverride, files: map[string]bool{}, dirs: map[string]bool{}}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			w.found.unreadable = append(w.found.unreadable, err)
			continue
		}
		switch {
		case info.IsDir():
			w.walkDir(root)
		case !info.Mode().IsRegular():
			w.found.unreadable = append(w.found.unreadable, fmt.Errorf("%s: not a regular file (%s); only session log files and folders are read", root, fileType(info.Mode())))
		case IsSessionLog(info.Name()):
			real, err := realPath(root)
			if err != nil {
				w.found.unreadable = append(w.found.unreadable, err)
				continue
			}
			w.addFile(root, real, info)
		default:
			w.found.skipped++
		}
	}
	sort.Slice(w.found.sources, func(i, j int) bool { return w.found.sources[i].path < w.found.sources[j].path })
	return w.found
}

type walker struct {
	serverOverride string
	found          discovery
	files          map[string]bool // real paths of files added
	dirs           map[string]bool // real paths of folders walked
}

// walkDir walks a folder, following symbolic links, each real folder once.
func (w *walker) walkDir(dir string) {
	realDir, err := realPath(dir)
	if err != nil {
		w.found.unreadable = append(w.found.unreadable, err)
		return
	}
	if w.dirs[realDir] {
		return
	}
	w.dirs[realDir] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.found.unreadable = append(w.found.unreadable, err)
	}
	logs := 0 // a folder of 50,000 logs: room for them at once, not copies as the slice grows
	for _, e := range entries {
		if IsSessionLog(e.Name()) {
			logs++
		}
	}
	w.found.sources = slices.Grow(w.found.sources, logs)
	for _, e := range entries { // sorted by name
		path := filepath.Join(dir, e.Name())
		mode := e.Type()
		var info fs.FileInfo
		if mode&fs.ModeSymlink != 0 {
			if info, err = os.Stat(path); err != nil {
				// A dangling link: a log that is gone, or a loop.
				if IsSessionLog(e.Name()) {
					w.found.unreadable = append(w.found.unreadable, err)
				} else {
					w.found.skipped++
				}
				continue
			}
			mode = info.Mode().Type()
		}
		switch {
		case mode.IsDir():
			w.walkDir(path)
		case !mode.IsRegular() || !IsSessionLog(e.Name()):
			w.found.skipped++
		default:
			if info == nil {
				if info, err = e.Info(); err != nil {
					w.found.unreadable = append(w.found.unreadable, fmt.Errorf("%s: %w", path, err))
					continue
				}
			}
			real := path // no link to resolve: cheaper than realPath
			if realDir != dir {
				real = filepath.Join(realDir, e.Name())
			}
			if e.Type()&fs.ModeSymlink != 0 {
				if real, err = realPath(path); err != nil {
					w.found.unreadable = append(w.found.unreadable, err)
					continue
				}
			}
			w.addFile(path, real, info)
		}
	}
}

// addFile records a session log found as path, whose real path (every
// link resolved) is real, once per real file.
func (w *walker) addFile(path, real string, info fs.FileInfo) {
	abs, err := filepath.Abs(path)
	if err != nil {
		w.found.unreadable = append(w.found.unreadable, err)
		return
	}
	if w.files[real] {
		return
	}
	w.files[real] = true
	server := w.serverOverride
	if server == "" {
		name := filepath.Base(real)
		if !IsSessionLog(name) {
			name = filepath.Base(abs)
		}
		server = ServerFromName(name)
	}
	if server == "" {
		server = filepath.Base(filepath.Dir(abs))
	}
	w.found.sources = append(w.found.sources, source{path: abs, server: server, size: info.Size(), modTime: info.ModTime()})
}

// realPath is the absolute path with every symbolic link resolved.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
