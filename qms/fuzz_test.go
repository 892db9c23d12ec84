package qms_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/qvmeter/qvmeter/qms"
)

// FuzzReadPGO: any input is read or refused with an error, never a panic,
// and every record read has a user and a known licence type.
func FuzzReadPGO(f *testing.F) {
	for _, name := range []string{"testdata/CalData.pgo.xml", "testdata/BorrowedCalData.pgo.xml", "testdata/not-caldata.xml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := qms.ReadPGO("fuzz.xml", bytes.NewReader(data), "QVS", takenAt)
		if err != nil {
			return
		}
		for _, r := range res.Records {
			if r.User == "" || r.CALType == "" {
				t.Fatalf("record without user or type: %+v", r)
			}
		}
	})
}

// FuzzReadCSV: any input is read or refused with an error, never a panic.
func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"testdata/export.csv", "testdata/bad-time.csv"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := qms.ReadCSV("fuzz.csv", bytes.NewReader(data), takenAt)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.User == "" || r.Server == "" {
				t.Fatalf("record without user or server: %+v", r)
			}
		}
	})
}
