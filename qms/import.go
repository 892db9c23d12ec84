package qms

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ImportFile reads a CAL state file by its kind: CalData.pgo.xml or
// BorrowedCalData.pgo.xml (any .xml), the documented CSV export (.csv) or
// JSON export (.json). server names the QlikView Server of a PGO file. The
// note says what was read leniently (PGO entries under lists of unknown
// type), for the user to see.
func ImportFile(path, server string, takenAt time.Time) (recs []Record, note string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xml":
		if server == "" {
			return nil, "", fmt.Errorf("%s: a PGO file does not name its server: give --server", path)
		}
		res, err := ReadPGO(path, bytes.NewReader(data), server, takenAt)
		if err != nil {
			return nil, "", err
		}
		var skipped []string
		for list, n := range res.Skipped {
			skipped = append(skipped, fmt.Sprintf("%d under <%s>", n, list))
		}
		sort.Strings(skipped)
		if len(skipped) > 0 {
			note = "entries of unknown licence type skipped: " + strings.Join(skipped, ", ")
		}
		return res.Records, note, nil
	case ".csv":
		recs, err := ReadCSV(path, bytes.NewReader(data), takenAt)
		return recs, "", err
	case ".json":
		recs, err := ReadJSON(path, bytes.NewReader(data), takenAt)
		return recs, "", err
	}
	return nil, "", fmt.Errorf("%s: want a .xml (CalData.pgo.xml, BorrowedCalData.pgo.xml), .csv or .json file", path)
}
