package ingest_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/xxh3"
)

// oldSessionKey is the session key of key version 1, as qvmeter wrote it
// before issue 10, kept here to build datasets of that version: the Session
// ID where there was one, else a hash of the row's identity with null and
// empty told apart.
func oldSessionKey(r *dataset.SessionRow) int64 {
	if r.SessionID != nil && *r.SessionID != "" {
		return int64(xxh3.Hash(append([]byte("id\x00"), *r.SessionID...)))
	}
	field := func(dst []byte, v *string) []byte {
		if v == nil {
			return append(dst, 0)
		}
		return append(append(dst, *v...), 0, 1)
	}
	b := append([]byte("row\x00"), r.Server...)
	b = append(b, 0, 1)
	started := int64(-1 << 63)
	if r.ServerStarted != nil {
		started = *r.ServerStarted
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(started))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.SessionStart))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.SessionEnd))
	b = field(b, r.ClientMachineID)
	b = field(b, &r.DocumentKey)
	b = field(b, &r.UserKey)
	return int64(xxh3.Hash(b))
}

// writeOldDataset writes a dataset as the version before issue 10 left it:
// the rows of each log as it stored them (a copy without the Session ID
// column stored a second time), session keys of version 1, no key version
// in the catalog, and the checkpoints of its logs.
func writeOldDataset(t *testing.T, data string, logs ...string) {
	t.Helper()
	cat := &dataset.Catalog{Version: 1, Sources: map[string]*dataset.Checkpoint{}}
	var rows []dataset.SessionRow
	for _, log := range logs {
		single := t.TempDir()
		runOpts(t, ingest.Options{Data: single, Paths: []string{log}})
		part, err := dataset.LoadCatalog(single)
		require.NoError(t, err)
		for path, cp := range part.Sources {
			c := *cp
			c.TailHash, c.TailLen = 0, 0 // not recorded then
			cat.Sources[path] = &c
		}
		rows = append(rows, readDataset(t, single)...)
	}
	for i := range rows {
		rows[i].SessionKey = oldSessionKey(&rows[i])
	}
	rel := dataset.SessionsDir + "/month=2024-02/part-00000001-w0-001.parquet"
	path := filepath.Join(data, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(t, err)
	w := parquet.NewGenericWriter[dataset.SessionRow](f)
	_, err = w.Write(rows)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	info, err := f.Stat()
	require.NoError(t, err)
	require.NoError(t, f.Close())
	cat.Files = []dataset.DataFile{{Path: rel, Kind: dataset.KindSessions, Month: "2024-02", Rows: int64(len(rows)), Bytes: info.Size()}}
	text, err := json.Marshal(cat)
	require.NoError(t, err)
	require.NotContains(t, string(text), "key_version", "written before the key version was recorded")
	require.NoError(t, os.WriteFile(filepath.Join(data, dataset.CatalogFile), text, 0o644))
}

// A dataset written by the version before issue 10 is re-keyed by the first
// run of this one, in one commit: no row lost, none doubled, the duplicates
// the old key let in dropped, and the summary says so. Afterwards it is the
// dataset a fresh ingest of the same logs makes.
func TestOldKeyDatasetUpgraded(t *testing.T) {
	ss := sessions(30)
	dir := t.TempDir()
	live := filepath.Join(dir, "live", "Sessions_QVS01_2024-02-01.log")
	export := filepath.Join(dir, "zexport", "Sessions_QVS01_2024-02-01.log")
	writeLog(t, live, logText(columns29, true, ss))
	writeLog(t, export, logText(columns28, true, ss))

	for _, tt := range []struct {
		quirk      string
		logs       []string
		duplicates int64
	}{
		{"a dataset without duplicates keeps identical rows", []string{live}, 0},
		{"a copy without the Session ID column that the old key stored twice is stored once", []string{live, export}, 30},
	} {
		t.Run(tt.quirk, func(t *testing.T) {
			data := t.TempDir()
			writeOldDataset(t, data, tt.logs...)
			before := readDataset(t, data)
			require.Len(t, before, 30*len(tt.logs))

			sum := runOpts(t, ingest.Options{Data: data, Paths: tt.logs})
			require.Equal(t, &ingest.Rekeyed{FromVersion: 1, ToVersion: ingest.KeyVersion, Rows: 30, Duplicates: tt.duplicates}, sum.Rekeyed)
			require.Equal(t, len(tt.logs), sum.FilesUnchanged, "the logs themselves are not read again: %+v", sum)
			require.Zero(t, sum.RowsStored)

			fresh := t.TempDir()
			runOpts(t, ingest.Options{Data: fresh, Paths: tt.logs, Workers: 1}) // one worker: the first copy in path order wins
			require.Equal(t, readDataset(t, fresh), readDataset(t, data), "the re-keyed dataset is a fresh ingest's")
			cat, err := dataset.LoadCatalog(data)
			require.NoError(t, err)
			require.Equal(t, ingest.KeyVersion, cat.KeyVersion)
			_, err = os.Stat(filepath.Join(data, dataset.SessionsDir, "month=2024-02", "part-00000001-w0-001.parquet"))
			require.ErrorIs(t, err, os.ErrNotExist, "the old file is removed once the new version is committed")

			again := runOpts(t, ingest.Options{Data: data, Paths: []string{dir}})
			require.Nil(t, again.Rekeyed, "re-keyed once")
			require.Zero(t, again.RowsStored, "every copy is recognised under the new key")
		})
	}
}
