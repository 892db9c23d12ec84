package reports_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/qvmeter/qvmeter/ingest"
	"github.com/qvmeter/qvmeter/reports"
)

// Example reads the one real session line Qlik has published (QlikView
// 12.50, Analyzer Capacity) into a new data folder, meters it as of the
// first of the next month, and prints the capacity report: what qvmeter
// ingest, qvmeter meter and qvmeter report capacity --format csv do.
// Without a licence file the budget is unknown (empty), not zero; the
// month is over, so its forecast is what was used.
func Example() {
	ctx := context.Background()
	data, err := os.MkdirTemp("", "qvmeter-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(data)

	if _, err := ingest.Run(ctx, ingest.Options{Data: data, Paths: []string{"../fixtures/samples/Sessions_QVS-REAL_2021-04-12.log"}}); err != nil {
		fmt.Println(err)
		return
	}
	asOf := time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	st, _, err := reports.EnsureState(ctx, data, reports.StateOptions{AsOf: asOf, Store: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	db, err := reports.Open(ctx, data, st)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	t, err := db.Run(ctx, "capacity", reports.DefaultParams())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reports.Write(os.Stdout, t, reports.FormatCSV); err != nil {
		fmt.Println(err)
	}
	// Output:
	// month,minutes,sessions,users,budget_minutes,overage_minutes,remaining_minutes,forecast_minutes,forecast_low_minutes,forecast_high_minutes,pool
	// 2021-04,6,1,1,,,,6,6,6,default
}
