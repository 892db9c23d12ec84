package dataset_test

import (
	"fmt"
	"time"

	"github.com/qvmeter/qvmeter/dataset"
)

// A report asks whether the stored state fits it: the same dataset, as-of
// time (to the millisecond) and licence.
func ExampleStateInfo_Fits() {
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	stored := dataset.StateInfo{DatasetVersion: "9f2c…", AsOf: asOf, LicenseSHA256: "4be1…"}
	fmt.Println(stored.Fits(dataset.Want{DatasetVersion: "9f2c…", LicenseSHA256: "4be1…"}))
	fmt.Println(stored.Fits(dataset.Want{DatasetVersion: "9f2c…", AsOf: asOf.Add(time.Millisecond), LicenseSHA256: "4be1…"}))
	fmt.Println(stored.AsOf.Add(250 * time.Millisecond).Format(dataset.AsOfLayout))
	// Output:
	// true
	// false
	// 2024-03-31T00:00:00.25Z
}
