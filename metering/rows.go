package metering

import (
	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

// appendRow interns one dataset row and appends it to out.
func (e *Engine) appendRow(r *dataset.SessionRow, out []Session) []Session {
	s := Session{Start: r.SessionStart, End: r.SessionEnd, DurationMS: r.DurationMS,
		User: e.Users.ID(r.UserKey), Document: e.Documents.ID(r.DocumentKey), Server: e.Servers.ID(r.Server),
		Client:     e.Clients.ID(ClientKey(deref(r.ClientMachineID), deref(r.ClientType))),
		ExeVersion: e.ExeVersions.ID(deref(r.ExeVersion)), CALText: e.CALTexts.ID(deref(r.CALType)),
		SourceFile: e.SourceFiles.ID(r.SourceFile), SourceLine: r.SourceLine,
		CAL: calClassOf(r.CALClass), Implausible: implausibilityOf(deref(r.Implausible)), UsageCount: NoCount}
	if r.CALUsageCount != nil {
		s.UsageCount = *r.CALUsageCount
	}
	e.SetUserDisplay(s.User, displayName(r))
	return append(out, s)
}

// ReplayRows replays dataset rows held in memory, in any order: the simple
// path for small inputs and tests.
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

// calClasses maps the dataset's cal_class text to the class.
var calClasses = func() map[string]parse.CALClass {
	m := map[string]parse.CALClass{}
	for _, c := range parse.CALClasses() {
		m[c.String()] = c
	}
	return m
}()

func calClassOf(text string) parse.CALClass {
	if c, ok := calClasses[text]; ok {
		return c
	}
	return parse.CALUnknown
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
