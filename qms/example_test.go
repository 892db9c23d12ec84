package qms_test

import (
	"fmt"
	"strings"

	"github.com/qvmeter/qvmeter/qms"
)

// A CSV export of CAL state from another tool: a header row, one CAL a row.
func ExampleReadCSV() {
	export := "server,cal_type,user,document,last_used\n" +
		"QVS-PROD-01,named,CORP\\jdoe,,2024-03-28 09:12:00\n" +
		"QVS-PROD-01,document,CORP\\asmith,Regional\\Budget 2024.qvw,\n"
	recs, err := qms.ReadCSV("cals.csv", strings.NewReader(export), takenAt)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Printf("%s %s %q %v\n", r.CALType, r.UserKey, r.DocumentKey, r.LastUsed != nil)
	}
	// Output:
	// document corp\asmith "regional/budget 2024.qvw" false
	// named corp\jdoe "" true
}
