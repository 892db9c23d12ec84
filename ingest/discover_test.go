package ingest_test

import (
	"testing"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/stretchr/testify/require"
)

// The file-name rule of session-log.md "Files": split server from date at
// the last underscore only when a date part follows; copy suffixes never
// become part of a server name.
func TestServerFromName(t *testing.T) {
	for _, tt := range []struct{ quirk, name, want string }{
		{"daily split", "Sessions_QVS01_2024-03-01.log", "QVS01"},
		{"server names contain underscores and dashes", "Sessions_QV_PROD_NODE-2_2024-03-01.log", "QV_PROD_NODE-2"},
		{"daily split without dashes", "Sessions_QVS01_20240301.log", "QVS01"},
		{"monthly split, .txt archive, any case", "SESSIONS_qvs-02_2024-03.txt", "qvs-02"},
		{"monthly split without dash", "Sessions_QVS02_202403.log", "QVS02"},
		{"yearly split", "Sessions_QVS03_2024.log", "QVS03"},
		{"weekly split, ISO week", "Sessions_QVS05_2024-W09.log", "QVS05"},
		{"weekly split, week without dash", "Sessions_QVS05_2024W9.log", "QVS05"},
		{"weekly split, week after its own underscore", "Sessions_QV_5_2024_W09.log", "QV_5"},
		{"never split", "Sessions_QVS04.log", "QVS04"},
		{"never split: a trailing number is part of the server (Sessions_QV_2.log)", "Sessions_QV_2.log", "QV_2"},
		{"never split: a trailing word is part of the server", "Sessions_QV_PROD.log", "QV_PROD"},
		{"never split: five digits are no date", "Sessions_NODE_12345.log", "NODE_12345"},
		{"never split: a year-like number out of range is no date", "Sessions_QV_1234.log", "QV_1234"},
		{"never split: no month 13", "Sessions_QV_2024-13-01.log", "QV_2024-13-01"},
		{"Windows copy of a daily log", "Sessions_X_2024-02-01 - Copy.log", "X"},
		{"Windows second copy", "Sessions_X_2024-02-01 - Copy (2).log", "X"},
		{"Windows numbered copy", "Sessions_X_2024-02-01 (2).log", "X"},
		{"copy of a copy", "Sessions_X_2024-02-01 - Copy - Copy.log", "X"},
		{"German Windows copy", "Sessions_X_2024-02-01 - Kopie.log", "X"},
		{"copy of a never-split log", "Sessions_QV_2 - Copy.log", "QV_2"},
		{"copy suffix in any case, .txt archive", "Sessions_X_2024-02 - COPY (3).txt", "X"},
		{"no server part", "Sessions.log", ""},
	} {
		t.Run(tt.quirk, func(t *testing.T) {
			require.True(t, ingest.IsSessionLog(tt.name), tt.name)
			require.Equal(t, tt.want, ingest.ServerFromName(tt.name), tt.name)
		})
	}
	for _, name := range []string{"Events_QVS01_2024-03-01.log", "Sessions_QVS01.csv", "notes.txt"} {
		require.False(t, ingest.IsSessionLog(name), name)
	}
}
