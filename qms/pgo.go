package qms

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The server's CAL state files as XML. With PgoAsXmlAlso=1 under
// [Settings 7] in the QlikView Server's Settings.ini (CAL licences only;
// not with a Signed License Key), the server writes CalData.pgo.xml and
// BorrowedCalData.pgo.xml beside its .pgo files in its root folder [Qlik
// support article "Reading PGO contents and CAL assignments / PGO to
// XML"]. What is public of their shape (a community post quoting a file):
//
//	<CalData>
//	  <Serial/>
//	  <LefCalInfo> … </LefCalInfo>
//	  <NamedCalsAllocated/>
//	  <PerServerCalData>
//	    <PerServerCalData>
//	      <PerDocumentCalData/>
//	      <NamedCalsInUse/>
//	      <SessionCalsInUse/>
//	      <InfrequentNamedCalsInUse/> …
//
// and that the entries name UserName, MachineId, UtcBorrowTime (spec
// session-log.md, "Other logs"). The element names inside an entry are not
// published [guess], so the reader goes by structure: an entry is any
// element with a UserName child, its licence type is that of the nearest
// enclosing list it recognises (NamedCals… → named, PerDocumentCalData →
// document, SessionCals… → session, Infrequent… → usage, anything in
// BorrowedCalData → lease), and its fields are read by the names below,
// case-insensitively. Entries under a list it does not recognise are
// counted and reported, never guessed.
var (
	pgoLastUsed    = []string{"lastused", "lastusedtime", "utclastused", "lastusetime", "utclastusedtime"}
	pgoQuarantined = []string{"quarantineduntil", "quarantineend", "utcquarantineduntil", "quarantineuntil"}
	pgoMachine     = []string{"machineid", "machine", "clientmachineid"}
	pgoBorrowed    = []string{"utcborrowtime", "borrowtime", "leasedat", "utcleasetime"}
	pgoDocument    = []string{"documentname", "document", "docname", "documentpath", "name", "path"}
)

// PGOResult is what ReadPGO read from one file.
type PGOResult struct {
	Records []Record
	// Skipped counts entries (elements with a UserName) under a list whose
	// licence type is unknown, by the list's element name.
	Skipped map[string]int
}

// ReadPGO reads a CalData.pgo.xml or BorrowedCalData.pgo.xml. server names
// the QlikView Server the file comes from (the file does not). A file of
// another shape is an error naming it.
func ReadPGO(name string, r io.Reader, server string, takenAt time.Time) (*PGOResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	root, err := parseTree(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not XML: %w", name, err)
	}
	var rootType string
	switch strings.ToLower(root.name) {
	case "caldata":
	case "borrowedcaldata":
		rootType = Lease
	default:
		return nil, fmt.Errorf("%s: the root element is <%s>, not <CalData> or <BorrowedCalData>: not a CAL state file written with PgoAsXmlAlso=1", name, root.name)
	}
	res := &PGOResult{Skipped: map[string]int{}}
	var walk func(n *node, calType, parent, document string) error
	walk = func(n *node, calType, parent, document string) error {
		// A list inside a document's entry (its users) stays a document list.
		if t := pgoListType(n.name); t != "" && rootType == "" && calType != Document {
			calType = t
		}
		if d := n.child(pgoDocument...); d != nil && calType == Document && n.child("username") == nil {
			document = d.text // a per-document list names its document
		}
		if u := n.child("username"); u != nil {
			if calType == "" {
				res.Skipped[parent]++
				return nil
			}
			rec := Record{Server: server, CALType: calType, User: strings.TrimSpace(u.text), Source: SourcePGO, TakenAt: takenAt}
			if calType == Document {
				rec.Document = document
				if d := n.child(pgoDocument...); d != nil {
					rec.Document = d.text
				}
			}
			for _, f := range []struct {
				names []string
				dst   **time.Time
			}{{pgoLastUsed, &rec.LastUsed}, {pgoQuarantined, &rec.QuarantinedUntil}, {pgoBorrowed, &rec.LeasedAt}} {
				if c := n.child(f.names...); c != nil {
					t, err := ParseTime(c.text)
					if err != nil {
						return fmt.Errorf("%s:%d: <%s> of %s: %w", name, c.line, c.name, rec.User, err)
					}
					*f.dst = t
				}
			}
			if c := n.child(pgoMachine...); c != nil {
				rec.Machine = strings.TrimSpace(c.text)
			}
			if rec.User == "" {
				return fmt.Errorf("%s:%d: <%s> has an empty UserName", name, n.line, n.name)
			}
			rec.normalize()
			res.Records = append(res.Records, rec)
			return nil
		}
		for _, c := range n.children {
			if err := walk(c, calType, n.name, document); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, rootType, root.name, ""); err != nil {
		return nil, err
	}
	res.Records = dedupe(res.Records)
	if len(res.Records) == 0 && len(res.Skipped) == 0 && !root.hasLists() {
		return nil, fmt.Errorf("%s: <%s> holds none of the lists a CAL state file has (NamedCalsAllocated, PerServerCalData …)", name, root.name)
	}
	return res, nil
}

// pgoListType is the licence type of the entries of a list element.
func pgoListType(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "infrequent"):
		return Usage
	case strings.HasPrefix(n, "namedcal"):
		return Named
	case strings.HasPrefix(n, "perdocumentcal") || strings.HasPrefix(n, "documentcal"):
		return Document
	case strings.HasPrefix(n, "sessioncal"):
		return Session
	case strings.HasPrefix(n, "borrowed") || strings.HasPrefix(n, "leased"):
		return Lease
	}
	return ""
}

// node is an element of a small XML tree.
type node struct {
	name     string
	text     string
	line     int
	children []*node
}

func (n *node) child(names ...string) *node {
	for _, c := range n.children {
		for _, name := range names {
			if strings.EqualFold(c.name, name) {
				return c
			}
		}
	}
	return nil
}

func (n *node) hasLists() bool {
	for _, c := range n.children {
		if pgoListType(c.name) != "" || strings.EqualFold(c.name, "PerServerCalData") || strings.EqualFold(c.name, "LefCalInfo") {
			return true
		}
	}
	return false
}

func parseTree(data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			n := &node{name: t.Name.Local, line: line}
			for _, a := range t.Attr { // attributes read like child elements
				n.children = append(n.children, &node{name: a.Name.Local, text: a.Value, line: line})
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.children = append(top.children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no element")
	}
	return root, nil
}
