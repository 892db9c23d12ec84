package reports

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/qvmeter/qvmeter/parse"
)

// withField returns a log line of sessionLine with one field replaced.
func withField(line, column, value string) string {
	fields := strings.Split(line, "\t")
	for i, name := range logHeader {
		if name == column {
			fields[i] = value
		}
	}
	return strings.Join(fields, "\t")
}

// implausibleEstate ingests a log with the corrupt values and
// meters it as of 2024-04-01: two Analyzer Capacity lines with a CAL Usage
// Count of 5,000,000,000,000,000,000 (flagged count_above_ceiling by the
// decoder) beside a plausible one of 12 minutes; a session CAL line and a
// usage CAL line whose Session Start is in year 0001 (time_before_qlikview)
// beside a plausible session CAL line; and a named CAL user known only by
// Identifying User, CORP\Carol.
func implausibleEstate(t *testing.T) string {
	dir := t.TempDir()
	logs, data := filepath.Join(dir, "logs"), filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	day := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	year1 := "00010101T000000.000+0000"
	capacity := func(i int, count string) string {
		return withField(sessionLine(i, `CORP\Anna`, `C:\Docs\Sales.qvw`, "Analyzer Capacity", day.Add(time.Duration(i)*time.Hour), 10),
			"CAL Usage Count", count)
	}
	lines := []string{strings.Join(logHeader, "\t"),
		capacity(0, "12"),
		capacity(1, "5000000000000000000"),
		capacity(2, "5000000000000000000"),
		sessionLine(3, `CORP\Dora`, `C:\Docs\Sales.qvw`, "Session", day.Add(3*time.Hour), 30),
		withField(sessionLine(4, `CORP\Dora`, `C:\Docs\Sales.qvw`, "Session", day.Add(4*time.Hour), 30), "Session Start", year1),
		withField(sessionLine(5, `CORP\Emil`, `C:\Docs\Sales.qvw`, "Usage", day.Add(5*time.Hour), 30), "Session Start", year1),
		withField(withField(sessionLine(6, "", `C:\Docs\Sales.qvw`, "Named User", day.Add(6*time.Hour), 30),
			"Authenticated User", ""), "Identifying User", `CORP\Carol`),
	}
	require.NoError(t, os.WriteFile(filepath.Join(logs, "Sessions_QVS-TEST_2024-03-04.log"), []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644))
	license := filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 5\nsession = 2\nusage = 10\n[slk]\ncapacity_minutes = 1000\n"), 0o644))
	ctx := context.Background()
	_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{logs}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	_, err = ensureStored(ctx, data, StateOptions{AsOf: asOf, License: license})
	require.NoError(t, err)
	return data
}

// runEveryReport runs every report in every format, and the page, and
// returns the tables by report name: none may fail.
func runEveryReport(t *testing.T, db *DB) map[string]*Table {
	ctx := context.Background()
	tables := map[string]*Table{}
	for _, r := range registry {
		p := DefaultParams()
		p.User = `CORP\Anna`
		table, err := db.Run(ctx, r.Name, p)
		require.NoError(t, err, r.Name)
		for _, format := range []string{FormatTable, FormatCSV, FormatJSON, FormatParquet} {
			require.NoError(t, Write(&bytes.Buffer{}, table, format), "%s as %s", r.Name, format)
		}
		tables[r.Name] = table
	}
	for _, by := range []string{"user", "document", "server"} {
		p := DefaultParams()
		p.By = by
		_, err := db.Run(ctx, "capacity", p)
		require.NoError(t, err, "capacity --by %s", by)
	}
	p := DefaultParams()
	p.Billed = []Billed{{Month: "2024-03", Minutes: 12, Pool: metering.DefaultPool}}
	_, err := db.Run(ctx, "capacity", p)
	require.NoError(t, err, "capacity --billed")
	var page bytes.Buffer
	require.NoError(t, WriteHTML(ctx, &page, db, DefaultParams()))
	return tables
}

// column returns the values of a table's column.
func column(t *testing.T, table *Table, name string) []any {
	for i, c := range table.Columns {
		if c.Name == name {
			values := make([]any, len(table.Rows))
			for r, row := range table.Rows {
				values[r] = row[i]
			}
			return values
		}
	}
	t.Fatalf("report %s has no column %s", table.Report, name)
	return nil
}

// Issue 10: "Implausible values are quarantined, not trusted" and "No
// stored value can make a report fail". The two counts of 5·10^18 are in no
// sum (capacity counts the 12 plausible minutes, and says by how many the
// month would differ), the Session Starts in year 0001 give no concurrency
// from 1970 and no usage CALs, each line is an implausible_value anomaly
// with its file and line, and every report and the page succeed.
func TestImplausibleValuesAreInNoFigureAndFailNoReport(t *testing.T) {
	ctx := context.Background()
	db, err := openStored(t, ctx, implausibleEstate(t))
	require.NoError(t, err)
	defer db.Close()
	tables := runEveryReport(t, db)

	capacity := tables["capacity"]
	require.Equal(t, []any{"2024-03"}, column(t, capacity, "month"))
	require.Equal(t, []any{int64(12)}, column(t, capacity, "minutes"))
	require.Equal(t, []any{int64(math.MaxInt64)}, column(t, capacity, "implausible_minutes"), "5·10^18 twice, held at the 64-bit limit")

	require.Equal(t, []any{"2024-03-04"}, column(t, tables["concurrency"], "day"), "only the plausible session CAL: no day from 1970")
	require.Empty(t, tables["usage-cals"].Rows, "the only usage CAL line starts in year 0001")

	summary := tables["summary"]
	require.Equal(t, int64(3), column(t, summary, "sessions")[0], "seven lines, four set aside")
	require.Equal(t, time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC), column(t, summary, "first_session")[0])
	require.Equal(t, int64(12), column(t, summary, "capacity_minutes")[0])

	anomalies := tables["anomalies"]
	var implausible []string
	for i, kind := range column(t, anomalies, "kind") {
		if kind == metering.AnomalyImplausibleValue {
			reason, _, _ := strings.Cut(column(t, anomalies, "detail")[i].(string), ":")
			implausible = append(implausible, fmt.Sprintf("%s %s:%d", reason,
				filepath.Base(column(t, anomalies, "source_file")[i].(string)), column(t, anomalies, "source_line")[i]))
		}
	}
	require.ElementsMatch(t, []string{
		parse.ImplausibleCountAboveCeiling + " Sessions_QVS-TEST_2024-03-04.log:3",
		parse.ImplausibleCountAboveCeiling + " Sessions_QVS-TEST_2024-03-04.log:4",
		parse.ImplausibleTimeBeforeQlikView + " Sessions_QVS-TEST_2024-03-04.log:6",
		parse.ImplausibleTimeBeforeQlikView + " Sessions_QVS-TEST_2024-03-04.log:7",
	}, implausible)
}

// Issue 10, "Display names come from the same field the user key came
// from": a user known only by Identifying User is shown as the log spells
// it, in the holders table and the revoke list, not as the lower-case key.
func TestAUserKnownOnlyByIdentifyingUserKeepsTheirSpelling(t *testing.T) {
	ctx := context.Background()
	db, err := openStored(t, ctx, implausibleEstate(t))
	require.NoError(t, err)
	defer db.Close()
	var holder string
	require.NoError(t, db.conn.QueryRowContext(ctx, `SELECT "user" FROM holders WHERE user_key = 'corp\carol'`).Scan(&holder))
	require.Equal(t, `CORP\Carol`, holder)
	idle, err := db.Run(ctx, "idle-cals", Params{All: true})
	require.NoError(t, err)
	require.Equal(t, []any{`CORP\Carol`}, column(t, idle, "user"))
}

// olderSchema is the dataset's schema before the user and implausible
// columns: what a dataset written by an older version holds.
func olderSchema() *parquet.Schema {
	group := parquet.Group{}
	for _, field := range parquet.SchemaOf(dataset.SessionRow{}).Fields() {
		if name := field.Name(); name != "user" && name != "implausible" {
			group[name] = field
		}
	}
	return parquet.NewSchema("SessionRow", group)
}

// Issue 10: "No stored value can make a report fail, and metering's sums
// cannot overflow", for values nothing flagged: a dataset written before
// the implausible column, with two CAL Usage Counts of 5·10^18 (of two
// users, so that only a sum over both overflows) and counters at the
// largest 64-bit integer. The months' minutes are held at the limit (a
// sum_saturated anomaly says so), and every report succeeds.
func TestHugeValuesAnOlderVersionStoredFailNoReport(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	folder := filepath.Join(data, dataset.SessionsDir, "month=2024-03")
	require.NoError(t, os.MkdirAll(folder, 0o755))
	start := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC).UnixMilli()
	huge, count, text, class := int64(math.MaxInt64), int64(5_000_000_000_000_000_000), "Analyzer Capacity", parse.CALAnalyzerCapacity.String()
	var rows []dataset.SessionRow
	for i, user := range []string{`CORP\Anna`, `CORP\Bert`} {
		doc := `C:\Docs\Sales.qvw`
		rows = append(rows, dataset.SessionRow{SessionStart: start, SessionEnd: start + 10*60_000, DurationMS: 10 * 60_000,
			AuthenticatedUser: &user, UserKey: parse.UserKey(user, "", ""), Document: &doc, DocumentKey: parse.DocumentKey(doc),
			Server: "QVS", CALType: &text, CALClass: class, CALUsageCount: &count, BytesSent: &huge, BytesReceived: &huge,
			Calls: &huge, Selections: &huge, SourceFile: "Sessions_QVS.log", SourceLine: int64(i + 2)})
	}
	f, err := os.Create(filepath.Join(folder, "part-0.parquet"))
	require.NoError(t, err)
	w := parquet.NewGenericWriter[dataset.SessionRow](f, olderSchema())
	_, err = w.Write(rows)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
	_, err = ensureStored(ctx, data, StateOptions{AsOf: asOf})
	require.NoError(t, err)
	db, err := openStored(t, ctx, data)
	require.NoError(t, err)
	defer db.Close()
	tables := runEveryReport(t, db)

	require.Equal(t, []any{int64(math.MaxInt64)}, column(t, tables["capacity"], "minutes"))
	require.Equal(t, int64(math.MaxInt64), column(t, tables["summary"], "capacity_minutes")[0])
	require.Contains(t, column(t, tables["anomalies"], "kind"), metering.AnomalySumSaturated)
	require.Equal(t, int64(2), column(t, tables["summary"], "sessions")[0], "rows without the implausible column are all counted")
}
