package metering

// rowGroupReplayer replays decoded row groups on the engine's goroutine.
type rowGroupReplayer struct {
	e       *Engine
	ordered []Session // the month's sessions that need end order
}

// readerDicts are the engine's dictionaries the dataset reader interns
// into, in the order of the dict* constants.
func (e *Engine) readerDicts() [numDicts]*Dict {
	return [numDicts]*Dict{e.Users, e.Documents, e.Servers, e.ExeVersions, e.CALTexts, e.SourceFiles, e.Clients}
}

func (r *rowGroupReplayer) replay(rg *decodedRowGroup) {
	e := r.e
	for d, dict := range e.readerDicts() {
		dict.appendNames(rg.names[d])
	}
	for _, s := range rg.spellings {
		e.SetUserDisplay(s.user, s.spelling)
	}
	r.ordered = append(r.ordered, rg.ordered...)
	for i := range rg.grouped {
		e.Add(&rg.grouped[i])
	}
}
