package qms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Removal is one CAL a revoke takes away (or an undo gives back): what the
// plan lists and the journal records.
type Removal struct {
	Server     string `json:"server"`
	ServerID   string `json:"server_id"`
	CALType    string `json:"cal_type"` // named or document
	User       string `json:"user"`
	Document   string `json:"document,omitempty"`
	DocumentID string `json:"document_id,omitempty"`
	// LastUsed is the QMS's last use in the snapshot the plan was made
	// from: the live state must still say the same.
	LastUsed *time.Time `json:"qms_last_used,omitempty"`
}

func (r Removal) String() string {
	if r.CALType == Document {
		return fmt.Sprintf("document CAL of %s on %s (%s)", r.User, r.Document, r.Server)
	}
	return fmt.Sprintf("%s CAL of %s (%s)", r.CALType, r.User, r.Server)
}

// stateKey identifies an assigned CAL across snapshots.
func stateKey(server, calType, user, document string) string {
	return strings.Join([]string{strings.ToLower(server), calType, strings.ToLower(user), documentKey(document)}, "\x00")
}

// assignedState maps the assigned (not removed) named and document CALs of
// the servers to their last use.
func assignedState(recs []Record, servers map[string]bool) map[string]*time.Time {
	out := map[string]*time.Time{}
	for _, r := range recs {
		if (r.CALType == Named || r.CALType == Document) && !r.Removed && servers[strings.ToLower(r.Server)] {
			out[stateKey(r.Server, r.CALType, r.User, r.Document)] = r.LastUsed
		}
	}
	return out
}

// ErrStateChanged is returned by Verify when the server's CAL state is not
// the one the plan was made from.
var ErrStateChanged = errors.New("the CAL state on the server changed since the snapshot the plan was made from")

// Verify re-reads the live CAL state and compares it with the snapshot
// the removals were planned from, on the servers they touch: the same
// named and document CALs must be assigned, and each planned one must
// show the same last use (a CAL used since is no longer idle). It changes
// nothing.
func (c *Client) Verify(ctx context.Context, snapshot []Record, removals []Removal) error {
	servers := map[string]bool{}
	for _, r := range removals {
		servers[strings.ToLower(r.Server)] = true
	}
	live, err := c.Pull(ctx, time.Now())
	if err != nil {
		return err
	}
	was, now := assignedState(snapshot, servers), assignedState(live, servers)
	var diffs []string
	for _, r := range removals {
		k := stateKey(r.Server, r.CALType, r.User, r.Document)
		last, ok := now[k]
		switch {
		case !ok:
			diffs = append(diffs, r.String()+" is no longer assigned")
		case !sameTime(last, r.LastUsed):
			diffs = append(diffs, fmt.Sprintf("%s was used since (last use %s)", r, formatTime(last)))
		}
	}
	for k := range now {
		if _, ok := was[k]; !ok {
			diffs = append(diffs, "newly assigned: "+describeKey(k))
		}
	}
	for k := range was {
		if _, ok := now[k]; !ok && !slices.ContainsFunc(removals, func(r Removal) bool { return stateKey(r.Server, r.CALType, r.User, r.Document) == k }) {
			diffs = append(diffs, "no longer assigned: "+describeKey(k))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	slices.Sort(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… and %d more", len(diffs)-10))
	}
	return fmt.Errorf("%w:\n  %s", ErrStateChanged, strings.Join(diffs, "\n  "))
}

func describeKey(k string) string {
	parts := strings.Split(k, "\x00")
	if parts[1] == Document {
		return fmt.Sprintf("document CAL of %s on %s (%s)", parts[2], parts[3], parts[0])
	}
	return fmt.Sprintf("%s CAL of %s (%s)", parts[1], parts[2], parts[0])
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// Remove takes the removals away: one SaveCALConfiguration (scope
// NamedCALs) per server for its named CALs, one SaveDocumentMetaData
// (scope Licensing) per document for its document CALs, each sending back
// the configuration just read without the removed users. It returns the
// removals done, in order, also when it stops at an error.
func (c *Client) Remove(ctx context.Context, removals []Removal) ([]Removal, error) {
	return c.change(ctx, removals, false)
}

// Reassign gives the removals back (qvmeter revoke --undo): each user gets
// a CAL again, of the same type, on the same server or document. A user who
// holds it already is left as is.
func (c *Client) Reassign(ctx context.Context, removals []Removal) ([]Removal, error) {
	return c.change(ctx, removals, true)
}

func (c *Client) change(ctx context.Context, removals []Removal, add bool) ([]Removal, error) {
	var done []Removal
	for _, group := range groupRemovals(removals) {
		first := group[0]
		var err error
		switch first.CALType {
		case Named:
			err = c.changeNamed(ctx, first.ServerID, group, add)
		case Document:
			err = c.changeDocument(ctx, first.ServerID, first.DocumentID, group, add)
		default:
			err = fmt.Errorf("%s: only named and document CALs can be removed", first)
		}
		if err != nil {
			return done, err
		}
		done = append(done, group...)
	}
	return done, nil
}

// groupRemovals groups removals by server and type (named) or document,
// keeping the order of first appearance.
func groupRemovals(removals []Removal) [][]Removal {
	var keys []string
	groups := map[string][]Removal{}
	for _, r := range removals {
		k := r.ServerID + "\x00" + r.CALType + "\x00" + r.DocumentID
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([][]Removal, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}

// edit returns list without the group's users (add false) or with them
// added as new, unused CALs (add true).
func edit(list []CAL, group []Removal, add bool) ([]CAL, error) {
	has := func(user string) bool {
		return slices.ContainsFunc(list, func(c CAL) bool { return strings.EqualFold(c.UserName, user) })
	}
	if !add {
		for _, r := range group {
			if !has(r.User) {
				return nil, fmt.Errorf("%s is not assigned any more: nothing removed", r)
			}
		}
		return slices.DeleteFunc(slices.Clone(list), func(c CAL) bool {
			return slices.ContainsFunc(group, func(r Removal) bool { return strings.EqualFold(c.UserName, r.User) })
		}), nil
	}
	out := slices.Clone(list)
	for _, r := range group {
		if !has(r.User) {
			out = append(out, CAL{UserName: r.User, LastUsed: NeverUsed, QuarantinedUntil: NeverUsed})
		}
	}
	return out, nil
}

func (c *Client) changeNamed(ctx context.Context, serverID string, group []Removal, add bool) error {
	cfg, err := c.CALConfiguration(ctx, serverID, ScopeNamedCALs)
	if err != nil {
		return err
	}
	if cfg.NamedCALs == nil {
		return fmt.Errorf("server %s: the QMS returned no named CALs", group[0].Server)
	}
	list, err := edit(listOf(cfg.NamedCALs.AssignedCALs), group, add)
	if err != nil {
		return err
	}
	cfg.NamedCALs.AssignedCALs = &AssignedNamedCALs{CALs: list}
	cfg.Scope = ScopeNamedCALs
	return c.SaveCALConfiguration(ctx, cfg)
}

func (c *Client) changeDocument(ctx context.Context, serverID, documentID string, group []Removal, add bool) error {
	docs, err := c.UserDocuments(ctx, serverID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(docs, func(d DocumentNode) bool { return strings.EqualFold(d.ID, documentID) })
	if i < 0 {
		return fmt.Errorf("%s: the QMS no longer lists the document", group[0])
	}
	md, err := c.DocumentLicensing(ctx, docs[i])
	if err != nil {
		return err
	}
	if md.Licensing == nil {
		return fmt.Errorf("%s: the QMS returned no licensing for the document", group[0])
	}
	list, err := edit(listOf(md.Licensing.AssignedCALs), group, add)
	if err != nil {
		return err
	}
	md.Licensing.AssignedCALs = &AssignedNamedCALs{CALs: list}
	md.Scope = MetaDataScopeLicensing
	return c.SaveDocumentMetaData(ctx, md)
}
