package parse

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Column indexes into Schema. They are the contract between the decoder,
// the ingest writer and everything that reads records: use the constant,
// never a literal position.
const (
	ColExeType = iota
	ColExeVersion
	ColServerStarted
	ColSessionEnd
	ColDocument
	ColDocumentTimestamp
	ColQlikViewUser
	ColExitReason
	ColSessionID
	ColSessionStart
	ColCPUSeconds
	ColBytesReceived
	ColBytesSent
	ColCalls
	ColSelections
	ColAuthenticatedUser
	ColIdentifyingUser
	ColClientMachineID
	ColSerialNumber
	ColClientType
	ColClientBuildVersion
	ColSecureProtocol
	ColTunnelProtocol
	ColServerPort
	ColClientAddress
	ColClientPort
	ColCALType
	ColCALUsageCount
	// Derived columns.
	ColServer
	ColSourceFile
	ColSourceLine
	ColUserKey
	ColDocumentKey
	ColCALClass
	ColExitClass
	ColDurationMS
	ColUser
	ColImplausible

	NumColumns
)

// DictString is the type of the repeated string columns: users, documents,
// CAL type and the other low-cardinality text. A record's dictionary covers
// that record only. Session ID, Client Machine Identification and Client
// Address are plain strings: nearly every row has its own, and interning
// thousands of distinct values per batch cost more than it saved (one-core
// decoding went from 318 to 410 MB/s without).
var DictString = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// Timestamp is the type of every time column: milliseconds since the Unix
// epoch, UTC. The log's local offset is applied while decoding.
var Timestamp = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// Schema is the one schema of every record the Decoder yields. Column names
// are the snake_case contract also used by the Parquet dataset and the
// reports. Nullability:
//
//   - session_end and session_start are never null: a line without them is
//     rejected;
//   - a column that the file's header does not have is null (session_id in
//     the 28-column layouts);
//   - an empty string field is the empty string, not null;
//   - an empty numeric or time field, or a numeric -1, is null, and so is
//     an unreadable one (counted in Stats);
//   - user_key and user come from one field (see UserKey and UserDisplay):
//     user is the name to show, in its original spelling;
//   - implausible is null for a row whose values can be real, else the
//     reason they cannot (ImplausibleTimeBeforeQlikView …): the raw values
//     stay in their columns, and readers keep such rows out of figures.
var Schema = arrow.NewSchema([]arrow.Field{
	ColExeType:            {Name: "exe_type", Type: DictString, Nullable: true},
	ColExeVersion:         {Name: "exe_version", Type: DictString, Nullable: true},
	ColServerStarted:      {Name: "server_started", Type: Timestamp, Nullable: true},
	ColSessionEnd:         {Name: "session_end", Type: Timestamp},
	ColDocument:           {Name: "document", Type: DictString, Nullable: true},
	ColDocumentTimestamp:  {Name: "document_timestamp", Type: Timestamp, Nullable: true},
	ColQlikViewUser:       {Name: "qlikview_user", Type: DictString, Nullable: true},
	ColExitReason:         {Name: "exit_reason", Type: DictString, Nullable: true},
	ColSessionID:          {Name: "session_id", Type: arrow.BinaryTypes.String, Nullable: true},
	ColSessionStart:       {Name: "session_start", Type: Timestamp},
	ColCPUSeconds:         {Name: "cpu_seconds", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	ColBytesReceived:      {Name: "bytes_received", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColBytesSent:          {Name: "bytes_sent", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColCalls:              {Name: "calls", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColSelections:         {Name: "selections", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColAuthenticatedUser:  {Name: "authenticated_user", Type: DictString, Nullable: true},
	ColIdentifyingUser:    {Name: "identifying_user", Type: DictString, Nullable: true},
	ColClientMachineID:    {Name: "client_machine_id", Type: arrow.BinaryTypes.String, Nullable: true},
	ColSerialNumber:       {Name: "serial_number", Type: DictString, Nullable: true},
	ColClientType:         {Name: "client_type", Type: DictString, Nullable: true},
	ColClientBuildVersion: {Name: "client_build_version", Type: DictString, Nullable: true},
	ColSecureProtocol:     {Name: "secure_protocol", Type: DictString, Nullable: true},
	ColTunnelProtocol:     {Name: "tunnel_protocol", Type: DictString, Nullable: true},
	ColServerPort:         {Name: "server_port", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColClientAddress:      {Name: "client_address", Type: arrow.BinaryTypes.String, Nullable: true},
	ColClientPort:         {Name: "client_port", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColCALType:            {Name: "cal_type", Type: DictString, Nullable: true},
	ColCALUsageCount:      {Name: "cal_usage_count", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	ColServer:             {Name: "server", Type: DictString},
	ColSourceFile:         {Name: "source_file", Type: DictString},
	ColSourceLine:         {Name: "source_line", Type: arrow.PrimitiveTypes.Int64},
	ColUserKey:            {Name: "user_key", Type: DictString},
	ColDocumentKey:        {Name: "document_key", Type: DictString},
	ColCALClass:           {Name: "cal_class", Type: DictString},
	ColExitClass:          {Name: "exit_class", Type: DictString},
	ColDurationMS:         {Name: "duration_ms", Type: arrow.PrimitiveTypes.Int64},
	ColUser:               {Name: "user", Type: DictString},
	ColImplausible:        {Name: "implausible", Type: DictString, Nullable: true},
}, nil)

// StringAt returns a row's value of a string column of Schema, plain or
// dictionary-encoded ("" for null).
func StringAt(col arrow.Array, row int) string {
	if col.IsNull(row) {
		return ""
	}
	switch c := col.(type) {
	case *array.Dictionary:
		return c.Dictionary().(*array.String).Value(c.GetValueIndex(row))
	case *array.String:
		return c.Value(row)
	}
	panic("parse.StringAt: not a string column: " + col.DataType().String())
}
