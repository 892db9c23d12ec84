package ingest

// SessionRow is the Parquet schema of DIR/sessions/month=YYYY-MM/*.parquet:
// one stored session, with the parser's columns under the same snake_case
// names (see parse.Schema). It is the contract with every reader of the
// dataset (metering, reports, DuckDB, Spark): change it only by adding
// optional columns.
//
// Times are INT64 TIMESTAMP(MILLIS, isAdjustedToUTC=true). A pointer field
// is an optional column: null where the log's layout lacks the column, where
// a numeric field was empty or -1, or where a time was empty.
type SessionRow struct {
	ExeType            *string  `parquet:"exe_type,optional,dict,zstd"`
	ExeVersion         *string  `parquet:"exe_version,optional,dict,zstd"`
	ServerStarted      *int64   `parquet:"server_started,optional,timestamp(millisecond:utc),zstd"`
	SessionEnd         int64    `parquet:"session_end,timestamp(millisecond:utc),zstd"`
	Document           *string  `parquet:"document,optional,dict,zstd"`
	DocumentTimestamp  *int64   `parquet:"document_timestamp,optional,timestamp(millisecond:utc),zstd"`
	QlikViewUser       *string  `parquet:"qlikview_user,optional,dict,zstd"`
	ExitReason         *string  `parquet:"exit_reason,optional,dict,zstd"`
	SessionID          *string  `parquet:"session_id,optional,zstd"`
	SessionStart       int64    `parquet:"session_start,timestamp(millisecond:utc),zstd"`
	CPUSeconds         *float64 `parquet:"cpu_seconds,optional,zstd"`
	BytesReceived      *int64   `parquet:"bytes_received,optional,zstd"`
	BytesSent          *int64   `parquet:"bytes_sent,optional,zstd"`
	Calls              *int64   `parquet:"calls,optional,zstd"`
	Selections         *int64   `parquet:"selections,optional,zstd"`
	AuthenticatedUser  *string  `parquet:"authenticated_user,optional,dict,zstd"`
	IdentifyingUser    *string  `parquet:"identifying_user,optional,dict,zstd"`
	ClientMachineID    *string  `parquet:"client_machine_id,optional,dict,zstd"`
	SerialNumber       *string  `parquet:"serial_number,optional,dict,zstd"`
	ClientType         *string  `parquet:"client_type,optional,dict,zstd"`
	ClientBuildVersion *string  `parquet:"client_build_version,optional,dict,zstd"`
	SecureProtocol     *string  `parquet:"secure_protocol,optional,dict,zstd"`
	TunnelProtocol     *string  `parquet:"tunnel_protocol,optional,dict,zstd"`
	ServerPort         *int64   `parquet:"server_port,optional,zstd"`
	ClientAddress      *string  `parquet:"client_address,optional,dict,zstd"`
	ClientPort         *int64   `parquet:"client_port,optional,zstd"`
	CALType            *string  `parquet:"cal_type,optional,dict,zstd"`
	CALUsageCount      *int64   `parquet:"cal_usage_count,optional,zstd"`
	Server             string   `parquet:"server,dict,zstd"`
	SourceFile         string   `parquet:"source_file,dict,zstd"`
	SourceLine         int64    `parquet:"source_line,zstd"`
	UserKey            string   `parquet:"user_key,dict,zstd"`
	DocumentKey        string   `parquet:"document_key,dict,zstd"`
	CALClass           string   `parquet:"cal_class,dict,zstd"`
	ExitClass          string   `parquet:"exit_class,dict,zstd"`
	DurationMS         int64    `parquet:"duration_ms,zstd"`

	// SessionKey identifies the session for de-duplication: a 64-bit xxh3
	// hash of the Session ID where the log has one, otherwise of (server,
	// server_started, session_start, session_end, client_machine_id,
	// document_key, user_key). Not a log column.
	SessionKey int64 `parquet:"session_key,zstd"`
}

// RejectRow is the Parquet schema of DIR/rejects/*.parquet: one line the
// parser could not place.
type RejectRow struct {
	Server     string `parquet:"server,dict,zstd"`
	SourceFile string `parquet:"source_file,dict,zstd"`
	SourceLine int64  `parquet:"source_line,zstd"`
	Column     string `parquet:"column,dict,zstd"`
	Reason     string `parquet:"reason,dict,zstd"`
	Message    string `parquet:"message,zstd"`
	Raw        string `parquet:"raw,zstd"`
	IngestedAt int64  `parquet:"ingested_at,timestamp(millisecond:utc),zstd"`
}

// Dataset layout under the data folder (--data, default ./qvmeter-data).
const (
	SessionsDir = "sessions" // Hive-style month=YYYY-MM/part-*.parquet
	RejectsDir  = "rejects"  // part-*.parquet of RejectRow
	StateDir    = "state"    // metering's tables, replaced atomically
)
