package dataset

// The data folder's layout (--data, default ./qvmeter-data).
const (
	SessionsDir   = "sessions"     // Hive-style month=YYYY-MM/part-*.parquet of SessionRow
	RejectsDir    = "rejects"      // part-*.parquet of RejectRow
	StateDir      = "state"        // metering's tables and StateInfoFile, replaced as a whole
	ReportsDir    = "reports"      // qvmeter run's reports, a folder per as-of date
	CatalogFile   = "catalog.json" // the committed files and the checkpoints (Catalog)
	LockFile      = "lock"         // the writers' lock (Lock)
	StateInfoFile = "state.json"   // under StateDir: what the state was computed from (StateInfo)
	QMSDir        = "qms"          // date=YYYY-MM-DD/cals.parquet: the servers' own CAL state (package qms)
	RevokeDir     = "revoke"       // <time>.json: journals of qvmeter revoke --apply
)

// The kinds of committed data file in the catalog.
const (
	KindSessions = "sessions"
	KindRejects  = "rejects"
)

// TmpSuffix marks a file written but not yet in place. A data file is
// written as ".<final name>.tmp", which no reader's *.parquet glob matches.
const TmpSuffix = ".tmp"
