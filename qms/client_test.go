package qms_test

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/qms"
	"github.com/qvmeter/qvmeter/qms/qmstest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files")

// The fake's account: the NT hash is MD4 of the UTF-16 "password".
const (
	account  = `CORP\svc_qvmeter`
	password = "password"
	ntHash   = "8846f7eaee8fb117ad06bdd830b7586c"
)

var takenAt = time.Date(2024, 4, 30, 6, 0, 0, 0, time.UTC)

func newFake(t *testing.T) *qmstest.Server {
	t.Helper()
	srv := qmstest.NewServer(qmstest.Sample()...)
	srv.Account, srv.NTHash = account, ntHash
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *qmstest.Server, pw string) *qms.Client {
	t.Helper()
	c, err := qms.NewClient(qms.Options{URL: srv.ServiceURL(), User: account, Password: pw, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// golden compares got with testdata/name, or rewrites it with -rewrite.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./qms -rewrite)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", path, got, want)
	}
}

func TestPullReadsEveryCALThroughNTLM(t *testing.T) {
	srv := newFake(t)
	recs, err := newClient(t, srv, password).Pull(context.Background(), takenAt)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range recs {
		count[r.CALType]++
		if r.Server != "QVS-PROD-01" || !r.TakenAt.Equal(takenAt) || r.Source != qms.SourceQMS {
			t.Errorf("record %+v: wrong server, time or source", r)
		}
	}
	if count[qms.Named] != 5 || count[qms.Lease] != 3 || count[qms.Document] != 2 || len(recs) != 10 {
		t.Fatalf("records by type %v, want 5 named, 3 leases, 2 document", count)
	}
	for _, r := range recs {
		if r.CALType == qms.Document {
			if r.Document != "Regional/Budget 2024.qvw" || r.DocumentKey != "regional/budget 2024.qvw" || !r.DocumentDeleted || r.LastUsed == nil {
				t.Errorf("document CAL %+v: want Regional/Budget 2024.qvw, deleted, with a last use", r)
			}
		}
		if r.CALType == qms.Lease && (r.Machine == "" || r.LeasedAt == nil) {
			t.Errorf("lease %+v: want machine and time", r)
		}
		if r.CALType == qms.Named && r.LastUsed != nil {
			t.Errorf("named CAL %+v: DateTime.MinValue must read as never used", r)
		}
	}
	// The recorded requests are the contract qvmeter speaks: checked in.
	for i, req := range srv.Requests() {
		golden(t, fmt.Sprintf("requests/pull-%02d-%s.xml", i+1, req.Operation), req.Body)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(*qmstest.Server)
		pw    string
		want  string
	}{
		{"wrong password: NTLM type 3 refused, 401", nil, "wrong", "HTTP 401"},
		{"QMS answers HTML: wrong URL", func(s *qmstest.Server) { s.SetHTML(true) }, password, `"text/html", not a SOAP envelope`},
		{"service key refused even when new: fault", func(s *qmstest.Server) { s.SetRefuseKeys(true) }, password, "Service key is missing, invalid or expired"},
		{"connection dropped", func(s *qmstest.Server) { s.SetDrop(true) }, password, "calling the QMS"},
		{"slow QMS: timeout", func(s *qmstest.Server) { s.SetDelay(3 * time.Second) }, password, "did not answer within"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t)
			if tc.setup != nil {
				tc.setup(srv)
			}
			c, err := qms.NewClient(qms.Options{URL: srv.ServiceURL(), User: account, Password: tc.pw, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Pull(ctx, takenAt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestExpiredKeyIsRenewedOnce(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv, password)
	ctx := context.Background()
	if _, err := c.Services(ctx); err != nil {
		t.Fatal(err)
	}
	srv.ExpireKeys() // the time limit passed
	if _, err := c.Services(ctx); err != nil {
		t.Fatalf("after the key expired: %v", err)
	}
	var ops []string
	for _, r := range srv.Requests() {
		ops = append(ops, r.Operation)
	}
	want := "GetTimeLimitedServiceKey GetServices GetServices GetTimeLimitedServiceKey GetServices"
	if strings.Join(ops, " ") != want {
		t.Errorf("calls %v, want %s", ops, want)
	}
}

func TestUnknownServerIsAFault(t *testing.T) {
	srv := newFake(t)
	_, err := newClient(t, srv, password).CALConfiguration(context.Background(), "00000000-0000-0000-0000-000000000000", qms.ScopeAll)
	var f *qms.Fault
	if !errors.As(err, &f) || !strings.Contains(f.Message, "no QlikView Server") {
		t.Fatalf("error %v, want a fault naming the unknown server", err)
	}
}

// recorder notes each round trip's Authorization scheme and NTLM message
// type, and the status answered.
type recorder struct {
	steps []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	step := "anonymous"
	if scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
		msg, _ := base64.StdEncoding.DecodeString(token)
		step = fmt.Sprintf("%s type %d", scheme, msg[8])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		step += fmt.Sprintf(" → %d", resp.StatusCode)
		for _, offer := range resp.Header.Values("WWW-Authenticate") {
			scheme, token, _ := strings.Cut(offer, " ")
			step += " " + scheme
			if token != "" {
				step += "+challenge"
			}
		}
	}
	r.steps = append(r.steps, step)
	return resp, err
}

func TestNTLMNegotiationSteps(t *testing.T) {
	srv := newFake(t)
	rec := &recorder{}
	c, err := qms.NewClient(qms.Options{URL: srv.ServiceURL(), User: account, Password: password, Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Services(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The key call: anonymous → 401 offering Negotiate and NTLM; NEGOTIATE
	// (type 1) → 401 with the CHALLENGE; AUTHENTICATE (type 3) → 200. Then
	// GetServices rides on the authenticated connection.
	want := []string{"anonymous → 401 Negotiate NTLM", "NTLM type 1 → 401 NTLM+challenge", "NTLM type 3 → 200", "anonymous → 200"}
	if strings.Join(rec.steps, "; ") != strings.Join(want, "; ") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(rec.steps, "\n"), strings.Join(want, "\n"))
	}
}
