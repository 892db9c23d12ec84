package parse

import "bytes"

// CALClass is the license a session line says it used, folded from the
// free-text CAL Type column (see docs/session-log.md, "Derived columns").
type CALClass uint8

const (
	CALNone CALClass = iota
	CALNamed
	CALDocument
	CALSession
	CALUsage
	CALProfessional
	CALAnalyzer
	CALAnalyzerCapacity
	CALUnknown
)

var calClassNames = [...]string{
	CALNone:             "none",
	CALNamed:            "named",
	CALDocument:         "document",
	CALSession:          "session",
	CALUsage:            "usage",
	CALProfessional:     "professional",
	CALAnalyzer:         "analyzer",
	CALAnalyzerCapacity: "analyzer_capacity",
	CALUnknown:          "unknown",
}

// String returns the class as stored in the cal_class column.
func (c CALClass) String() string { return calClassNames[c] }

// CALClasses lists every class in the order of the constants, for callers
// that need all the names (tests, reports).
func CALClasses() []CALClass {
	out := make([]CALClass, len(calClassNames))
	for i := range out {
		out[i] = CALClass(i)
	}
	return out
}

// calTypeWords maps the CAL Type text, lower-cased with spaces and
// underscores removed, to its class. "Named User" and "Analyzer Capacity"
// are seen in real logs; the others are the best reading of Qlik's help.
var calTypeWords = map[string]CALClass{
	"":                 CALNone,
	"none":             CALNone,
	"named":            CALNamed,
	"nameduser":        CALNamed,
	"fulluse":          CALNamed,
	"document":         CALDocument,
	"session":          CALSession,
	"usage":            CALUsage,
	"professional":     CALProfessional,
	"analyzer":         CALAnalyzer,
	"analyzercapacity": CALAnalyzerCapacity,
	"capacity":         CALAnalyzerCapacity,
}

// ClassifyCAL folds a raw CAL Type value to its class; text it does not
// know is CALUnknown (the raw value is kept in cal_type).
func ClassifyCAL(raw []byte) CALClass {
	var buf [32]byte
	key := buf[:0]
	for _, c := range raw {
		switch {
		case c == ' ' || c == '_' || c == '\t':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if len(key) == len(buf) {
			return CALUnknown
		}
		key = append(key, c)
	}
	if class, ok := calTypeWords[string(key)]; ok {
		return class
	}
	return CALUnknown
}

// ExitClass groups the open list of Exit Reason texts.
type ExitClass uint8

const (
	ExitOther ExitClass = iota
	ExitClientClose
	ExitIdleTimeout
	ExitLRU
	ExitShutdown
)

var exitClassNames = [...]string{
	ExitOther:       "other",
	ExitClientClose: "client_close",
	ExitIdleTimeout: "idle_timeout",
	ExitLRU:         "lru",
	ExitShutdown:    "shutdown",
}

// String returns the class as stored in the exit_class column.
func (e ExitClass) String() string { return exitClassNames[e] }

// ClassifyExit folds a raw Exit Reason: "Socket closed by client" and
// "Session expired after idle time" are seen in real logs, "Socket closed"
// is the help's wording of a client-induced end; the LRU and shutdown
// wordings are only known to start with those words.
func ClassifyExit(raw []byte) ExitClass {
	switch {
	case hasPrefixFold(raw, "lru"):
		return ExitLRU
	case hasPrefixFold(raw, "shutdown"), containsFold(raw, "shut down"):
		return ExitShutdown
	case containsFold(raw, "closed by client"), hasPrefixFold(raw, "socket closed"):
		return ExitClientClose
	case containsFold(raw, "idle"):
		return ExitIdleTimeout
	}
	return ExitOther
}

func hasPrefixFold(s []byte, prefix string) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], []byte(prefix))
}

func containsFold(s []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if bytes.EqualFold(s[i:i+len(sub)], []byte(sub)) {
			return true
		}
	}
	return false
}
