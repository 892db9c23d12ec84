// Package qmstest is an in-process QlikView Management Service for tests:
// an httptest server that speaks the QMS API's contract (SOAP 1.1, the
// http://ws.qliktech.com/QMS/12/2/ namespace and IQMS2 SOAPActions, the
// X-Service-Key handshake, NTLM with 401 challenges) over a CAL state the
// test sets up, and records every request body it is sent. Its request
// elements are declared here from the published schemas, independently
// of the client's, so that a client writing the wrong element or
// namespace gets the fault a real QMS would send.
package qmstest

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/qvmeter/qvmeter/qms"
)

const (
	nsSOAP = "http://schemas.xmlsoap.org/soap/envelope/"
	nsQMS  = "http://ws.qliktech.com/QMS/12/2/"
)

// QVS is one QlikView Server the fake QMS manages, with its CAL state.
type QVS struct {
	Info      qms.ServiceInfo
	Named     qms.NamedCALs
	Session   []qms.CAL
	Usage     []qms.CAL
	Documents []*Document
}

// Document is a user document and its document CALs.
type Document struct {
	Node      qms.DocumentNode
	Licensing qms.Licensing
}

// Request is one SOAP call the fake received.
type Request struct {
	Operation string
	Body      []byte
}

// Server is the fake QMS. Set its fields before the first call; read its
// state with the methods, which lock.
type Server struct {
	*httptest.Server

	// Account (DOMAIN\name) and NTHash (hex MD4 of the UTF-16 password)
	// NTLM accepts; an empty Account turns authentication off.
	Account, NTHash string
	// Quarantine applied when a used CAL is removed (default 7 days), from
	// Now (default time.Now).
	Quarantine time.Duration
	Now        func() time.Time

	mu        sync.Mutex
	servers   []*QVS
	requests  []Request
	keys      map[string]bool
	keySerial int
	delay     time.Duration
	drop      bool
	html      bool
	expired   bool
}

type connKey struct{}

// connState is NTLM's state of one TCP connection: NTLM authenticates a
// connection, not a request.
type connState struct {
	challenge [8]byte
	pending   bool
	user      string
}

// NewServer starts a fake QMS managing servers.
func NewServer(servers ...*QVS) *Server {
	s := &Server{servers: servers, keys: map[string]bool{}, Quarantine: 7 * 24 * time.Hour}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, &connState{})
	}
	s.Start()
	return s
}

// URL of the service, as a QMS publishes it.
func (s *Server) ServiceURL() string { return s.URL + "/QMS/Service" }

// SetDelay makes every answer wait d (a slow QMS).
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// SetDrop makes the fake close every connection without an answer.
func (s *Server) SetDrop(drop bool) { s.mu.Lock(); s.drop = drop; s.mu.Unlock() }

// SetHTML makes the fake answer every request with an HTML page, as a web
// server at the wrong URL does.
func (s *Server) SetHTML(html bool) { s.mu.Lock(); s.html = html; s.mu.Unlock() }

// ExpireKeys refuses every service key handed out so far, as after their
// time limit.
func (s *Server) ExpireKeys() { s.mu.Lock(); clear(s.keys); s.mu.Unlock() }

// SetRefuseKeys makes every service key, old or new, refused.
func (s *Server) SetRefuseKeys(refuse bool) { s.mu.Lock(); s.expired = refuse; s.mu.Unlock() }

// Requests returns the calls received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delay, drop, html := s.delay, s.drop, s.html
	s.mu.Unlock()
	if drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if html {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><html><body><h1>IIS Windows Server</h1></body></html>")
		return
	}
	if s.Account != "" && !s.authenticate(w, r) {
		return
	}
	s.soap(w, r)
}

// authenticate runs NTLM's three steps on the request's connection; it
// returns true when the connection is authenticated and the request may
// be served.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	st := r.Context().Value(connKey{}).(*connState)
	if st.user != "" {
		return true
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "NTLM" && scheme != "Negotiate" {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", "NTLM")
		http.Error(w, "401 - Unauthorized", http.StatusUnauthorized)
		return false
	}
	msg, kind, err := ntlmMessage(token)
	switch {
	case err != nil:
	case kind == 1:
		challenge, c := challengeMessage(strings.Split(s.Account, `\`)[0], s.now())
		st.challenge, st.pending = c, true
		w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(challenge))
		http.Error(w, "401 - Unauthorized", http.StatusUnauthorized)
		return false
	case kind == 3 && st.pending:
		st.pending = false
		who, err := checkAuthenticate(msg, st.challenge, s.Account, s.NTHash)
		if err == nil {
			st.user = who
			return true
		}
	}
	w.Header().Add("WWW-Authenticate", "Negotiate")
	w.Header().Add("WWW-Authenticate", "NTLM")
	http.Error(w, "401 - Unauthorized", http.StatusUnauthorized)
	return false
}

// Update changes the fake's state under its lock, as an administrator or a
// user's session would between two calls.
func (s *Server) Update(change func(servers []*QVS)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s.servers)
}
