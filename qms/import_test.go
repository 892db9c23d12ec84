package qms_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qvmeter/qvmeter/qms"
)

func TestImportFile(t *testing.T) {
	cases := []struct {
		file  string
		want  map[string]int // records by licence type
		note  string
		check func(t *testing.T, recs []qms.Record)
	}{
		{"CalData.pgo.xml", map[string]int{"named": 3, "document": 1}, "1 under <MysteryCals>", func(t *testing.T, recs []qms.Record) {
			for _, r := range recs {
				switch {
				case r.User == `CORP\JSmith` && r.LastUsed.Format("2006-01-02T15:04") != "2024-03-29T10:00":
					t.Errorf("JSmith listed twice: want the latest use, got %v", r.LastUsed)
				case r.CALType == "document" && (r.Document != `Regional\Budget 2024.qvw` || r.DocumentKey != "regional/budget 2024.qvw"):
					t.Errorf("document CAL %+v: want the document of its PerDocumentCalData", r)
				case r.User == `CORP\AFischer` && r.LastUsed != nil:
					t.Errorf("DateTime.MinValue must read as never used")
				case r.User == `CORP\KLee` && r.QuarantinedUntil == nil:
					t.Errorf("KLee's quarantine lost")
				}
			}
		}},
		{"BorrowedCalData.pgo.xml", map[string]int{"lease": 2}, "", func(t *testing.T, recs []qms.Record) {
			for _, r := range recs {
				if r.Machine == "" || r.LeasedAt == nil {
					t.Errorf("lease %+v: want machine and borrow time", r)
				}
			}
		}},
		{"export.csv", map[string]int{"named": 1, "document": 1, "lease": 1}, "", nil},
		{"export.json", map[string]int{"named": 1, "document": 1, "lease": 1}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			recs, note, err := qms.ImportFile(filepath.Join("testdata", tc.file), "QVS-PROD-01", takenAt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range recs {
				got[r.CALType]++
			}
			if len(got) != len(tc.want) {
				t.Errorf("records by type %v, want %v", got, tc.want)
			}
			for k, n := range tc.want {
				if got[k] != n {
					t.Errorf("records by type %v, want %v", got, tc.want)
				}
			}
			if !strings.Contains(note, tc.note) || (tc.note == "") != (note == "") {
				t.Errorf("note %q, want %q", note, tc.note)
			}
			if tc.check != nil {
				tc.check(t, recs)
			}
		})
	}
}

func TestImportRejectsOtherShapes(t *testing.T) {
	cases := []struct{ file, want string }{
		{"not-caldata.xml", "root element is <Settings>, not <CalData> or <BorrowedCalData>"},
		{"bad-time.csv", `testdata/bad-time.csv:2: last_used: time "yesterday"`},
		{"client_test.go", "want a .xml"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			if tc.file == "client_test.go" {
				path = tc.file
			}
			_, _, err := qms.ImportFile(path, "QVS-PROD-01", takenAt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var perr *qms.ParseError
			if strings.HasSuffix(tc.file, ".csv") && (!errors.As(err, &perr) || perr.Line != 2 || perr.Column != "last_used") {
				t.Errorf("want a ParseError at line 2, column last_used; got %#v", err)
			}
		})
	}
}
