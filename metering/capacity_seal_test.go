package metering

import (
	"testing"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/stretchr/testify/require"
)

// The replay seals a month's capacity rows when its partition ends
// (closeMonth); a capacity session found later that ends in a sealed month
// (a row stored in the wrong partition) must still be summed into its row,
// in table order, with the month's users counted again: the same state as
// a replay in end order.
func TestCapacityOfASealedMonthBookedLateIsTheSameAsInOrder(t *testing.T) {
	count := func(n int64) *int64 { return &n }
	row := func(user, document, end string, minutes int64) dataset.SessionRow {
		at, err := time.Parse(time.RFC3339, end)
		require.NoError(t, err)
		cal := "Analyzer Capacity"
		return dataset.SessionRow{SessionStart: at.UnixMilli() - 60_000, SessionEnd: at.UnixMilli(), DurationMS: 60_000,
			UserKey: user, DocumentKey: document, Server: "QVS", CALType: &cal, CALClass: "analyzer_capacity",
			CALUsageCount: count(minutes), SourceFile: "Sessions_QVS.log", SourceLine: int64(len(user) + int(minutes))}
	}
	march := []dataset.SessionRow{row("b", "x", "2024-03-02T10:00:00Z", 6), row("d", "y", "2024-03-05T10:00:00Z", 12)}
	april := []dataset.SessionRow{row("a", "x", "2024-04-03T10:00:00Z", 18)}
	late := []dataset.SessionRow{row("b", "x", "2024-03-20T10:00:00Z", 24), row("c", "x", "2024-03-21T10:00:00Z", 30)}
	cfg := Config{AsOf: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}

	e, err := NewEngine(cfg)
	require.NoError(t, err)
	for _, partition := range []struct {
		rows []dataset.SessionRow
		m    month
	}{{march, partitionMonth("2024-03")}, {append(april, late...), partitionMonth("2024-04")}} {
		for _, r := range partition.rows {
			sessions := e.appendRow(&r, nil)
			e.Add(&sessions[0])
		}
		e.closeMonth(partition.m)
	}
	got := e.Finish()

	want, err := ReplayRows(cfg, append(append(append([]dataset.SessionRow{}, march...), april...), late...))
	require.NoError(t, err)
	require.Equal(t, want.Capacity, got.Capacity)
	require.Equal(t, want.Months, got.Months)
	require.Len(t, got.Capacity, 4, "b's two March sessions on x are one row")
	require.EqualValues(t, 3, got.Months[0].Users, "March: b, c, d")
}
