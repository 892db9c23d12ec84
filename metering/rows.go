package metering

import (
	"cmp"

	"github.com/qvmeter/qvmeter/dataset"
)

// appendRow interns one dataset row and appends it to out.
func (e *Engine) appendRow(r *dataset.SessionRow, out []Session) []Session {
	s := Session{Start: r.SessionStart, End: r.SessionEnd, DurationMS: r.DurationMS,
		User: e.Users.ID(r.UserKey), Document: e.Documents.ID(r.DocumentKey), Server: e.Servers.ID(r.Server),
		Client:     e.Clients.ID(ClientKey(deref(r.ClientMachineID), deref(r.ClientType))),
		ExeVersion: e.ExeVersions.ID(deref(r.ExeVersion)), CALText: e.CALTexts.ID(deref(r.CALType)),
		SourceFile: e.SourceFiles.ID(r.SourceFile), SourceLine: r.SourceLine,
		CAL: calClassOf(r.CALClass), UsageCount: NoCount}
	if r.CALUsageCount != nil {
		s.UsageCount = *r.CALUsageCount
	}
	e.SetUserDisplay(s.User, cmp.Or(deref(r.AuthenticatedUser), deref(r.IdentifyingUser)))
	return append(out, s)
}

// ReplayRows replays dataset rows held in memory, in any order: the path
// for a few sessions read by a query (the licence advice simulates a
// what-if licence over them) and for tests.
func ReplayRows(cfg Config, rows []dataset.SessionRow) (*State, error) {
	e, err := NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	sessions := make([]Session, 0, len(rows))
	for i := range rows {
		sessions = e.appendRow(&rows[i], sessions)
	}
	return e.ReplaySessions(sessions), nil
}

// ReplaySessions replays sessions interned in e, in any order, and returns
// the state: it raises the engine's horizon to the longest of them and
// sorts them by session_end. The engine is spent afterwards.
func (e *Engine) ReplaySessions(sessions []Session) *State {
	for i := range sessions {
		e.cfg.Horizon = max(e.cfg.Horizon, sessions[i].End-sessions[i].Start)
	}
	var sorter endSorter
	sessions = sorter.sort(sessions)
	for i := range sessions {
		e.Add(&sessions[i])
	}
	return e.Finish()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
