package qms_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/qvmeter/qvmeter/qms"
)

// plan removes every assigned named and document CAL of the records.
func plan(recs []qms.Record) []qms.Removal {
	var out []qms.Removal
	for _, r := range recs {
		if (r.CALType == qms.Named || r.CALType == qms.Document) && !r.Removed {
			out = append(out, qms.Removal{Server: r.Server, ServerID: r.ServerID, CALType: r.CALType, User: r.User,
				Document: r.Document, DocumentID: r.DocumentID, LastUsed: r.LastUsed})
		}
	}
	return out
}

func TestRemoveThenReassign(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t)
	c := newClient(t, srv, password)
	before, err := c.Pull(ctx, takenAt)
	if err != nil {
		t.Fatal(err)
	}
	removals := plan(before)
	if err := c.Verify(ctx, before, removals); err != nil {
		t.Fatalf("nothing changed, yet: %v", err)
	}
	start := len(srv.Requests())
	done, err := c.Remove(ctx, removals)
	if err != nil || len(done) != 7 {
		t.Fatalf("removed %d of 7: %v", len(done), err)
	}
	for i, req := range srv.Requests()[start:] {
		if req.Operation == "SaveCALConfiguration" || req.Operation == "SaveDocumentMetaData" {
			golden(t, fmt.Sprintf("requests/remove-%02d-%s.xml", i+1, req.Operation), req.Body)
		}
	}
	after, err := c.Pull(ctx, takenAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range after {
		if (r.CALType == qms.Named || r.CALType == qms.Document || r.CALType == qms.Lease) && !r.Removed {
			t.Errorf("still held after the removal: %+v", r)
		}
	}
	// The plan is stale now: applying it again must be refused.
	if err := c.Verify(ctx, before, removals); !errors.Is(err, qms.ErrStateChanged) {
		t.Errorf("Verify on a changed state: %v, want ErrStateChanged", err)
	}
	if _, err := c.Reassign(ctx, done); err != nil {
		t.Fatal(err)
	}
	restored, err := c.Pull(ctx, takenAt)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(plan(restored)); got != 7 {
		t.Errorf("%d CALs assigned after the undo, want 7", got)
	}
}
