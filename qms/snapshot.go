package qms

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
)

// Where snapshots live under the data folder: one folder per UTC day,
// Hive-partitioned like the sessions, one file per day. A second pull on
// the same day replaces that day's file.
const (
	Dir          = dataset.QMSDir
	SnapshotFile = "cals.parquet"
)

// Snapshot is one stored snapshot.
type Snapshot struct {
	Date string // YYYY-MM-DD (UTC)
	Path string
}

// SnapshotPath is the file of the snapshot of day (UTC).
func SnapshotPath(dataDir string, day time.Time) string {
	return filepath.Join(dataDir, Dir, "date="+day.UTC().Format(time.DateOnly), SnapshotFile)
}

// WriteSnapshot stores recs as the snapshot of takenAt's UTC day and
// returns its path. The file is written beside its final name and renamed
// into place after a sync, so a reader sees the old snapshot or the new
// one, never half of one, and a failure leaves what was stored as it was.
func WriteSnapshot(dataDir string, takenAt time.Time, recs []Record) (string, error) {
	final := SnapshotPath(dataDir, takenAt)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", err
	}
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.Server, b.Server), cmp.Compare(a.CALType, b.CALType), cmp.Compare(a.UserKey, b.UserKey),
			cmp.Compare(a.DocumentKey, b.DocumentKey), cmp.Compare(a.Machine, b.Machine))
	})
	err := dataset.ReplaceFile(final, func(out io.Writer) error {
		w := parquet.NewGenericWriter[Record](out, parquet.Compression(&parquet.Zstd))
		if _, err := w.Write(sorted); err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		return "", fmt.Errorf("storing the snapshot %s: %w", final, err)
	}
	return final, nil
}

// Snapshots lists the stored snapshots, oldest first.
func Snapshots(dataDir string) ([]Snapshot, error) {
	entries, err := os.ReadDir(filepath.Join(dataDir, Dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Snapshot
	for _, e := range entries {
		day, ok := strings.CutPrefix(e.Name(), "date=")
		if !e.IsDir() || !ok {
			continue
		}
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			continue
		}
		p := filepath.Join(dataDir, Dir, e.Name(), SnapshotFile)
		if _, err := os.Stat(p); err == nil {
			out = append(out, Snapshot{Date: day, Path: p})
		}
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return cmp.Compare(a.Date, b.Date) })
	return out, nil
}

// Latest is the newest snapshot; ok is false when there is none.
func Latest(dataDir string) (s Snapshot, ok bool, err error) {
	all, err := Snapshots(dataDir)
	if err != nil || len(all) == 0 {
		return Snapshot{}, false, err
	}
	return all[len(all)-1], true, nil
}

// ReadSnapshot reads a stored snapshot.
func ReadSnapshot(path string) ([]Record, error) {
	recs, err := parquet.ReadFile[Record](path)
	if err != nil {
		return nil, fmt.Errorf("reading the snapshot %s: %w", path, err)
	}
	return recs, nil
}
