package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"
)

// ServerInfo is what the dataset knows of one server's freshness.
type ServerInfo struct {
	// LastSessionEnd is the newest session end stored for the server: the
	// dataset's data is complete up to about then.
	LastSessionEnd time.Time `json:"last_session_end"`
	// LogsGrew is when the server's logs last grew: the newest modification
	// time of its logs when ingest read them.
	LogsGrew time.Time `json:"logs_grew"`
}

// sessionTimes is the projection of SessionRow freshness needs.
type sessionTimes struct {
	Server       string
	SessionStart int64
	SessionEnd   int64
}

// readSessionTimes calls fn for every session of a session file. It reads
// the three columns' pages directly: a fraction of the file, and no row
// assembled (reading whole rows costs ten times as much).
func readSessionTimes(path string, fn func(sessionTimes)) error {
	return ReadParquet(path, func(pf *parquet.File) error { return sessionTimesOf(path, pf, fn) }, parquet.SkipPageIndex(true))
}

// sessionTimesOf calls fn for every session of the open file pf.
func sessionTimesOf(path string, pf *parquet.File, fn func(sessionTimes)) error {
	var err error
	var leaves [3]int
	for i, name := range []string{"server", "session_start", "session_end"} {
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			return fmt.Errorf("%s: no %s column", path, name)
		}
		leaves[i] = leaf.ColumnIndex
	}
	var servers []string
	var starts, ends []int64
	for _, rg := range pf.RowGroups() {
		chunks := rg.ColumnChunks()
		if servers, err = readStrings(chunks[leaves[0]], servers[:0]); err == nil {
			if starts, err = readInt64s(chunks[leaves[1]], starts[:0]); err == nil {
				ends, err = readInt64s(chunks[leaves[2]], ends[:0])
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(servers) != len(starts) || len(starts) != len(ends) {
			return fmt.Errorf("%s: columns of unequal length", path)
		}
		for k := range servers {
			fn(sessionTimes{Server: servers[k], SessionStart: starts[k], SessionEnd: ends[k]})
		}
	}
	return nil
}

// readInt64s appends a required INT64 column chunk's values.
func readInt64s(chunk parquet.ColumnChunk, out []int64) ([]int64, error) {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		values := p.Data()
		out = append(out, values.Int64()...)
		parquet.Release(p)
	}
}

// readStrings appends a required string column chunk's values, each
// distinct value one string.
func readStrings(chunk parquet.ColumnChunk, out []string) ([]string, error) {
	pages := chunk.Pages()
	defer pages.Close()
	var dict parquet.Dictionary
	var names []string
	seen := map[string]string{}
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		values := p.Data()
		if d := p.Dictionary(); d != nil {
			if d != dict {
				dict, names = d, names[:0]
				for i := range d.Len() {
					names = append(names, string(d.Index(int32(i)).ByteArray()))
				}
			}
			for _, i := range values.Int32() {
				out = append(out, names[i])
			}
		} else {
			data, offsets := values.ByteArray()
			for j := 0; j+1 < len(offsets); j++ {
				text := data[offsets[j]:offsets[j+1]]
				name, ok := seen[string(text)]
				if !ok {
					name = string(text)
					seen[name] = name
				}
				out = append(out, name)
			}
		}
		parquet.Release(p)
	}
}

// updateServers brings cat.Servers up to date with the commit's new files
// (still under their temporary names) and checkpoints. A catalog that has
// none yet (ingest builds each commit's catalog anew, and catalogs written
// before qvmeter kept them) starts from the committed one, prev, or from
// every committed session file.
func updateServers(dir string, cat *Catalog, newFiles []DataFile, prev *image) error {
	var read []string
	if cat.Servers == nil {
		cat.Servers = cloneServers(prev.servers)
		if cat.Servers == nil {
			cat.Servers = map[string]*ServerInfo{}
			for _, f := range prev.files {
				if f.Kind == KindSessions {
					read = append(read, filepath.Join(dir, filepath.FromSlash(f.Path)))
				}
			}
		}
	}
	for _, f := range newFiles {
		if f.Kind == KindSessions {
			read = append(read, TempName(filepath.Join(dir, filepath.FromSlash(f.Path))))
		}
	}
	server := func(name string) *ServerInfo {
		s := cat.Servers[name]
		if s == nil {
			s = &ServerInfo{}
			cat.Servers[name] = s
		}
		return s
	}
	for _, path := range read {
		err := readSessionTimes(path, func(t sessionTimes) {
			s := server(t.Server)
			if end := time.UnixMilli(t.SessionEnd).UTC(); end.After(s.LastSessionEnd) {
				s.LastSessionEnd = end
			}
		})
		if err != nil {
			return err
		}
	}
	for _, cp := range cat.Sources {
		if s := server(cp.Server); cp.ModTime.After(s.LogsGrew) {
			s.LogsGrew = cp.ModTime.UTC()
		}
	}
	return nil
}

// Silence rules. A server is silent when its newest session ended longer
// ago than it usually goes without one: its longest gap between sessions
// over the previous SilenceHistory, and at least MinSilence (so a quiet
// weekend is no alarm); or longer than a fixed limit when one is set
// ([alerts] silent_server_days in the licence file).
const (
	SilenceHistory = 8 * 7 * 24 * time.Hour
	MinSilence     = 2 * 24 * time.Hour
)

// Silent is how long a server has been silent, and its limit.
type Silent struct {
	Server         string
	LastSessionEnd time.Time     // zero: no session in the history
	Silence        time.Duration // as-of minus LastSessionEnd
	Limit          time.Duration // what it was allowed
	LongestGap     time.Duration // its longest gap over the history (when the limit is not fixed)
	LogsGrew       time.Time     // when its logs last grew (zero: unknown)
}

// Beyond says whether the server has been silent longer than its limit.
func (s Silent) Beyond() bool { return s.Silence > s.Limit }

// ServerSilences returns every server's silence at asOf and the limit that
// applies to it given a fixed limit (0: each server's own, see the Silence
// rules), in name order, silent or not: Beyond says which are silent. It
// reads the session files of the months the history spans.
func ServerSilences(dataDir string, asOf time.Time, fixed time.Duration) ([]Silent, error) {
	cat, _, err := loadChain(dataDir, false) // the servers: no checkpoint
	if err != nil {
		return nil, err
	}
	files, err := ListFiles(dataDir)
	if err != nil {
		return nil, err
	}
	from := asOf.Add(-SilenceHistory)
	type history struct {
		sessions []sessionTimes
		last     int64
	}
	servers := map[string]*history{}
	for name := range cat.Servers {
		servers[name] = &history{}
	}
	firstMonth, lastMonth := from.UTC().Format("2006-01"), asOf.UTC().Format("2006-01")
	for _, m := range files.Months {
		if m.Month < firstMonth || m.Month > lastMonth {
			continue
		}
		for _, path := range m.Files {
			err := readSessionTimes(path, func(t sessionTimes) {
				if t.SessionEnd < from.UnixMilli() || t.SessionEnd > asOf.UnixMilli() {
					return
				}
				h := servers[t.Server]
				if h == nil {
					h = &history{}
					servers[t.Server] = h
				}
				h.sessions = append(h.sessions, t)
				h.last = max(h.last, t.SessionEnd)
			})
			if err != nil {
				return nil, err
			}
		}
	}
	var silent []Silent
	for name, h := range servers {
		s := Silent{Server: name, Limit: fixed}
		if info := cat.Servers[name]; info != nil {
			s.LogsGrew = info.LogsGrew
			if len(h.sessions) == 0 && !info.LastSessionEnd.After(asOf) {
				s.LastSessionEnd = info.LastSessionEnd
			}
		}
		if len(h.sessions) > 0 {
			s.LastSessionEnd = time.UnixMilli(h.last).UTC()
			s.LongestGap = longestGap(h.sessions)
		} else if s.LastSessionEnd.IsZero() && cat.Servers[name] != nil && cat.Servers[name].LastSessionEnd.After(asOf) {
			continue // the server starts after asOf
		}
		if fixed == 0 {
			s.Limit = max(s.LongestGap, MinSilence)
		}
		if s.LastSessionEnd.IsZero() {
			s.Silence = SilenceHistory
		} else {
			s.Silence = asOf.Sub(s.LastSessionEnd)
		}
		silent = append(silent, s)
	}
	slices.SortFunc(silent, func(a, b Silent) int { return cmp.Compare(a.Server, b.Server) })
	return silent, nil
}

// longestGap is the longest time within the sessions during which none of
// them was open.
func longestGap(sessions []sessionTimes) time.Duration {
	slices.SortFunc(sessions, func(a, b sessionTimes) int { return cmp.Compare(a.SessionStart, b.SessionStart) })
	var gap int64
	open := sessions[0].SessionEnd
	for _, s := range sessions[1:] {
		if s.SessionStart > open {
			gap = max(gap, s.SessionStart-open)
		}
		open = max(open, s.SessionEnd)
	}
	return time.Duration(gap) * time.Millisecond
}
