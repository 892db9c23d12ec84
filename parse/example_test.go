package parse_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/qvmeter/qvmeter/parse"
)

// A QlikView 11 log of a New York server: offset-less local times, a line
// whose Session Start is unreadable (derived from Timestamp − Duration) and
// a line cut short (rejected).
const exampleLog = "Exe Type\tExe Version\tServer Started\tTimestamp\tDocument\tDocument Timestamp\tQlikView User\tExit Reason\tSession Start\tSession Duration\tCPU Spent (s)\tBytes Received\tBytes Sent\tCalls\tSelections\tAuthenticated User\tIdentifying User\tClient Machine Identification\tSerial Number\tClient Type\tClient Build Version\tSecure Protocol\tTunnel Protocol\tServer Port\tClient Address\tClient Port\tCAL Type\tCAL Usage Count\r\n" +
	"RLS64\t11.20.12904.0409.10\t2016-01-04 05:00:00\t2016-01-31 20:30:00\tC:\\Docs\\Sales.qvw\t\t\tSocket closed by client\t2016-01-31 19:00:00\t01:30:00\t0.5\t2048\t65536\t12\t3\t\tCUSTOM\\Bob\tc1\t\tAjax\t\tOn\t\t4747\t10.1.2.3\t50123\tNamed User\t0\r\n" +
	"RLS64\t11.20.12904.0409.10\t2016-01-04 05:00:00\t2016-02-01 09:10:00\tC:\\Docs\\Sales.qvw\t\t\tSocket closed by client\t??\t00:10:00\t0.5\t2048\t65536\t12\t3\tCORP\\Alice\t\tc2\t\tAjax\t\tOn\t\t4747\t10.1.2.3\t50123\tNamed User\t0\r\n" +
	"RLS64\t11.20.12904.0409.10\t2016-01-04 05:00:00\r\n"

func ExampleDecoder() {
	zones, err := parse.ParseTimeZones("QVS-OLD-*=America/New_York")
	if err != nil {
		panic(err)
	}
	loc, _ := zones.For("QVS-OLD-1")
	d := parse.NewDecoder(strings.NewReader(exampleLog), parse.Config{
		File: "Sessions_QVS-OLD-1_2016-01-31.log", Server: "QVS-OLD-1", Location: loc,
	})
	for d.Next() {
		rec := d.Record() // valid until the next call to Next
		ends := rec.Column(parse.ColSessionEnd).(*array.Timestamp)
		for row := range int(rec.NumRows()) {
			end := time.UnixMilli(int64(ends.Value(row))).UTC()
			fmt.Printf("%s (key %s) ended %s\n", parse.StringAt(rec.Column(parse.ColUser), row),
				parse.StringAt(rec.Column(parse.ColUserKey), row), end.Format(time.RFC3339))
		}
		for _, r := range d.Rejects() {
			fmt.Printf("rejected %s: %s\n", r.Reason(), r.ParseError)
		}
	}
	if err := d.Err(); err != nil {
		panic(err)
	}
	for _, c := range d.Stats().Lenient() {
		fmt.Printf("%s: %d\n", c.Name, c.N)
	}
	fmt.Println("resume at byte", d.Offset(), "after line", d.Line())
	// Output:
	// CUSTOM\Bob (key custom\bob) ended 2016-02-01T01:30:00Z
	// CORP\Alice (key corp\alice) ended 2016-02-01T14:10:00Z
	// rejected field_count: Sessions_QVS-OLD-1_2016-01-31.log:4: wrong number of fields: 3, the header has 28
	// offsetless_times: 5
	// derived_session_start: 1
	// resume at byte 866 after line 4
}

func ExampleTimeZones_For() {
	flags, _ := parse.ParseTimeZones("Europe/Berlin", "QVS-US-*=America/New_York")
	licence, _ := parse.ParseTimeZones("QVS-ASIA-*=Asia/Tokyo")
	zones := flags.Over(licence)
	for _, server := range []string{"qvs-us-2", "QVS-EU-1"} {
		loc, ok := zones.For(server)
		fmt.Println(server, loc, ok)
	}
	_, err := parse.ParseTimeZones("QVS-*=Europe/Berln")
	fmt.Println(err)
	// Output:
	// qvs-us-2 America/New_York true
	// QVS-EU-1 Europe/Berlin true
	// bad time zone rule "QVS-*=Europe/Berln": unknown zone "Europe/Berln": want an IANA name such as America/New_York or Europe/Berlin
}

func ExampleUserKey() {
	fmt.Println(parse.UserKey("", `CUSTOM\Bob`, "c1"), parse.UserDisplay("", `CUSTOM\Bob`, "c1"))
	fmt.Println(parse.DocumentKey(`\\FileServer\QV\Finance.qvw`))
	// Output:
	// custom\bob CUSTOM\Bob
	// //fileserver/qv/finance.qvw
}
