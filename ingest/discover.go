package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// source is one session log found on disk.
type source struct {
	path    string // absolute, cleaned
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
// Sessions*.log or Sessions*.txt, in any case.
func IsSessionLog(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "sessions") && (strings.HasSuffix(lower, ".log") || strings.HasSuffix(lower, ".txt"))
}

// ServerFromName takes the server name from a session log's file name,
// Sessions_<SERVER>_<date>.log, splitting at the last underscore before the
// date (server names contain '-' and '_'). The date part may be a day, a
// month, a year or absent (servers that split weekly, monthly, yearly or
// never). It returns "" when the name has no server part.
func ServerFromName(name string) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	stem = stem[len("sessions"):]
	stem = strings.TrimPrefix(stem, "_")
	if i := strings.LastIndexByte(stem, '_'); i >= 0 && looksLikeDate(stem[i+1:]) {
		stem = stem[:i]
	}
	return stem
}

func looksLikeDate(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '-' && c != 'W' && c != 'w' {
			return false
		}
	}
	return true
}

// discover walks the input paths (files or folders, recursively) for
// session logs. A path that cannot be read is recorded and skipped.
func discover(paths []string, serverOverride string) discovery {
	var found discovery
	seen := map[string]bool{}
	add := func(path string, info fs.FileInfo) {
		abs, err := filepath.Abs(path)
		if err != nil {
			found.unreadable = append(found.unreadable, err)
			return
		}
		if seen[abs] {
			return
		}
		seen[abs] = true
		server := serverOverride
		if server == "" {
			server = ServerFromName(info.Name())
		}
		if server == "" {
			server = filepath.Base(filepath.Dir(abs))
		}
		found.sources = append(found.sources, source{path: abs, server: server, size: info.Size(), modTime: info.ModTime()})
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			found.unreadable = append(found.unreadable, err)
			continue
		}
		if !info.IsDir() {
			if IsSessionLog(info.Name()) {
				add(root, info)
			} else {
				found.skipped++
			}
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				found.unreadable = append(found.unreadable, err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() || !IsSessionLog(d.Name()) {
				found.skipped++
				return nil
			}
			info, err := d.Info()
			if err != nil {
				found.unreadable = append(found.unreadable, fmt.Errorf("%s: %w", path, err))
				return nil
			}
			add(path, info)
			return nil
		})
		if err != nil && !errors.Is(err, fs.SkipDir) {
			found.unreadable = append(found.unreadable, err)
		}
	}
	sort.Slice(found.sources, func(i, j int) bool { return found.sources[i].path < found.sources[j].path })
	return found
}
