package ingest

// Internals the external tests (package ingest_test) use.
var (
	Lock        = lock
	TmpSuffix   = tmpSuffix
	KindSession = kindSessions
	KindReject  = kindRejects
)

// LayoutRetries returns how many runs were redone because a split file
// changed its header mid-file.
func LayoutRetries() int64 { return layoutRetries.Load() }
