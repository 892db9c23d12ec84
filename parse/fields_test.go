package parse

import (
	"bytes"
	"testing"
)

// splitFields finds tabs eight bytes at a time; it must agree with
// bytes.Split wherever the tabs fall, and take no other byte for a tab
// (bytes next to a tab, 0x08 and 0x0A below it, 0x89 with its low bits).
func TestSplitFieldsAgreesWithBytesSplit(t *testing.T) {
	for _, line := range []string{
		"",
		"\t",
		"a",
		"a\tb",
		"\t\t\t\t\t\t\t\t\t",
		"1234567\t89abcdef\t",
		"12345678\t",
		"\x08\t\x08\x0a\x89\t\x09\x89\x08x\x01\x00\t\xff\x7f\x80",
		"\x89\x89\x89\x89\x89\x89\x89\x89\x89",
		"RLS64\t12.50.20200.0\t20240104T030027.000+0100\t\tD:\\QlikView\\a.qvw\t\t\t\t",
	} {
		var got [][]byte
		got = splitFields(got, []byte(line))
		want := bytes.Split([]byte(line), []byte("\t"))
		if len(got) != len(want) {
			t.Fatalf("%q: %d fields, want %d", line, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%q: field %d is %q, want %q", line, i, got[i], want[i])
			}
		}
	}
}
