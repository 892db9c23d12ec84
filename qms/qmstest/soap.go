package qmstest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qvmeter/qvmeter/qms"
)

// The request elements of the operations the fake serves, as
// Service19.xsd declares them (elementFormDefault qualified: the
// parameters are in the operation's namespace).
type (
	reqGetServices struct {
		ServiceTypes string `xml:"http://ws.qliktech.com/QMS/12/2/ serviceTypes"`
	}
	reqGetCALConfiguration struct {
		QVSID string `xml:"http://ws.qliktech.com/QMS/12/2/ qvsID"`
		Scope string `xml:"http://ws.qliktech.com/QMS/12/2/ scope"`
	}
	reqSaveCALConfiguration struct {
		Config *qms.CALConfiguration `xml:"http://ws.qliktech.com/QMS/12/2/ calConfiguration"`
	}
	reqGetUserDocuments struct {
		QVSID string `xml:"http://ws.qliktech.com/QMS/12/2/ qvsID"`
	}
	reqGetDocumentMetaData struct {
		Node  *qms.DocumentNode `xml:"http://ws.qliktech.com/QMS/12/2/ userDocument"`
		Scope string            `xml:"http://ws.qliktech.com/QMS/12/2/ scope"`
	}
	reqSaveDocumentMetaData struct {
		MetaData *qms.DocumentMetaData `xml:"http://ws.qliktech.com/QMS/12/2/ documentMetaData"`
	}
)

// fault is a SOAP 1.1 fault as WCF writes one (HTTP 500).
type fault struct {
	code, message string
}

func (s *Server) soap(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || mediaType != "text/xml" {
		http.Error(w, "Cannot process the message because the content type was not the expected type 'text/xml; charset=utf-8'.", http.StatusUnsupportedMediaType)
		return
	}
	action := strings.Trim(r.Header.Get("SOAPAction"), `"`)
	op, ok := strings.CutPrefix(action, qms.SOAPActionPrefix)
	if !ok {
		writeFault(w, fault{"a:ActionNotSupported", fmt.Sprintf("The message with Action '%s' cannot be processed at the receiver.", action)})
		return
	}
	inner, err := bodyElement(body, op)
	if err != nil {
		writeFault(w, fault{"a:DeserializationFailed", err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Operation: op, Body: body})
	if op != "GetTimeLimitedServiceKey" {
		if key := r.Header.Get(qms.ServiceKeyHeader); s.expired || !s.keys[key] {
			writeFault(w, fault{"s:Client", "Service key is missing, invalid or expired."})
			return
		}
	}
	result, f := s.dispatch(op, inner)
	if f != nil {
		writeFault(w, *f)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<s:Envelope xmlns:s="%s"><s:Body><%sResponse xmlns="%s">%s</%sResponse></s:Body></s:Envelope>`,
		nsSOAP, op, nsQMS, result, op)
}

// bodyElement checks that the envelope is SOAP 1.1 and that its body holds
// the operation's element in the operation's namespace, and returns that
// element.
func bodyElement(body []byte, op string) ([]byte, error) {
	var env struct {
		XMLName xml.Name
		Body    struct {
			XMLName xml.Name
			Inner   []byte `xml:",innerxml"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("not XML: %v", err)
	}
	if env.XMLName.Space != nsSOAP || env.XMLName.Local != "Envelope" {
		return nil, fmt.Errorf("root element {%s}%s is not a SOAP 1.1 Envelope", env.XMLName.Space, env.XMLName.Local)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("no operation element in the body: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			depth++
			if depth == 3 {
				if se.Name.Space != nsQMS || se.Name.Local != op {
					return nil, fmt.Errorf("expecting element '%s' from namespace '%s', found {%s}%s", op, nsQMS, se.Name.Space, se.Name.Local)
				}
				return env.Body.Inner, nil
			}
		}
	}
}

func writeFault(w http.ResponseWriter, f fault) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	var msg bytes.Buffer
	xml.EscapeText(&msg, []byte(f.message))
	fmt.Fprintf(w, `<s:Envelope xmlns:s="%s"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher">%s</faultcode><faultstring xml:lang="en-US">%s</faultstring></s:Fault></s:Body></s:Envelope>`,
		nsSOAP, f.code, msg.String())
}

// dispatch runs one operation on the state (s.mu held) and returns the
// inner XML of its response element.
func (s *Server) dispatch(op string, inner []byte) (string, *fault) {
	decode := func(v any) *fault {
		if err := xml.Unmarshal(inner, v); err != nil {
			return &fault{"a:DeserializationFailed", err.Error()}
		}
		return nil
	}
	switch op {
	case "GetTimeLimitedServiceKey":
		s.keySerial++
		key := "key-" + strconv.Itoa(s.keySerial)
		s.keys[key] = true
		return result("GetTimeLimitedServiceKeyResult", key), nil
	case "GetServices":
		var req reqGetServices
		if f := decode(&req); f != nil {
			return "", f
		}
		var list []qms.ServiceInfo
		if slices.Contains(strings.Fields(req.ServiceTypes), qms.ServiceTypeQlikViewServer) || req.ServiceTypes == "All" {
			for _, q := range s.servers {
				list = append(list, q.Info)
			}
		}
		return result("GetServicesResult", struct {
			S []qms.ServiceInfo `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects ServiceInfo"`
		}{list}), nil
	case "GetCALConfiguration":
		var req reqGetCALConfiguration
		if f := decode(&req); f != nil {
			return "", f
		}
		q, f := s.server(req.QVSID)
		if f != nil {
			return "", f
		}
		return result("GetCALConfigurationResult", q.configuration(req.Scope)), nil
	case "SaveCALConfiguration":
		var req reqSaveCALConfiguration
		if f := decode(&req); f != nil {
			return "", f
		}
		if req.Config == nil {
			return "", &fault{"s:Client", "calConfiguration is null"}
		}
		q, f := s.server(req.Config.QVSID)
		if f != nil {
			return "", f
		}
		if hasScope(req.Config.Scope, qms.ScopeNamedCALs) && req.Config.NamedCALs != nil && req.Config.NamedCALs.AssignedCALs != nil {
			q.Named.AssignedCALs, q.Named.RemovedAssignedCALs = s.reassign(q.Named.AssignedCALs, q.Named.RemovedAssignedCALs, req.Config.NamedCALs.AssignedCALs.CALs)
			q.Named.Assigned = len(q.Named.AssignedCALs.CALs)
			if q.Named.LeasedCALs != nil {
				q.Named.LeasedCALs.CALs = slices.DeleteFunc(q.Named.LeasedCALs.CALs, func(c qms.CAL) bool { return !holds(q.Named.AssignedCALs, c.UserName) })
			}
		}
		return "", nil
	case "GetUserDocuments":
		var req reqGetUserDocuments
		if f := decode(&req); f != nil {
			return "", f
		}
		q, f := s.server(req.QVSID)
		if f != nil {
			return "", f
		}
		var nodes []qms.DocumentNode
		for _, d := range q.Documents {
			nodes = append(nodes, d.Node)
		}
		return result("GetUserDocumentsResult", struct {
			D []qms.DocumentNode `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects DocumentNode"`
		}{nodes}), nil
	case "GetDocumentMetaData":
		var req reqGetDocumentMetaData
		if f := decode(&req); f != nil {
			return "", f
		}
		if req.Node == nil {
			return "", &fault{"s:Client", "userDocument is null"}
		}
		q, d, f := s.document(req.Node.ID)
		if f != nil {
			return "", f
		}
		md := qms.DocumentMetaData{QVSID: q.Info.ID, Scope: req.Scope, UserDocument: &d.Node}
		if hasScope(req.Scope, qms.MetaDataScopeLicensing) {
			lic := d.Licensing
			md.Licensing = &lic
		}
		return result("GetDocumentMetaDataResult", md), nil
	case "SaveDocumentMetaData":
		var req reqSaveDocumentMetaData
		if f := decode(&req); f != nil {
			return "", f
		}
		if req.MetaData == nil || req.MetaData.UserDocument == nil {
			return "", &fault{"s:Client", "documentMetaData.UserDocument is null"}
		}
		_, d, f := s.document(req.MetaData.UserDocument.ID)
		if f != nil {
			return "", f
		}
		if hasScope(req.MetaData.Scope, qms.MetaDataScopeLicensing) && req.MetaData.Licensing != nil && req.MetaData.Licensing.AssignedCALs != nil {
			d.Licensing.AssignedCALs, d.Licensing.RemovedAssignedCALs = s.reassign(d.Licensing.AssignedCALs, d.Licensing.RemovedAssignedCALs, req.MetaData.Licensing.AssignedCALs.CALs)
		}
		return "", nil
	}
	return "", &fault{"a:ActionNotSupported", "The fake QMS does not serve " + op}
}

// result encodes v as the response's result element.
func result(name string, v any) string {
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).EncodeElement(v, xml.StartElement{Name: xml.Name{Space: nsQMS, Local: name}}); err != nil {
		panic(err) // the fake's own types always encode
	}
	return b.String()
}

func hasScope(scope, want string) bool {
	fields := strings.Fields(scope)
	return slices.Contains(fields, want) || slices.Contains(fields, qms.ScopeAll)
}

func (s *Server) server(id string) (*QVS, *fault) {
	for _, q := range s.servers {
		if strings.EqualFold(q.Info.ID, id) {
			return q, nil
		}
	}
	return nil, &fault{"s:Client", fmt.Sprintf("There is no QlikView Server with ID %s.", id)}
}

func (s *Server) document(id string) (*QVS, *Document, *fault) {
	for _, q := range s.servers {
		for _, d := range q.Documents {
			if strings.EqualFold(d.Node.ID, id) {
				return q, d, nil
			}
		}
	}
	return nil, nil, &fault{"s:Client", fmt.Sprintf("There is no user document with ID %s.", id)}
}

// configuration is the server's CAL configuration in scope.
func (q *QVS) configuration(scope string) qms.CALConfiguration {
	cfg := qms.CALConfiguration{QVSID: q.Info.ID, Scope: scope}
	if hasScope(scope, qms.ScopeNamedCALs) {
		named := q.Named
		cfg.NamedCALs = &named
	}
	if hasScope(scope, "DocumentCALs") {
		assigned := 0
		for _, d := range q.Documents {
			if d.Licensing.AssignedCALs != nil {
				assigned += len(d.Licensing.AssignedCALs.CALs)
			}
		}
		cfg.DocumentCALs = &qms.DocumentCALFigures{Assigned: assigned}
	}
	if hasScope(scope, "SessionCALs") {
		cfg.SessionCALs = &qms.PoolCALs[qms.SessionCALList]{AssignedCALs: &qms.SessionCALList{CALs: q.Session}}
	}
	if hasScope(scope, "UsageCALs") {
		cfg.UsageCALs = &qms.PoolCALs[qms.UsageCALList]{AssignedCALs: &qms.UsageCALList{CALs: q.Usage}}
	}
	return cfg
}

// reassign applies a saved list of assigned CALs: a CAL left out is
// removed (into quarantine until last use + Quarantine when it was used
// within it, else freed at once); a user added gets a new, unused CAL.
func (s *Server) reassign(current, removed *qms.AssignedNamedCALs, saved []qms.CAL) (*qms.AssignedNamedCALs, *qms.AssignedNamedCALs) {
	if removed == nil {
		removed = &qms.AssignedNamedCALs{}
	}
	next := &qms.AssignedNamedCALs{CALs: []qms.CAL{}}
	now := s.now()
	for _, c := range listOf(current) {
		if slices.ContainsFunc(saved, func(k qms.CAL) bool { return strings.EqualFold(k.UserName, c.UserName) }) {
			next.CALs = append(next.CALs, c)
			continue
		}
		last, _ := qms.ParseTime(c.LastUsed)
		if last != nil && last.Add(s.Quarantine).After(now) {
			c.QuarantinedUntil = last.Add(s.Quarantine).UTC().Format(time.RFC3339)
			removed.CALs = append(removed.CALs, c)
		}
	}
	for _, k := range saved {
		if !holds(current, k.UserName) {
			next.CALs = append(next.CALs, qms.CAL{UserName: k.UserName, LastUsed: qms.NeverUsed, QuarantinedUntil: qms.NeverUsed})
		}
	}
	return next, removed
}

func listOf(l *qms.AssignedNamedCALs) []qms.CAL {
	if l == nil {
		return nil
	}
	return l.CALs
}

func holds(l *qms.AssignedNamedCALs, user string) bool {
	return slices.ContainsFunc(listOf(l), func(c qms.CAL) bool { return strings.EqualFold(c.UserName, user) })
}
