package reports

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/metering"
	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/golden from the reports' output")

// The committed sample estate, ingested once and metered three ways.
const (
	estateDir  = "../fixtures/estate"
	estateLic  = "../fixtures/estate/license.toml"
	goldenDir  = "testdata/golden"
	dataRecon  = "reconstruct" // as of 2024-04-01, logged CAL types
	dataSim    = "simulate"    // as of 2024-04-01, simulated against the licence
	dataMidMar = "mid-march"   // as of 2024-03-20T12:00:00Z: March is the current month
)

var (
	fixedNow = time.Date(2024, 4, 1, 6, 0, 0, 0, time.UTC)
	asOf     = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	midMarch = time.Date(2024, 3, 20, 12, 0, 0, 0, time.UTC)
	// estates maps each of the data* names to its data folder.
	estates = map[string]string{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	root, err := os.MkdirTemp("", "qvmeter-reports-test-")
	if err != nil {
		panic(err)
	}
	err = prepareEstates(root)
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, "preparing the sample estate:", err)
	}
	os.RemoveAll(root)
	os.Exit(code)
}

func prepareEstates(root string) error {
	ctx := context.Background()
	recon := filepath.Join(root, dataRecon)
	if _, err := ingest.Run(ctx, ingest.Options{Data: recon, Paths: []string{estateDir}, Now: func() time.Time { return fixedNow }}); err != nil {
		return err
	}
	for _, name := range []string{dataSim, dataMidMar} {
		if err := os.CopyFS(filepath.Join(root, name), os.DirFS(recon)); err != nil {
			return err
		}
	}
	if _, err := ensureStored(ctx, recon, StateOptions{AsOf: asOf, License: estateLic}); err != nil {
		return err
	}
	if _, err := ensureStored(ctx, filepath.Join(root, dataMidMar), StateOptions{AsOf: midMarch, License: estateLic}); err != nil {
		return err
	}
	if err := meterSimulate(ctx, filepath.Join(root, dataSim), estateLic, asOf); err != nil {
		return err
	}
	for _, name := range []string{dataRecon, dataSim, dataMidMar} {
		estates[name] = filepath.Join(root, name)
	}
	estates[dataMix] = filepath.Join(root, dataMix)
	if err := buildMixEstate(ctx, estates[dataMix]); err != nil {
		return err
	}
	return prepareQMSEstate(root) // qms_test.go
}

// meterSimulate does what qvmeter meter --simulate does.
func meterSimulate(ctx context.Context, dir, license string, asOf time.Time) error {
	lic, sum, err := metering.LoadLicense(license)
	if err != nil {
		return err
	}
	ds, err := dataset.ListFiles(dir)
	if err != nil {
		return err
	}
	st, err := metering.Replay(ctx, ds, metering.Config{Mode: metering.Simulate, AsOf: asOf, License: lic})
	if err != nil {
		return err
	}
	if st.Info.LicenseFile, err = filepath.Abs(license); err != nil {
		return err
	}
	st.Info.LicenseSHA256 = sum
	return dataset.ReplaceState(dir, st.WriteTables)
}

// openEstate opens one of the prepared estates for the test.
func openEstate(t testing.TB, name string) *DB {
	db, err := openStored(t, context.Background(), estates[name])
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// goldenCase is one report run whose output, in each of its formats, is
// pinned by testdata/golden/<name>.<format>.
type goldenCase struct {
	name    string
	data    string
	report  string
	params  func(*Params)
	formats []string // default: table, csv, json, parquet
}

var goldenCases = []goldenCase{
	{name: "idle-cals", data: dataRecon, report: "idle-cals"},
	{name: "idle-cals-named-only-idle-45d", data: dataRecon, report: "idle-cals",
		params:  func(p *Params) { p.CALType, p.OnlyIdle, p.IdleDays = "named", true, 45 },
		formats: []string{FormatTable, FormatCSV, FormatJSON, FormatParquet, FormatQMC}},
	{name: "idle-cals-all-7d", data: dataRecon, report: "idle-cals", params: func(p *Params) { p.All, p.IdleDays = true, 7 }},
	{name: "idle-cals-retired-named", data: dataRecon, report: "idle-cals", params: func(p *Params) { p.Retired, p.CALType = true, "named" }},
	{name: "idle-cals-simulate", data: dataSim, report: "idle-cals"},
	{name: "capacity", data: dataRecon, report: "capacity"},
	{name: "capacity-mid-march-forecast", data: dataMidMar, report: "capacity"},
	{name: "capacity-billed", data: dataRecon, report: "capacity", params: func(p *Params) {
		p.Billed = []Billed{{"2024-01", 120, "default"}, {"2024-02", 6432, "default"}, {"2024-03", 15150, "default"}}
	}},
	{name: "capacity-by-user-2024-03", data: dataRecon, report: "capacity", params: func(p *Params) { p.By, p.Month = "user", "2024-03" }},
	{name: "capacity-by-document", data: dataRecon, report: "capacity", params: func(p *Params) { p.By = "document" }},
	{name: "capacity-by-server", data: dataRecon, report: "capacity", params: func(p *Params) { p.By = "server" }},
	{name: "usage", data: dataRecon, report: "usage"},
	{name: "usage-day-server", data: dataRecon, report: "usage", params: func(p *Params) { p.By = "day,server" }},
	{name: "usage-month-user-2024-02", data: dataRecon, report: "usage", params: func(p *Params) { p.By, p.Month = "month,user", "2024-02" }},
	{name: "usage-month-document", data: dataRecon, report: "usage", params: func(p *Params) { p.By = "month,document" }},
	{name: "concurrency", data: dataRecon, report: "concurrency"},
	{name: "usage-cals", data: dataRecon, report: "usage-cals"},
	{name: "double-cals", data: dataRecon, report: "double-cals"},
	{name: "double-cals-simulate", data: dataSim, report: "double-cals"},
	{name: "denials-simulate", data: dataSim, report: "denials"},
	{name: "rejects", data: dataRecon, report: "rejects"},
	{name: "rejects-summary", data: dataRecon, report: "rejects", params: func(p *Params) { p.Summary = true }},
	{name: "anomalies", data: dataRecon, report: "anomalies"},
	{name: "data-quality", data: dataRecon, report: "data-quality"},
	{name: "rejects-quality", data: dataRecon, report: "rejects", params: func(p *Params) { p.Quality = true }},
	{name: "summary", data: dataRecon, report: "summary"},
	{name: "summary-mid-march", data: dataMidMar, report: "summary"},
	{name: "advice-known-mix", data: dataMix, report: "advice"},
	{name: "advice-no-prices", data: dataRecon, report: "advice"},
	{name: "explain-corp-lmurphy-any-case", data: dataRecon, report: "explain", params: func(p *Params) { p.User = `corp\LMURPHY` }},
}

func TestGolden(t *testing.T) {
	ctx := context.Background()
	for _, tc := range goldenCases {
		db := openEstate(t, tc.data)
		p := DefaultParams()
		if tc.params != nil {
			tc.params(&p)
		}
		table, err := db.Run(ctx, tc.report, p)
		require.NoError(t, err, tc.name)
		formats := tc.formats
		if formats == nil {
			formats = []string{FormatTable, FormatCSV, FormatJSON, FormatParquet}
		}
		for _, format := range formats {
			t.Run(tc.name+"."+format, func(t *testing.T) {
				var out bytes.Buffer
				require.NoError(t, Write(&out, table, format))
				path := filepath.Join(goldenDir, tc.name+"."+format)
				if *rewrite {
					require.NoError(t, os.MkdirAll(goldenDir, 0o755))
					require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
					return
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "regenerate with go test ./reports -rewrite")
				if format == FormatParquet {
					require.True(t, bytes.Equal(want, out.Bytes()), "%s differs (regenerate with go test ./reports -rewrite)", path)
					return
				}
				require.Equal(t, string(want), out.String(), "regenerate with go test ./reports -rewrite")
			})
		}
	}
}

// TestGoldenCasesCoverEveryReportAndColumn pins that the golden cases run
// every report and produce every documented column at least once, so no
// column of the contract goes unchecked.
func TestGoldenCasesCoverEveryReportAndColumn(t *testing.T) {
	ctx := context.Background()
	seen := map[string]map[string]bool{}
	for _, tc := range goldenCases {
		p := DefaultParams()
		if tc.params != nil {
			tc.params(&p)
		}
		table, err := openEstate(t, tc.data).Run(ctx, tc.report, p)
		require.NoError(t, err, tc.name)
		if seen[tc.report] == nil {
			seen[tc.report] = map[string]bool{}
		}
		for _, c := range table.Columns {
			seen[tc.report][c.Name] = true
		}
	}
	for _, r := range registry {
		for _, c := range r.Columns {
			require.True(t, seen[r.Name][c.Name], "report %s: no golden case produces column %s", r.Name, c.Name)
		}
	}
}

// TestParquetReadsBackAsTheTable pins that the Parquet writer's file reads
// back (with DuckDB) to the same names, types and values as the table.
func TestParquetReadsBackAsTheTable(t *testing.T) {
	ctx := context.Background()
	db := openEstate(t, dataRecon)
	for _, name := range []string{"idle-cals", "capacity", "summary"} {
		t.Run(name, func(t *testing.T) {
			table, err := db.Run(ctx, name, DefaultParams())
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "out.parquet")
			var out bytes.Buffer
			require.NoError(t, Write(&out, table, FormatParquet))
			require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
			names := make([]string, len(table.Columns))
			for i, c := range table.Columns {
				names[i] = quoteIdent(c.Name)
			}
			conn, err := sql.Open("duckdb", "")
			require.NoError(t, err)
			defer conn.Close()
			rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM read_parquet($1)", strings.Join(names, ", ")), path)
			require.NoError(t, err)
			defer rows.Close()
			// Times come back as TIMESTAMP WITH TIME ZONE: scanTable needs the
			// report's kinds, so read raw values and compare.
			var got [][]any
			for rows.Next() {
				row := make([]any, len(names))
				ptrs := make([]any, len(names))
				for i := range row {
					ptrs[i] = &row[i]
				}
				require.NoError(t, rows.Scan(ptrs...))
				for i := range row {
					row[i] = normalize(row[i])
				}
				got = append(got, row)
			}
			require.NoError(t, rows.Err())
			require.Equal(t, len(table.Rows), len(got))
			for i := range got {
				require.Equal(t, table.Rows[i], got[i], "row %d", i)
			}
		})
	}
}

func TestRunRejectsUnknownReportsAndChoices(t *testing.T) {
	ctx := context.Background()
	db := openEstate(t, dataRecon)
	for name, tc := range map[string]struct {
		report string
		params func(*Params)
		want   string
	}{
		"unknown report":           {"revoke", nil, `no report "revoke"`},
		"capacity --by outside":    {"capacity", func(p *Params) { p.By = "user_key; DROP TABLE holders" }, `--by "user_key; DROP TABLE holders": want one of document, server, user`},
		"capacity --by and billed": {"capacity", func(p *Params) { p.By, p.Billed = "user", []Billed{{"2024-03", 1, "default"}} }, "--by and --billed"},
		"usage --by period":        {"usage", func(p *Params) { p.By = "week" }, `--by "week"`},
		"usage --by three":         {"usage", func(p *Params) { p.By = "day,user,server" }, "want day|month"},
		"idle-cals --cal-type":     {"idle-cals", func(p *Params) { p.CALType = "session" }, `--cal-type "session"`},
		"explain without user":     {"explain", nil, "explain needs a user"},
	} {
		t.Run(name, func(t *testing.T) {
			p := DefaultParams()
			if tc.params != nil {
				tc.params(&p)
			}
			_, err := db.Run(ctx, tc.report, p)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestReadBilled(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want []Billed
		err  string
	}{
		"header and pool": {"month,minutes\n2024-02,6432\n2024-03, 15150,emea\n",
			[]Billed{{"2024-02", 6432, "default"}, {"2024-03", 15150, "emea"}}, ""},
		"no header": {"2024-02,1\n", []Billed{{"2024-02", 1, "default"}}, ""},
		"bad month": {"2024-13,1\n", nil, `line 1: month "2024-13"`},
		"bad count": {"2024-02,six\n", nil, `line 1: minutes "six"`},
		"empty":     {"month,minutes\n", nil, "no month,minutes rows"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ReadBilled(bytes.NewBufferString(tc.in))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDescribeListsEveryReportWithItsColumns(t *testing.T) {
	var out bytes.Buffer
	describe(&out)
	for _, r := range registry {
		require.Contains(t, out.String(), r.Name+" — ")
		for _, c := range r.Columns {
			require.Contains(t, out.String(), " "+c.Name+" ")
		}
	}
}

// TestREADMEListsEveryReportAndColumn pins README.md's column list to the
// registry (Describe), so the documented contract is the one in the code.
func TestREADMEListsEveryReportAndColumn(t *testing.T) {
	const begin, end = "<!-- columns:begin -->\n", "<!-- columns:end -->"
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	text := string(readme)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	require.True(t, i >= 0 && j > i, "README.md lacks the columns markers")
	var list bytes.Buffer
	list.WriteString("```\n")
	describe(&list)
	list.WriteString("```\n")
	if *rewrite {
		text = text[:i+len(begin)] + list.String() + text[j:]
		require.NoError(t, os.WriteFile("README.md", []byte(text), 0o644))
		return
	}
	require.Equal(t, list.String(), text[i+len(begin):j], "regenerate with go test ./reports -rewrite")
}

// describe writes every report with its columns: the text of
// reports/README.md's column lists.
func describe(w io.Writer) {
	for _, r := range registry {
		fmt.Fprintf(w, "%s — %s\n", r.Name, Wrap(r.Description, 76, "  "))
		if len(r.Flags) > 0 {
			fmt.Fprintf(w, "  flags: --%s\n", strings.Join(r.Flags, ", --"))
		}
		width := 0
		for _, c := range r.Columns {
			width = max(width, len(c.Name))
		}
		for _, c := range r.Columns {
			fmt.Fprintf(w, "  %-*s  %-7s  %s\n", width, c.Name, c.Kind, c.Doc)
		}
		fmt.Fprintln(w)
	}
}
