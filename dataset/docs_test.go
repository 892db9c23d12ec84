package dataset_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/qvmeter/qvmeter/dataset"
	"github.com/stretchr/testify/require"
)

// TestDocsListEveryColumn pins docs/dataset.md to the row schemas: every
// Parquet column of the sessions and the rejects is documented there, so a
// column added to the contract cannot go undocumented.
func TestDocsListEveryColumn(t *testing.T) {
	doc, err := os.ReadFile("../docs/dataset.md")
	require.NoError(t, err)
	for _, row := range []any{dataset.SessionRow{}, dataset.RejectRow{}} {
		typ := reflect.TypeOf(row)
		for i := range typ.NumField() {
			tag := typ.Field(i).Tag.Get("parquet")
			name, _, _ := strings.Cut(tag, ",")
			require.NotEmpty(t, name, "%s.%s has no parquet name", typ.Name(), typ.Field(i).Name)
			require.Contains(t, string(doc), "`"+name+"`", "docs/dataset.md does not document %s's column %s", typ.Name(), name)
		}
	}
}
