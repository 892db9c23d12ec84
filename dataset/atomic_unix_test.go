//go:build unix

package dataset_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qvmeter/qvmeter/dataset"
)

// ReplaceFile's files are created as any new file is: 0666 less the umask.
func TestReplaceFileHonoursTheUmask(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.html")
	require.NoError(t, dataset.WriteFileAtomic(path, []byte("<html>")))
	info, err := os.Stat(path)
	require.NoError(t, err)
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	require.Equal(t, os.FileMode(0o666&^umask), info.Mode().Perm())
}
