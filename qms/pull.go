package qms

import (
	"context"
	"fmt"
	"time"
)

// Pull reads the CAL state of every QlikView Server the QMS knows: named
// CALs (assigned, removed and in quarantine, leased), session and usage
// CALs in use (GetCALConfiguration, scope All), and the document CALs of
// every user document (GetUserDocuments, then GetDocumentMetaData in the
// Licensing scope). It changes nothing on the server. takenAt stamps
// every record.
func (c *Client) Pull(ctx context.Context, takenAt time.Time) ([]Record, error) {
	services, err := c.Services(ctx)
	if err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("the QMS at %s manages no QlikView Server", c.opts.URL)
	}
	var out []Record
	for _, s := range services {
		recs, err := c.pullServer(ctx, s, takenAt)
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", s.Name, err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

func (c *Client) pullServer(ctx context.Context, s ServiceInfo, takenAt time.Time) ([]Record, error) {
	cfg, err := c.CALConfiguration(ctx, s.ID, ScopeAll)
	if err != nil {
		return nil, err
	}
	var out []Record
	add := func(calType string, cals []CAL, edit func(*Record)) error {
		for _, cal := range cals {
			r, err := calRecord(s, calType, cal, takenAt)
			if err != nil {
				return err
			}
			if edit != nil {
				edit(&r)
			}
			out = append(out, r)
		}
		return nil
	}
	removed := func(r *Record) { r.Removed = true }
	if n := cfg.NamedCALs; n != nil {
		if err := add(Named, listOf(n.AssignedCALs), nil); err != nil {
			return nil, err
		}
		if err := add(Named, listOf(n.RemovedAssignedCALs), removed); err != nil {
			return nil, err
		}
		if n.LeasedCALs != nil {
			if err := add(Lease, n.LeasedCALs.CALs, nil); err != nil {
				return nil, err
			}
		}
	}
	if p := cfg.SessionCALs; p != nil && p.AssignedCALs != nil {
		if err := add(Session, p.AssignedCALs.CALs, nil); err != nil {
			return nil, err
		}
	}
	if p := cfg.UsageCALs; p != nil && p.AssignedCALs != nil {
		if err := add(Usage, p.AssignedCALs.CALs, nil); err != nil {
			return nil, err
		}
	}
	docs, err := c.UserDocuments(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	for _, doc := range docs {
		if doc.IsSubFolder {
			continue
		}
		md, err := c.DocumentLicensing(ctx, doc)
		if err != nil {
			return nil, err
		}
		if md.Licensing == nil {
			continue
		}
		onDoc := func(r *Record) {
			r.Document, r.DocumentID, r.DocumentFolderID, r.DocumentDeleted = documentName(doc), doc.ID, doc.FolderID, doc.IsOrphan
			r.normalize()
		}
		if err := add(Document, listOf(md.Licensing.AssignedCALs), onDoc); err != nil {
			return nil, err
		}
		if err := add(Document, listOf(md.Licensing.RemovedAssignedCALs), func(r *Record) { onDoc(r); r.Removed = true }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func listOf(l *AssignedNamedCALs) []CAL {
	if l == nil {
		return nil
	}
	return l.CALs
}
