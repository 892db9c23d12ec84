package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/qms"
	"github.com/qvmeter/qvmeter/qms/qmstest"
)

// dataQMS is the reconstructed estate with a QMS snapshot pulled from the
// fake QMS's sample state (qmstest.Sample) at fixedNow.
const dataQMS = "qms"

func init() {
	goldenCases = append(goldenCases,
		goldenCase{name: "assigned", data: dataQMS, report: "assigned"},
		goldenCase{name: "never-used", data: dataQMS, report: "never-used"},
		goldenCase{name: "orphan-document-cals", data: dataQMS, report: "orphan-document-cals"},
		goldenCase{name: "leases", data: dataQMS, report: "leases"},
		// Without a snapshot the reports are empty, with their columns.
		goldenCase{name: "assigned-no-snapshot", data: dataRecon, report: "assigned", formats: []string{FormatCSV}},
	)
}

func prepareQMSEstate(root string) error {
	dir := filepath.Join(root, dataQMS)
	if err := os.CopyFS(dir, os.DirFS(estates[dataRecon])); err != nil {
		return err
	}
	fake := qmstest.NewServer(qmstest.Sample()...)
	defer fake.Close()
	client, err := qms.NewClient(qms.Options{URL: fake.ServiceURL()})
	if err != nil {
		return err
	}
	recs, err := client.Pull(context.Background(), fixedNow)
	if err != nil {
		return err
	}
	if _, err := qms.WriteSnapshot(dir, fixedNow, recs); err != nil {
		return err
	}
	estates[dataQMS] = dir
	return nil
}

// The page shows the QMS panels when a snapshot exists, and none without.
func TestHTMLShowsQMSPanelsWithASnapshot(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		data string
		want bool
	}{{dataQMS, true}, {dataRecon, false}} {
		var page bytes.Buffer
		require.NoError(t, WriteHTML(ctx, &page, openEstate(t, tc.data), DefaultParams()))
		html := page.String()
		require.Equal(t, tc.want, strings.Contains(html, `id="qms"`), tc.data)
		if tc.want {
			for _, s := range []string{"QMS snapshot of 2024-04-01", "EOkafor", "LAPTOP-AF01", "Budget 2024.qvw", "logs missing"} {
				require.Contains(t, pageText(html), s)
			}
		}
	}
}

// A CAL never used counts its idle days from the first snapshot showing it
// when an earlier snapshot did not (it was assigned in between); one there
// from the first snapshot on has no idle_since (assigned before qvmeter
// looked, never used).
func TestNeverUsedCALCountsFromTheSnapshotItAppearedIn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(estates[dataRecon])))
	day1, day2 := asOf.AddDate(0, 0, -20), asOf.AddDate(0, 0, -5)
	named := func(user string, at time.Time) qms.Record {
		return qms.Record{Server: "QVS", CALType: qms.Named, User: user, UserKey: strings.ToLower(user), TakenAt: at}
	}
	_, err := qms.WriteSnapshot(dir, day1, []qms.Record{named(`CORP\old`, day1)})
	require.NoError(t, err)
	_, err = qms.WriteSnapshot(dir, day2, []qms.Record{named(`CORP\old`, day2), named(`CORP\new`, day2)})
	require.NoError(t, err)
	db, err := openStored(t, ctx, dir)
	require.NoError(t, err)
	defer db.Close()
	table, err := db.Run(ctx, "assigned", DefaultParams())
	require.NoError(t, err)
	got := map[string]any{}
	for _, r := range records(table) {
		got[r.str("user")] = r["idle_days"]
	}
	require.Equal(t, map[string]any{`CORP\new`: int64(5), `CORP\old`: nil}, got)
}
