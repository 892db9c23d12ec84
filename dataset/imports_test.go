package dataset_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ingest, metering and reports are siblings around the dataset: metering
// and reports depend on this package and on parse, never on ingest's
// internals (reports may read metering's results).
func TestMeteringAndReportsDoNotImportIngest(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command:", err)
	}
	for _, pkg := range []string{"metering", "reports"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/qvmeter/qvmeter/"+pkg).CombinedOutput()
		require.NoError(t, err, string(out))
		deps := strings.Fields(string(out))
		require.Contains(t, deps, "github.com/qvmeter/qvmeter/dataset")
		require.NotContains(t, deps, "github.com/qvmeter/qvmeter/ingest", "%s depends on ingest", pkg)
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/qvmeter/qvmeter/metering").CombinedOutput()
	require.NoError(t, err, string(out))
	require.NotContains(t, strings.Fields(string(out)), "github.com/qvmeter/qvmeter/reports", "metering depends on reports")
}
