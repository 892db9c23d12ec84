package dataset

// SessionRow is the Parquet schema of DIR/sessions/month=YYYY-MM/*.parquet:
// one stored session, with the parser's columns under the same snake_case
// names (see parse.Schema). It is the contract with every reader of the
// dataset (metering, reports, DuckDB, Spark): change it only by adding
// optional columns.
//
// Times are INT64 TIMESTAMP(MILLIS, isAdjustedToUTC=true). Ingest writes
// every column zstd-compressed (the codec is the writer's, not a tag's, so
// that its level is chosen in one place). A pointer field
// is an optional column: null where the log's layout lacks the column, where
// a numeric field was empty or -1, or where a time was empty.
type SessionRow struct {
	ExeType            *string  `parquet:"exe_type,optional,dict"`
	ExeVersion         *string  `parquet:"exe_version,optional,dict"`
	ServerStarted      *int64   `parquet:"server_started,optional,timestamp(millisecond:utc)"`
	SessionEnd         int64    `parquet:"session_end,timestamp(millisecond:utc)"`
	Document           *string  `parquet:"document,optional,dict"`
	DocumentTimestamp  *int64   `parquet:"document_timestamp,optional,timestamp(millisecond:utc)"`
	QlikViewUser       *string  `parquet:"qlikview_user,optional,dict"`
	ExitReason         *string  `parquet:"exit_reason,optional,dict"`
	SessionID          *string  `parquet:"session_id,optional"`
	SessionStart       int64    `parquet:"session_start,timestamp(millisecond:utc)"`
	CPUSeconds         *float64 `parquet:"cpu_seconds,optional"`
	BytesReceived      *int64   `parquet:"bytes_received,optional"`
	BytesSent          *int64   `parquet:"bytes_sent,optional"`
	Calls              *int64   `parquet:"calls,optional"`
	Selections         *int64   `parquet:"selections,optional"`
	AuthenticatedUser  *string  `parquet:"authenticated_user,optional,dict"`
	IdentifyingUser    *string  `parquet:"identifying_user,optional,dict"`
	ClientMachineID    *string  `parquet:"client_machine_id,optional,dict"`
	SerialNumber       *string  `parquet:"serial_number,optional,dict"`
	ClientType         *string  `parquet:"client_type,optional,dict"`
	ClientBuildVersion *string  `parquet:"client_build_version,optional,dict"`
	SecureProtocol     *string  `parquet:"secure_protocol,optional,dict"`
	TunnelProtocol     *string  `parquet:"tunnel_protocol,optional,dict"`
	ServerPort         *int64   `parquet:"server_port,optional"`
	ClientAddress      *string  `parquet:"client_address,optional,dict"`
	ClientPort         *int64   `parquet:"client_port,optional"`
	CALType            *string  `parquet:"cal_type,optional,dict"`
	CALUsageCount      *int64   `parquet:"cal_usage_count,optional"`
	Server             string   `parquet:"server,dict"`
	SourceFile         string   `parquet:"source_file,dict"`
	SourceLine         int64    `parquet:"source_line"`
	UserKey            string   `parquet:"user_key,dict"`
	DocumentKey        string   `parquet:"document_key,dict"`
	CALClass           string   `parquet:"cal_class,dict"`
	ExitClass          string   `parquet:"exit_class,dict"`
	DurationMS         int64    `parquet:"duration_ms"`
	User               *string  `parquet:"user,optional,dict"`        // display name (parse.UserDisplay); null in files written before it
	Implausible        *string  `parquet:"implausible,optional,dict"` // null, or why the values cannot be real (parse.Implausible*)

	// SessionKey identifies the session for de-duplication: a 64-bit xxh3
	// hash of the Session ID where the log has one, otherwise of (server,
	// server_started, session_start, session_end, client_machine_id,
	// document_key, user_key). Not a log column.
	SessionKey int64 `parquet:"session_key"`
}

// RejectRow is the Parquet schema of DIR/rejects/*.parquet: one line the
// parser could not place.
type RejectRow struct {
	Server     string `parquet:"server,dict"`
	SourceFile string `parquet:"source_file,dict"`
	SourceLine int64  `parquet:"source_line"`
	Column     string `parquet:"column,dict"`
	Reason     string `parquet:"reason,dict"`
	Message    string `parquet:"message"`
	Raw        string `parquet:"raw"`
	IngestedAt int64  `parquet:"ingested_at,timestamp(millisecond:utc)"`
}
