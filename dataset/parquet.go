package dataset

import (
	"fmt"
	"os"

	"github.com/parquet-go/parquet-go"
)

// ReadParquet opens a data file of the folder, calls use with it and closes
// it: the one way metering, ingest and this package read a stored file's
// columns. Bloom filters are never read (no reader looks values up); opts
// may skip more, such as the page index.
func ReadParquet(path string, use func(*parquet.File) error, opts ...parquet.FileOption) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err
	}
	f, err := parquet.OpenFile(file, info.Size(), append([]parquet.FileOption{parquet.SkipBloomFilters(true)}, opts...)...)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return use(f)
}
