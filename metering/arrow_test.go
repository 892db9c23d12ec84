package metering

import (
	"cmp"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/qvmeter/qvmeter/parse"
)

// AppendRecord converts a parser record (parse.Schema) into Sessions
// interned in the engine's dictionaries and appends them to out, in record
// order. It is how tests and small inputs feed the engine straight from
// parse.Decoder; the caller puts the sessions in session_end order (for
// example with ReplaySessions) before adding them.
func (e *Engine) AppendRecord(rec arrow.Record, out []Session) ([]Session, error) {
	if !rec.Schema().Equal(parse.Schema) {
		return out, fmt.Errorf("record schema is not parse.Schema")
	}
	var columns [parse.NumColumns][]string
	for _, col := range []int{parse.ColUserKey, parse.ColDocumentKey, parse.ColServer, parse.ColClientMachineID, parse.ColClientType,
		parse.ColExeVersion, parse.ColCALType, parse.ColCALClass, parse.ColSourceFile, parse.ColAuthenticatedUser, parse.ColIdentifyingUser} {
		columns[col] = make([]string, rec.NumRows())
		for i := range columns[col] {
			columns[col][i] = parse.StringAt(rec.Column(col), i)
		}
	}
	times := func(col int) *array.Timestamp { return rec.Column(col).(*array.Timestamp) }
	ints := func(col int) *array.Int64 { return rec.Column(col).(*array.Int64) }
	start, end, duration := times(parse.ColSessionStart), times(parse.ColSessionEnd), ints(parse.ColDurationMS)
	count, line := ints(parse.ColCALUsageCount), ints(parse.ColSourceLine)
	for i := range int(rec.NumRows()) {
		user := e.Users.ID(columns[parse.ColUserKey][i])
		e.SetUserDisplay(user, cmp.Or(columns[parse.ColAuthenticatedUser][i], columns[parse.ColIdentifyingUser][i]))
		s := Session{Start: int64(start.Value(i)), End: int64(end.Value(i)), DurationMS: duration.Value(i),
			User: user, Document: e.Documents.ID(columns[parse.ColDocumentKey][i]), Server: e.Servers.ID(columns[parse.ColServer][i]),
			Client:     e.Clients.ID(ClientKey(columns[parse.ColClientMachineID][i], columns[parse.ColClientType][i])),
			ExeVersion: e.ExeVersions.ID(columns[parse.ColExeVersion][i]), CALText: e.CALTexts.ID(columns[parse.ColCALType][i]),
			SourceFile: e.SourceFiles.ID(columns[parse.ColSourceFile][i]), SourceLine: line.Value(i),
			CAL: calClassOf(columns[parse.ColCALClass][i]), UsageCount: NoCount}
		if count.IsValid(i) {
			s.UsageCount = count.Value(i)
		}
		out = append(out, s)
	}
	return out, nil
}
