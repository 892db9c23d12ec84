package metering

import (
	"cmp"
	"slices"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/parse"
)

// AddRow interns one dataset row and replays it (rows in session_end order).
// It is the simple path, for small inputs; the dataset reader interns whole
// dictionary pages instead.
func (e *Engine) AddRow(r *ingest.SessionRow) {
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
	e.Add(&s)
}

// ReplayRows replays rows in any order: it sorts them by session_end and
// sets the horizon from the longest session.
func ReplayRows(cfg Config, rows []ingest.SessionRow) (*State, error) {
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b ingest.SessionRow) int { return cmpInt(a.SessionEnd, b.SessionEnd) })
	for i := range sorted {
		cfg.Horizon = max(cfg.Horizon, sorted[i].SessionEnd-sorted[i].SessionStart)
	}
	e, err := NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	for i := range sorted {
		e.AddRow(&sorted[i])
	}
	return e.Finish(), nil
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
