package qms

import "encoding/xml"

// The service contract of the QlikView Management Service API, version
// 12/2 (interface IQMS2), as its WSDL and schemas publish it. Element
// names, their order and their namespaces are copied from the schemas a
// QMS serves at http://<host>:4799/QMS/Service?wsdl, as checked into the
// public QlikProfessionalServices/QlikView-CLI repository ("Connected
// Services/QMSAPI": QMSBackendService.wsdl for the SOAPActions and the
// NTLM policy, Service19.xsd for the operations of
// http://ws.qliktech.com/QMS/12/2/, Service20.xsd for the data objects,
// Service6.xsd for the CAL data objects). WCF's DataContractSerializer
// reads members in schema order (alphabetical), so the field order of
// every struct below is part of the contract.
const (
	nsSOAP    = "http://schemas.xmlsoap.org/soap/envelope/"
	nsQMS     = "http://ws.qliktech.com/QMS/12/2/"
	nsObjects = "http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects"
	nsCALs    = "http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs"

	// SOAPActionPrefix + operation name is each call's SOAPAction header.
	SOAPActionPrefix = nsQMS + "IQMS2/"
	// ServiceKeyHeader carries the key GetTimeLimitedServiceKey returns;
	// every other call must send it.
	ServiceKeyHeader = "X-Service-Key"
)

// Enumeration values of the contract (ServiceTypes, CALConfigurationScope,
// DocumentMetaDataScope).
const (
	ServiceTypeQlikViewServer = "QlikViewServer"
	ScopeNamedCALs            = "NamedCALs"
	ScopeAll                  = "All"
	MetaDataScopeLicensing    = "Licensing"
)

// NeverUsed is how the contract writes a DateTime that was never set
// (.NET's DateTime.MinValue): a CAL never used, a CAL not quarantined.
const NeverUsed = "0001-01-01T00:00:00"

// ServiceInfo is one service the QMS knows (GetServices).
type ServiceInfo struct {
	Address          string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Address,omitempty"`
	ClusterNodeCount int    `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects ClusterNodeCount"`
	ID               string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects ID"`
	Name             string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Name"`
	Type             string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Type"`
}

// CAL is the contract's CAL and the types extending it: AssignedNamedCAL,
// LeasedNamedCAL (with LeasedAt), DocumentCAL (with DocumentName). Times
// are kept as the server wrote them, so that what is saved back is what
// was read.
type CAL struct {
	LastUsed         string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs LastUsed"`
	MachineID        string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs MachineID,omitempty"`
	QuarantinedUntil string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs QuarantinedUntil"`
	UserName         string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs UserName"`
	LeasedAt         string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs LeasedAt,omitempty"`
}

// AssignedNamedCALs is an ArrayOfAssignedNamedCAL. A nil pointer is an
// absent (null) list, a non-nil empty one an empty list.
type AssignedNamedCALs struct {
	CALs []CAL `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AssignedNamedCAL"`
}

// LeasedNamedCALs is an ArrayOfLeasedNamedCAL.
type LeasedNamedCALs struct {
	CALs []CAL `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs LeasedNamedCAL"`
}

// SessionCALList is an ArrayOfAssignedSessionCAL.
type SessionCALList struct {
	CALs []CAL `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AssignedSessionCAL"`
}

// UsageCALList is an ArrayOfAssignedUsageCAL.
type UsageCALList struct {
	CALs []CAL `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AssignedUsageCAL"`
}

// CALConfiguration is what GetCALConfiguration returns and
// SaveCALConfiguration takes.
type CALConfiguration struct {
	DocumentCALs *DocumentCALFigures       `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs DocumentCALs,omitempty"`
	NamedCALs    *NamedCALs                `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs NamedCALs,omitempty"`
	QVSID        string                    `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs QVSID"`
	Scope        string                    `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Scope"`
	SessionCALs  *PoolCALs[SessionCALList] `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs SessionCALs,omitempty"`
	Uncapped     bool                      `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Uncapped"`
	UsageCALs    *PoolCALs[UsageCALList]   `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs UsageCALs,omitempty"`
}

// DocumentCALFigures is CALConfiguration.CALConfigurationDocumentCALs.
type DocumentCALFigures struct {
	Assigned  int `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Assigned"`
	InLicense int `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs InLicense"`
	Limit     int `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Limit"`
}

// NamedCALs is CALConfiguration.CALConfigurationNamedCALs.
type NamedCALs struct {
	AllowDynamicAssignment             bool               `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AllowDynamicAssignment"`
	AllowDynamicAssignmentAnalyzer     bool               `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AllowDynamicAssignmentAnalyzer"`
	AllowDynamicAssignmentProfessional bool               `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AllowDynamicAssignmentProfessional"`
	AllowLicenseLease                  bool               `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AllowLicenseLease"`
	Assigned                           int                `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Assigned"`
	AssignedCALs                       *AssignedNamedCALs `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AssignedCALs,omitempty"`
	IdentificationMode                 string             `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs IdentificationMode,omitempty"`
	InLicense                          int                `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs InLicense"`
	LeasedCALs                         *LeasedNamedCALs   `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs LeasedCALs,omitempty"`
	Limit                              int                `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Limit"`
	RemovedAssignedCALs                *AssignedNamedCALs `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs RemovedAssignedCALs,omitempty"`
}

// PoolCALs is CALConfigurationSessionCALs and CALConfigurationUsageCALs.
type PoolCALs[L any] struct {
	AssignedCALs *L  `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs AssignedCALs,omitempty"`
	Available    int `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Available"`
	InLicense    int `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs InLicense"`
	Limit        int `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects.CALs Limit"`
}

// DocumentNode is one user document (GetUserDocuments). IsOrphan marks a
// document the QMS still has metadata for but whose file is gone.
type DocumentNode struct {
	FolderID          string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects FolderID"`
	ID                string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects ID"`
	IsDuplicateQVWApp bool   `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects IsDuplicateQVWApp"`
	IsOrphan          bool   `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects IsOrphan"`
	IsSubFolder       bool   `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects IsSubFolder"`
	Name              string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Name"`
	RelativePath      string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects RelativePath"`
	TaskCount         int    `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects TaskCount"`
	Type              string `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Type"`
}

// RawXML keeps an element qvmeter does not read as it came, so that saving
// a DocumentMetaData back loses nothing.
type RawXML struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Inner []byte     `xml:",innerxml"`
}

// DocumentMetaData is what GetDocumentMetaData returns and
// SaveDocumentMetaData takes. Only Licensing is read; the other parts are
// kept as they came.
type DocumentMetaData struct {
	Authorization *RawXML       `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Authorization,omitempty"`
	Collaboration *RawXML       `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Collaboration,omitempty"`
	DocumentInfo  *RawXML       `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects DocumentInfo,omitempty"`
	Licensing     *Licensing    `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Licensing,omitempty"`
	QVSID         string        `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects QVSID"`
	Scope         string        `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Scope"`
	Server        *RawXML       `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects Server,omitempty"`
	UserDocument  *DocumentNode `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects UserDocument,omitempty"`
}

// Licensing is DocumentMetaData.DocumentMetaDataLicensing: the document's
// CALs.
type Licensing struct {
	AllowDynamicCALAssignment bool               `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects AllowDynamicCALAssignment"`
	AssignedCALs              *AssignedNamedCALs `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects AssignedCALs,omitempty"`
	CALsAllocated             int                `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects CALsAllocated"`
	CALsEmbedded              int                `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects CALsEmbedded"`
	RemovedAssignedCALs       *AssignedNamedCALs `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects RemovedAssignedCALs,omitempty"`
}

// serviceList is an ArrayOfServiceInfo.
type serviceList struct {
	Services []ServiceInfo `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects ServiceInfo"`
}

// documentList is an ArrayOfDocumentNode.
type documentList struct {
	Documents []DocumentNode `xml:"http://schemas.datacontract.org/2004/07/PIX.QMSAPI.DataObjects DocumentNode"`
}

// The operations' request and response elements (Service19.xsd).
type (
	getTimeLimitedServiceKey struct {
		XMLName xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ GetTimeLimitedServiceKey"`
	}
	getTimeLimitedServiceKeyResponse struct {
		XMLName xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ GetTimeLimitedServiceKeyResponse"`
		Result  string   `xml:"http://ws.qliktech.com/QMS/12/2/ GetTimeLimitedServiceKeyResult"`
	}
	getServices struct {
		XMLName      xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ GetServices"`
		ServiceTypes string   `xml:"http://ws.qliktech.com/QMS/12/2/ serviceTypes"`
	}
	getServicesResponse struct {
		XMLName xml.Name     `xml:"http://ws.qliktech.com/QMS/12/2/ GetServicesResponse"`
		Result  *serviceList `xml:"http://ws.qliktech.com/QMS/12/2/ GetServicesResult"`
	}
	getCALConfiguration struct {
		XMLName xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ GetCALConfiguration"`
		QVSID   string   `xml:"http://ws.qliktech.com/QMS/12/2/ qvsID"`
		Scope   string   `xml:"http://ws.qliktech.com/QMS/12/2/ scope"`
	}
	getCALConfigurationResponse struct {
		XMLName xml.Name          `xml:"http://ws.qliktech.com/QMS/12/2/ GetCALConfigurationResponse"`
		Result  *CALConfiguration `xml:"http://ws.qliktech.com/QMS/12/2/ GetCALConfigurationResult"`
	}
	saveCALConfiguration struct {
		XMLName          xml.Name          `xml:"http://ws.qliktech.com/QMS/12/2/ SaveCALConfiguration"`
		CALConfiguration *CALConfiguration `xml:"http://ws.qliktech.com/QMS/12/2/ calConfiguration"`
	}
	saveCALConfigurationResponse struct {
		XMLName xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ SaveCALConfigurationResponse"`
	}
	getUserDocuments struct {
		XMLName xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ GetUserDocuments"`
		QVSID   string   `xml:"http://ws.qliktech.com/QMS/12/2/ qvsID"`
	}
	getUserDocumentsResponse struct {
		XMLName xml.Name      `xml:"http://ws.qliktech.com/QMS/12/2/ GetUserDocumentsResponse"`
		Result  *documentList `xml:"http://ws.qliktech.com/QMS/12/2/ GetUserDocumentsResult"`
	}
	getDocumentMetaData struct {
		XMLName      xml.Name      `xml:"http://ws.qliktech.com/QMS/12/2/ GetDocumentMetaData"`
		UserDocument *DocumentNode `xml:"http://ws.qliktech.com/QMS/12/2/ userDocument"`
		Scope        string        `xml:"http://ws.qliktech.com/QMS/12/2/ scope"`
	}
	getDocumentMetaDataResponse struct {
		XMLName xml.Name          `xml:"http://ws.qliktech.com/QMS/12/2/ GetDocumentMetaDataResponse"`
		Result  *DocumentMetaData `xml:"http://ws.qliktech.com/QMS/12/2/ GetDocumentMetaDataResult"`
	}
	saveDocumentMetaData struct {
		XMLName          xml.Name          `xml:"http://ws.qliktech.com/QMS/12/2/ SaveDocumentMetaData"`
		DocumentMetaData *DocumentMetaData `xml:"http://ws.qliktech.com/QMS/12/2/ documentMetaData"`
	}
	saveDocumentMetaDataResponse struct {
		XMLName xml.Name `xml:"http://ws.qliktech.com/QMS/12/2/ SaveDocumentMetaDataResponse"`
	}
)
