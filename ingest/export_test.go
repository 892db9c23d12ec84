package ingest

// Internals the external tests (package ingest_test) use.
var (
	Lock        = lock
	TmpSuffix   = tmpSuffix
	KindSession = kindSessions
	KindReject  = kindRejects
)
