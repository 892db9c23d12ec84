package qms

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/go-ntlmssp"
)

// DefaultTimeout bounds one call to the QMS, answer included.
const DefaultTimeout = 2 * time.Minute

// maxResponse bounds what qvmeter reads of one answer: a CAL configuration
// of tens of thousands of users is a few MB.
const maxResponse = 256 << 20

// Options say how to reach a QMS.
type Options struct {
	// URL of the service, http://<qms-host>:4799/QMS/Service.
	URL string
	// User is DOMAIN\name (or name@domain) of an account in the QMS
	// machine's local group "QlikView Management API"; empty sends no
	// credentials (a QMS behind an authenticating proxy).
	User     string
	Password string
	// Timeout of one call; 0 is DefaultTimeout.
	Timeout time.Duration
	// Transport under the NTLM negotiation; nil is http.DefaultTransport.
	Transport http.RoundTripper
}

// Client calls the QMS API: SOAP 1.1 over HTTP with NTLM, every call but
// GetTimeLimitedServiceKey carrying the service key in the X-Service-Key
// header. A Client is not safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client
	key  string
}

// NewClient returns a client for the QMS at o.URL. It does not connect.
func NewClient(o Options) (*Client, error) {
	if o.URL == "" {
		return nil, errors.New("no QMS URL (http://<qms-host>:4799/QMS/Service)")
	}
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("QMS URL %q: want http://<qms-host>:4799/QMS/Service", o.URL)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	// NTLM authenticates a connection, not a request: the negotiator
	// answers the 401 with the type 1 and type 3 messages on one kept-alive
	// connection. It works the same from Linux and Windows, with the
	// credentials given (not the Windows logon's). Each client has its own
	// connections, so that none rides on a connection another client's
	// credentials authenticated.
	transport := o.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Client{opts: o, http: &http.Client{
		Timeout:   o.Timeout,
		Transport: ntlmssp.Negotiator{RoundTripper: transport},
	}}, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Fault is a SOAP fault the QMS answered with.
type Fault struct {
	Operation string
	Code      string
	Message   string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("the QMS refused %s: %s (%s)", f.Operation, f.Message, f.Code)
}

// ErrUnauthorized is a 401 the NTLM negotiation could not get past.
var ErrUnauthorized = errors.New(`the QMS refused the credentials (HTTP 401): check the user and password, and that the account is a member of the local group "QlikView Management API" on the QMS machine`)

// isKeyFault tells a fault about the service key (missing, wrong or
// expired: the key is time-limited), after which one new key is fetched.
func isKeyFault(err error) bool {
	var f *Fault
	return errors.As(err, &f) && strings.Contains(strings.ToLower(f.Message), "service key")
}

// call sends one operation and decodes its response element into out. A
// fault about the service key fetches a new key and tries once more.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	if c.key == "" {
		if err := c.refreshKey(ctx); err != nil {
			return err
		}
	}
	err := c.send(ctx, op, in, out)
	if isKeyFault(err) {
		if err := c.refreshKey(ctx); err != nil {
			return err
		}
		err = c.send(ctx, op, in, out)
	}
	return err
}

func (c *Client) refreshKey(ctx context.Context) error {
	var resp getTimeLimitedServiceKeyResponse
	if err := c.send(ctx, "GetTimeLimitedServiceKey", getTimeLimitedServiceKey{}, &resp); err != nil {
		return err
	}
	if resp.Result == "" {
		return errors.New("the QMS answered GetTimeLimitedServiceKey with an empty key")
	}
	c.key = resp.Result
	return nil
}

type soapFault struct {
	Code   string `xml:"faultcode"`
	String string `xml:"faultstring"`
}

// bodyStart reads d up to the first element inside a SOAP 1.1 Envelope's
// Body, keeping the decoder's namespace context for decoding it.
func bodyStart(d *xml.Decoder) (xml.StartElement, error) {
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		want := [...]string{"Envelope", "Body"}
		if depth < len(want) {
			if se.Name.Space != nsSOAP || se.Name.Local != want[depth] {
				return se, fmt.Errorf("found {%s}%s where a SOAP 1.1 %s belongs", se.Name.Space, se.Name.Local, want[depth])
			}
			depth++
			continue
		}
		return se, nil
	}
}

// envelopeOf returns the SOAP 1.1 request qvmeter sends for one
// operation's request element.
func envelopeOf(body any) ([]byte, error) {
	inner, err := xml.Marshal(body)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<s:Envelope xmlns:s="` + nsSOAP + `"><s:Body>`)
	b.Write(inner)
	b.WriteString(`</s:Body></s:Envelope>`)
	return b.Bytes(), nil
}

func (c *Client) send(ctx context.Context, op string, in, out any) error {
	body, err := envelopeOf(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", `text/xml; charset=utf-8`)
	req.Header.Set("SOAPAction", `"`+SOAPActionPrefix+op+`"`)
	if op != "GetTimeLimitedServiceKey" {
		req.Header.Set(ServiceKeyHeader, c.key)
	}
	if c.opts.User != "" {
		req.SetBasicAuth(c.opts.User, c.opts.Password) // turned into NTLM by the negotiator, never sent as Basic
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var netErr net.Error
		if ctx.Err() == nil && errors.As(err, &netErr) && netErr.Timeout() {
			return fmt.Errorf("%s: the QMS at %s did not answer within %s", op, c.opts.URL, c.opts.Timeout)
		}
		return fmt.Errorf("%s: calling the QMS at %s: %w", op, c.opts.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s: reading the QMS's answer (connection lost?): %w", op, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("%s: %w", op, ErrUnauthorized)
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType != "text/xml" && mediaType != "application/soap+xml" && mediaType != "application/xml" {
		return fmt.Errorf("%s: %s answered %s with %q, not a SOAP envelope: is the URL the QMS API (http://<qms-host>:4799/QMS/Service)?",
			op, c.opts.URL, resp.Status, mediaType)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	first, err := bodyStart(d)
	if err != nil {
		return fmt.Errorf("%s: the QMS's answer (%s) is not a SOAP 1.1 envelope: %w", op, resp.Status, err)
	}
	if first.Name.Space == nsSOAP && first.Name.Local == "Fault" {
		var fault soapFault
		if err := d.DecodeElement(&fault, &first); err != nil {
			return fmt.Errorf("%s: reading the QMS's fault: %w", op, err)
		}
		return &Fault{Operation: op, Code: fault.Code, Message: strings.TrimSpace(fault.String)}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: the QMS answered %s", op, resp.Status)
	}
	if first.Name.Space != nsQMS || first.Name.Local != op+"Response" {
		return fmt.Errorf("%s: the QMS answered with {%s}%s, not {%s}%sResponse", op, first.Name.Space, first.Name.Local, nsQMS, op)
	}
	if err := d.DecodeElement(out, &first); err != nil {
		return fmt.Errorf("%s: the QMS's answer does not follow the contract: %w", op, err)
	}
	return nil
}

// Services lists the QlikView Servers the QMS manages.
func (c *Client) Services(ctx context.Context) ([]ServiceInfo, error) {
	var resp getServicesResponse
	if err := c.call(ctx, "GetServices", getServices{ServiceTypes: ServiceTypeQlikViewServer}, &resp); err != nil {
		return nil, err
	}
	if resp.Result == nil {
		return nil, nil
	}
	return resp.Result.Services, nil
}

// CALConfiguration reads one server's CAL configuration in scope
// (ScopeAll, ScopeNamedCALs …).
func (c *Client) CALConfiguration(ctx context.Context, qvsID, scope string) (*CALConfiguration, error) {
	var resp getCALConfigurationResponse
	if err := c.call(ctx, "GetCALConfiguration", getCALConfiguration{QVSID: qvsID, Scope: scope}, &resp); err != nil {
		return nil, err
	}
	if resp.Result == nil {
		return nil, fmt.Errorf("GetCALConfiguration: the QMS returned no configuration for server %s", qvsID)
	}
	return resp.Result, nil
}

// SaveCALConfiguration writes cfg back; only its Scope's part is changed.
func (c *Client) SaveCALConfiguration(ctx context.Context, cfg *CALConfiguration) error {
	return c.call(ctx, "SaveCALConfiguration", saveCALConfiguration{CALConfiguration: cfg}, &saveCALConfigurationResponse{})
}

// UserDocuments lists one server's user documents.
func (c *Client) UserDocuments(ctx context.Context, qvsID string) ([]DocumentNode, error) {
	var resp getUserDocumentsResponse
	if err := c.call(ctx, "GetUserDocuments", getUserDocuments{QVSID: qvsID}, &resp); err != nil {
		return nil, err
	}
	if resp.Result == nil {
		return nil, nil
	}
	return resp.Result.Documents, nil
}

// DocumentLicensing reads a document's metadata in the Licensing scope:
// its document CALs.
func (c *Client) DocumentLicensing(ctx context.Context, doc DocumentNode) (*DocumentMetaData, error) {
	var resp getDocumentMetaDataResponse
	if err := c.call(ctx, "GetDocumentMetaData", getDocumentMetaData{UserDocument: &doc, Scope: MetaDataScopeLicensing}, &resp); err != nil {
		return nil, err
	}
	if resp.Result == nil {
		return nil, fmt.Errorf("GetDocumentMetaData: the QMS returned no metadata for %s", doc.Name)
	}
	return resp.Result, nil
}

// SaveDocumentMetaData writes md back; only its Scope's part is changed.
func (c *Client) SaveDocumentMetaData(ctx context.Context, md *DocumentMetaData) error {
	return c.call(ctx, "SaveDocumentMetaData", saveDocumentMetaData{DocumentMetaData: md}, &saveDocumentMetaDataResponse{})
}
