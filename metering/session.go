package metering

import (
	"slices"

	"github.com/qvmeter/qvmeter/parse"
)

// Session is one finished session as the replay sees it: times in
// milliseconds since the Unix epoch (UTC) and every text interned to a small
// id in the Engine's dictionaries (see Dicts), so that rules compare integers.
type Session struct {
	Start, End int64
	DurationMS int64
	User       uint32 // Dicts.Users: user_key
	Document   uint32 // Dicts.Documents: document_key
	Server     uint32 // Dicts.Servers
	Client     uint32 // Dicts.Clients: ClientKey
	ExeVersion uint32 // Dicts.ExeVersions
	CALText    uint32 // Dicts.CALTexts: the raw CAL Type, for unknown types
	SourceFile uint32 // Dicts.SourceFiles
	SourceLine int64
	CAL        parse.CALClass
	// Implausible is why the session's values cannot be real (the
	// implausible column); such a session is set aside (implausible.go).
	Implausible Implausibility
	UsageCount  int64 // CAL Usage Count; NoCount when the log had none
}

// NoCount marks a Session without a CAL Usage Count.
const NoCount = -1

// Dict interns strings to dense ids, so that per-session work is on
// integers and memory holds each distinct text once.
type Dict struct {
	ids   map[string]uint32
	names []string
}

func newDict() *Dict { return &Dict{ids: map[string]uint32{}} }

// ID returns s's id, adding it when new.
func (d *Dict) ID(s string) uint32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	id := uint32(len(d.names))
	d.ids[s] = id
	d.names = append(d.names, s)
	return id
}

// IDBytes is ID for a byte slice; it allocates only for a new text.
func (d *Dict) IDBytes(b []byte) uint32 {
	if id, ok := d.ids[string(b)]; ok {
		return id
	}
	return d.ID(string(b))
}

// clone returns a copy that interns independently.
func (d *Dict) clone() *Dict {
	c := &Dict{ids: make(map[string]uint32, len(d.ids)), names: slices.Clone(d.names)}
	for text, id := range d.ids {
		c.ids[text] = id
	}
	return c
}

// appendNames adds the names a clone interned after it was made, in its
// order, so that both give every name the same id. Nothing else may add
// names to d meanwhile.
func (d *Dict) appendNames(names []string) {
	for _, name := range names {
		if want := uint32(len(d.names)); d.ID(name) != want {
			panic("metering: dictionary changed while a clone was interning")
		}
	}
}

// Name returns the text of id.
func (d *Dict) Name(id uint32) string { return d.names[id] }

// Len is the number of distinct texts.
func (d *Dict) Len() int { return len(d.names) }

// Dicts are the Engine's dictionaries, one per interned column.
type Dicts struct {
	Users       *Dict
	Documents   *Dict
	Servers     *Dict
	Clients     *Dict
	ExeVersions *Dict
	CALTexts    *Dict
	SourceFiles *Dict
	// display holds, per user id, how the logs spell the user (Authenticated
	// or Identifying User); empty until SetUserDisplay is called.
	display []string
}

func newDicts() Dicts {
	return Dicts{Users: newDict(), Documents: newDict(), Servers: newDict(), Clients: newDict(),
		ExeVersions: newDict(), CALTexts: newDict(), SourceFiles: newDict()}
}

// SetUserDisplay records a spelling of user from the logs. Where spellings
// differ (CORP\Anna, corp\anna) the first in sort order is kept, so the
// result does not depend on the order sessions are read in.
func (d *Dicts) SetUserDisplay(user uint32, spelling string) {
	d.display = growTo(d.display, user, "")
	if spelling != "" && (d.display[user] == "" || spelling < d.display[user]) {
		d.display[user] = spelling
	}
}

// UserDisplay returns the logged spelling of user, or its key.
func (d *Dicts) UserDisplay(user uint32) string {
	if int(user) < len(d.display) && d.display[user] != "" {
		return d.display[user]
	}
	return d.Users.Name(user)
}
