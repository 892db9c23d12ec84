// Package qms reads the CAL state QlikView servers keep themselves — who
// holds which named and document CAL, when each was last used, which are
// in quarantine, which named CALs QlikView Desktop has leased to which
// machine — and changes it on request. Session logs show who used a
// licence, never who holds one: a CAL assigned and never used, a document
// CAL left on a deleted document, a lease, live only here.
//
// Two sources:
//
//   - the QlikView Management Service API (Client): SOAP 1.1 over HTTP at
//     http://<qms-host>:4799/QMS/Service, Windows authentication (NTLM,
//     through github.com/Azure/go-ntlmssp, from Linux or Windows with an
//     explicit account), the contract of http://ws.qliktech.com/QMS/12/2/
//     (interface IQMS2), each call carrying the key of
//     GetTimeLimitedServiceKey in an X-Service-Key header. Pull only reads
//     (GetServices, GetCALConfiguration, GetUserDocuments,
//     GetDocumentMetaData); Remove and Reassign change CAL assignments
//     (SaveCALConfiguration, SaveDocumentMetaData) and are used by
//     qvmeter revoke --apply and --undo only.
//   - files (ImportFile): CalData.pgo.xml and BorrowedCalData.pgo.xml,
//     which a QlikView Server with a CAL licence writes when
//     PgoAsXmlAlso=1 is set under [Settings 7] in its Settings.ini, and a
//     documented CSV or JSON export.
//
// Either way the result is a list of Records, stored as a dated snapshot
// under the data folder (WriteSnapshot: DIR/qms/date=YYYY-MM-DD/cals.parquet)
// for the reports to join with the logs.
//
// What the contract is copied from is cited in contract.go; the public
// schemas come from a WSDL a QMS serves (checked into
// github.com/QlikProfessionalServices/QlikView-CLI, "Connected
// Services/QMSAPI"). The PGO XML's inner element names are not public:
// pgo.go says what it reads and how it guards against guessing.
package qms
