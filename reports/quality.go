package reports

// What ingest read leniently from each server's logs: the rows it kept
// although a line did not say a value the way the format does (a time
// without an offset converted with the server's zone, a duration derived
// from the other two times, an unknown column ignored …). The rejects
// report lists the lines that were not kept; this one says how much of
// what was kept rests on a reading the user should know of. The counts
// are the catalog's (dataset.Catalog.Quality), by the decoder's names
// (parse.Stats.Lenient), over every line read since the dataset was built.

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/qvmeter/qvmeter/parse"
)

func init() {
	registry = append(registry, dataQualityReport)
}

var dataQualityColumns = []Column{
	{"server", String, "server the logs belong to"},
	{"kind", String, "the lenient reading, as the ingest summary names it (offsetless_times, derived_timestamp, unknown_columns …; README.md lists them)"},
	{"count", Int, "how many times the decoder read so, over every line read since the dataset was built"},
	{"detail", String, "offsetless_times: the zone they were converted with (or as UTC, no zone given); unknown_columns: the column names"},
}

var dataQualityReport = &Report{
	Name: "data-quality",
	Description: "what ingest read leniently from each server's logs, rows it kept although a line did not say a value the way the format does " +
		"(times without an offset and the zone used, derived times, unknown columns by name …); rejects lists the lines not kept",
	Columns: dataQualityColumns,
	build:   func(Params) (string, []any, error) { return dataQualitySQL, nil, nil },
}

const dataQualitySQL = `SELECT server, kind, count, detail FROM data_quality ORDER BY server, rank, detail`

// openDataQuality fills the table data_quality from the catalog of the
// data folder: one row per server and lenient reading that is not zero,
// offset-less times one row per zone they were converted with.
func (db *DB) openDataQuality(ctx context.Context, dataDir string) error {
	cat, err := dataset.LoadCatalog(dataDir)
	if err != nil {
		return err
	}
	if err := db.exec(ctx, `CREATE TEMP TABLE data_quality (server VARCHAR, kind VARCHAR, count BIGINT, detail VARCHAR, rank INTEGER)`); err != nil {
		return err
	}
	for _, r := range qualityRows(cat.Quality) {
		if err := db.exec(ctx, `INSERT INTO data_quality VALUES ($1, $2, $3, $4, $5)`, r.server, r.kind, r.count, r.detail, r.rank); err != nil {
			return err
		}
	}
	return nil
}

type qualityRow struct {
	server, kind string
	count        int64
	detail       string
	rank         int // the kind's place in the decoder's order
}

// qualityRows lays out the catalog's counts as rows.
func qualityRows(quality map[string]*dataset.ServerQuality) []qualityRow {
	order := parse.LenientNames()
	rank := func(kind string) int {
		if i := slices.Index(order, kind); i >= 0 {
			return i
		}
		return len(order) // a kind of another qvmeter version: last
	}
	var rows []qualityRow
	for server, q := range quality {
		for kind, n := range q.Lenient {
			if n == 0 {
				continue
			}
			switch kind {
			case "offsetless_times":
				var byZone int64
				for _, zone := range slices.Sorted(maps.Keys(q.OffsetlessByZone)) {
					rows = append(rows, qualityRow{server, kind, q.OffsetlessByZone[zone], zoneDetail(zone), rank(kind)})
					byZone += q.OffsetlessByZone[zone]
				}
				if n > byZone { // counted before the zones were kept
					rows = append(rows, qualityRow{server, kind, n - byZone, "", rank(kind)})
				}
				continue
			case "unknown_columns":
				quoted := make([]string, len(q.UnknownColumns))
				for i, name := range q.UnknownColumns {
					quoted[i] = strconv.Quote(name)
				}
				rows = append(rows, qualityRow{server, kind, n, strings.Join(quoted, ", "), rank(kind)})
				continue
			}
			rows = append(rows, qualityRow{server, kind, n, "", rank(kind)})
		}
	}
	slices.SortFunc(rows, func(a, b qualityRow) int {
		return cmp.Or(cmp.Compare(a.server, b.server), cmp.Compare(a.rank, b.rank), cmp.Compare(a.kind, b.kind), cmp.Compare(a.detail, b.detail))
	})
	return rows
}

// zoneDetail says how offset-less times were converted.
func zoneDetail(zone string) string {
	if zone == dataset.NoZone {
		return "converted as UTC: no zone given for the server (--timezone or the licence's [timezones], then qvmeter ingest --rebuild)"
	}
	return fmt.Sprintf("converted with %s", zone)
}
