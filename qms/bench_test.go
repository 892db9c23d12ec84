package qms_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/qvmeter/qvmeter/qms"
)

// pgoOf is a CalData.pgo.xml of n named CALs.
func pgoOf(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<CalData><Serial/><LefCalInfo><NamedCalsAllocated>")
	for i := range n {
		fmt.Fprintf(&b, "<NamedCal><UserName>CORP\\user%05d</UserName><LastUsed>2024-03-%02dT09:00:00Z</LastUsed></NamedCal>", i, 1+i%28)
	}
	b.WriteString("</NamedCalsAllocated></LefCalInfo></CalData>")
	return b.Bytes()
}

func BenchmarkReadPGO20000NamedCALs(b *testing.B) {
	data := pgoOf(20000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := qms.ReadPGO("CalData.pgo.xml", bytes.NewReader(data), "QVS", takenAt)
		if err != nil || len(res.Records) != 20000 {
			b.Fatal(err, len(res.Records))
		}
	}
}

func BenchmarkWriteSnapshot20000NamedCALs(b *testing.B) {
	res, err := qms.ReadPGO("CalData.pgo.xml", bytes.NewReader(pgoOf(20000)), "QVS", takenAt)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qms.WriteSnapshot(filepath.Join(dir, "data"), takenAt, res.Records); err != nil {
			b.Fatal(err)
		}
	}
}
