package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/ingest"
)

// hostileUsers are user names that would break a report that spliced
// values into SQL, CSV, JSON, HTML or a terminal.
var hostileUsers = []string{
	`CORP\o'brien`,
	`CORP\say "hi"`,
	`CORP\semi;colon`,
	`CORP\100%`,
	`<script>alert(1)</script>`,
	`CORP\` + strings.Repeat("a", 5000),
}

// hostileDocument is a document path with the same kind of characters.
const hostileDocument = `C:\Docs\it's "odd"; 100% <b>x</b>.qvw`

// logHeader is the session log's header; sessionLine fills in one line.
var logHeader = []string{"Exe Type", "Exe Version", "Server Started", "Timestamp", "Document", "Document Timestamp",
	"QlikView User", "Exit Reason", "Session ID", "Session Start", "Session Duration", "CPU Spent (s)", "Bytes Received",
	"Bytes Sent", "Calls", "Selections", "Authenticated User", "Identifying User", "Client Machine Identification",
	"Serial Number", "Client Type", "Client Build Version", "Secure Protocol", "Tunnel Protocol", "Server Port",
	"Client Address", "Client Port", "CAL Type", "CAL Usage Count"}

func sessionLine(i int, user, document, calType string, start time.Time, minutes int) string {
	const layout = "20060102T150405.000-0700"
	values := map[string]string{
		"Exe Type": "RLS64", "Exe Version": "12.50.20200.0", "Server Started": "20240101T000000.000+0000",
		"Timestamp": start.Add(time.Duration(minutes) * time.Minute).Format(layout), "Document": document,
		"Session ID": fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "Session Start": start.Format(layout),
		"Session Duration": fmt.Sprintf("%02d:%02d:00", minutes/60, minutes%60), "Authenticated User": user,
		"Client Machine Identification": fmt.Sprintf("machine-%d", i), "Client Type": "Ajax", "CAL Type": calType,
		"CAL Usage Count": "0", "Exit Reason": "Socket closed by client",
	}
	fields := make([]string, len(logHeader))
	for j, name := range logHeader {
		fields[j] = values[name]
	}
	return strings.Join(fields, "\t")
}

// hostileEstate ingests a log whose every user name is hostile (each with
// a named CAL; the first also a document CAL on hostileDocument, so that
// double-cals has rows), plus a corrupt line carrying a <script> tag, and
// meters it (reconstruct) as of 2024-04-01 against a licence of one named
// CAL, which it returns too.
func hostileEstate(t *testing.T) (data, license string) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	data = filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	lines := []string{strings.Join(logHeader, "\t")}
	start := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	for i, user := range hostileUsers {
		lines = append(lines, sessionLine(i, user, `C:\Docs\Sales.qvw`, "Named User", start.Add(time.Duration(i)*time.Hour), 30))
	}
	lines = append(lines, sessionLine(len(hostileUsers), hostileUsers[0], hostileDocument, "Document", start.AddDate(0, 0, 1), 20))
	lines = append(lines, "<script>alert('reject');</script>\tnot a session line")
	log := filepath.Join(logs, "Sessions_QVS-TEST_2024-03-04.log")
	require.NoError(t, os.WriteFile(log, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644))
	license = filepath.Join(dir, "license.toml")
	require.NoError(t, os.WriteFile(license, []byte("[cal]\nnamed = 1\nnamed_dynamic = true\ndocument_total = 1\n\n[[cal.documents]]\npath = 'C:\\Docs\\Sales.qvw'\nallocated = 1\ndynamic = true\n"), 0o644))
	ctx := context.Background()
	_, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{logs}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	_, err = ensureStored(ctx, data, StateOptions{AsOf: asOf, License: license})
	require.NoError(t, err)
	return data, license
}

// TestHostileValuesComeOutIntact pins that hostile user and document names
// in the logs come out of every report and format intact (CSV and JSON
// read back to the very names), that the table format cannot be driven by
// them, and that the QMC list refuses a name it would split.
func TestHostileValuesComeOutIntact(t *testing.T) {
	ctx := context.Background()
	data, license := hostileEstate(t)
	db, err := openStored(t, ctx, data)
	require.NoError(t, err)
	defer db.Close()

	for _, r := range registry {
		p := DefaultParams()
		p.User = hostileUsers[0]
		table, err := db.Run(ctx, r.Name, p)
		require.NoError(t, err, r.Name)
		for _, format := range []string{FormatTable, FormatCSV, FormatJSON, FormatParquet} {
			require.NoError(t, Write(&bytes.Buffer{}, table, format), "%s as %s", r.Name, format)
		}
	}

	idle, err := db.Run(ctx, "idle-cals", Params{All: true})
	require.NoError(t, err)
	var csvOut, jsonOut, tableOut bytes.Buffer
	require.NoError(t, Write(&csvOut, idle, FormatCSV))
	require.NoError(t, Write(&jsonOut, idle, FormatJSON))
	require.NoError(t, Write(&tableOut, idle, FormatTable))
	records, err := csv.NewReader(&csvOut).ReadAll()
	require.NoError(t, err)
	var objects []map[string]any
	require.NoError(t, json.Unmarshal(jsonOut.Bytes(), &objects))
	var csvUsers, jsonUsers, documents []string
	for _, rec := range records[1:] {
		csvUsers = append(csvUsers, rec[1])
	}
	for _, o := range objects {
		jsonUsers = append(jsonUsers, o["user"].(string))
		documents = append(documents, o["document"].(string))
	}
	require.ElementsMatch(t, append([]string{hostileUsers[0]}, hostileUsers...), csvUsers)
	require.ElementsMatch(t, csvUsers, jsonUsers)
	require.Contains(t, documents, `c:/docs/it's "odd"; 100% <b>x</b>.qvw`)
	require.NotContains(t, jsonOut.String(), "<script>", "JSON escapes < and > so it can sit in HTML")
	require.NotContains(t, tableOut.String(), strings.Repeat("a", maxCell), "the table format cuts long names")

	rejects, err := db.Run(ctx, "rejects", DefaultParams())
	require.NoError(t, err)
	require.Len(t, rejects.Rows, 1)
	require.Equal(t, "<script>alert('reject');</script>\tnot a session line", rejects.Rows[0][6])
	var rejectTable bytes.Buffer
	require.NoError(t, Write(&rejectTable, rejects, FormatTable))
	require.Contains(t, rejectTable.String(), `</script>\tnot a session line`, "control characters are shown escaped")

	double, err := db.Run(ctx, "double-cals", DefaultParams())
	require.NoError(t, err)
	require.Len(t, double.Rows, 1)
	require.Equal(t, hostileUsers[0], double.Rows[0][0])

	p := DefaultParams()
	p.IdleDays = 1 // the hostile users are all idle a day or more at the as-of time
	everyone, err := db.Run(ctx, "idle-cals", p)
	require.NoError(t, err)
	err = Write(&bytes.Buffer{}, everyone, FormatQMC)
	require.ErrorContains(t, err, `"CORP\\semi;colon"`)

	// A simulation against one named CAL denies all but the first user.
	require.NoError(t, meterSimulate(ctx, data, license, asOf))
	simulated, err := openStored(t, ctx, data)
	require.NoError(t, err)
	defer simulated.Close()
	denials, err := simulated.Run(ctx, "denials", DefaultParams())
	require.NoError(t, err)
	var denied []string
	for _, row := range denials.Rows {
		denied = append(denied, row[1].(string))
	}
	require.Subset(t, hostileUsers, denied)
	require.NotEmpty(t, denied)
}

// TestHostileFlagsAreBoundNotSpliced pins that values passed as flags reach
// DuckDB as parameters: SQL in them matches nothing and breaks nothing.
func TestHostileFlagsAreBoundNotSpliced(t *testing.T) {
	ctx := context.Background()
	data, _ := hostileEstate(t)
	db, err := openStored(t, ctx, data)
	require.NoError(t, err)
	defer db.Close()
	for name, tc := range map[string]struct {
		report string
		params func(*Params)
		rows   int
	}{
		// A --month that is not YYYY-MM is refused (-1: an error) before any SQL.
		"capacity --month with SQL":   {"capacity", func(p *Params) { p.Month = "2024-03'; DROP TABLE x; --" }, -1},
		"usage --month with SQL":      {"usage", func(p *Params) { p.Month = "2024-03'; DROP VIEW holders; --" }, -1},
		"capacity --by user --month":  {"capacity", func(p *Params) { p.By, p.Month = "user", "' OR 1=1 --" }, -1},
		"explain x' OR '1'='1":        {"explain", func(p *Params) { p.User = "x' OR '1'='1" }, 0},
		"explain %":                   {"explain", func(p *Params) { p.User = "%" }, 0},
		"explain a hostile user":      {"explain", func(p *Params) { p.User = hostileUsers[4] }, 3},
		"explain the 5,000-char user": {"explain", func(p *Params) { p.User = hostileUsers[5] }, 3},
		"billed pool with SQL": {"capacity", func(p *Params) {
			p.Billed = []Billed{{"2024-03", 10, "'); DROP TABLE months; --"}}
		}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			p := DefaultParams()
			tc.params(&p)
			table, err := db.Run(ctx, tc.report, p)
			if tc.rows < 0 {
				require.ErrorContains(t, err, "--month")
				return
			}
			require.NoError(t, err)
			require.Len(t, table.Rows, tc.rows)
			if len(p.Billed) > 0 {
				require.Equal(t, p.Billed[0].Pool, table.Rows[0][len(table.Columns)-1])
			}
		})
	}
	// Nothing was dropped.
	idle, err := db.Run(ctx, "idle-cals", Params{All: true})
	require.NoError(t, err)
	require.Len(t, idle.Rows, len(hostileUsers)+1)
}
