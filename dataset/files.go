package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Files are the committed data files of a data folder, as readers use them.
type Files struct {
	// Months are the session month partitions in order, each with its files.
	Months []Month
	// Rejects are the reject files.
	Rejects []string
	// Version identifies the sessions' content: the SHA-256 of the committed
	// session file list (paths relative to the data folder and sizes), which
	// state.json records as dataset_version.
	Version string
}

// Month is one month partition of the sessions.
type Month struct {
	Month string // YYYY-MM
	Files []string
}

// ListFiles lists the committed data files under dataDir: the files the
// catalog has committed, or, without a catalog, every Parquet file under
// DIR/sessions and DIR/rejects.
func ListFiles(dataDir string) (*Files, error) {
	// The checkpoints are the writers' business: a reader skips them.
	cat, _, err := loadChain(dataDir, false)
	if err != nil {
		return nil, err
	}
	var sessions []string
	fs := &Files{}
	if cat.Version > 0 {
		for _, f := range cat.Files {
			path := filepath.Join(dataDir, filepath.FromSlash(f.Path))
			switch f.Kind {
			case KindSessions:
				sessions = append(sessions, path)
			case KindRejects:
				fs.Rejects = append(fs.Rejects, path)
			}
		}
	} else {
		if sessions, err = findSessionFiles(dataDir); err != nil {
			return nil, err
		}
		if fs.Rejects, err = filepath.Glob(filepath.Join(dataDir, RejectsDir, "*.parquet")); err != nil {
			return nil, err
		}
	}
	slices.Sort(sessions)
	sum := sha256.New()
	for _, path := range sessions {
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(dataDir, path)
		fmt.Fprintf(sum, "%s\t%d\n", filepath.ToSlash(rel), info.Size())
		month := strings.TrimPrefix(filepath.Base(filepath.Dir(path)), "month=")
		if n := len(fs.Months); n == 0 || fs.Months[n-1].Month != month {
			fs.Months = append(fs.Months, Month{Month: month})
		}
		m := &fs.Months[len(fs.Months)-1]
		m.Files = append(m.Files, path)
	}
	fs.Version = hex.EncodeToString(sum.Sum(nil))
	return fs, nil
}

// SessionFiles are the session files of every month, in order.
func (f *Files) SessionFiles() []string {
	var files []string
	for _, m := range f.Months {
		files = append(files, m.Files...)
	}
	return files
}

func findSessionFiles(dataDir string) ([]string, error) {
	root := filepath.Join(dataDir, SessionsDir)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir // writers' temporary folders
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".parquet") && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, path)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no sessions dataset under %s (run qvmeter ingest first)", root)
	}
	return files, err
}
