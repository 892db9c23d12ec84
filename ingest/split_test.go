package ingest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/qvmeter/qvmeter/parse"
	"github.com/stretchr/testify/require"
)

// The header a split chunk starts with must be the header the previous
// chunk's decoder reports, or every split file would look as if its layout
// changed mid-file and be decoded again on one core.
func TestFirstLineIsTheDecodersHeader(t *testing.T) {
	for _, name := range []string{"Sessions_QVS-REAL_2021-04-12.log", "Sessions_QVS-OLD_2018-06-01.log"} {
		path := filepath.Join("..", "fixtures", "samples", name)
		f, err := os.Open(path)
		require.NoError(t, err)
		header, err := firstLine(f)
		f.Close()
		require.NoError(t, err)

		data, err := os.ReadFile(path)
		require.NoError(t, err)
		d := parse.NewDecoder(bytes.NewReader(data), parse.Config{File: name})
		for d.Next() {
		}
		require.Equal(t, string(d.Header()), string(header), name)

		resumed := parse.NewDecoder(io.MultiReader(), parse.Config{Header: header})
		require.False(t, resumed.Next())
		require.Equal(t, string(header), string(resumed.Header()), "Config.Header round-trips")
	}
}
