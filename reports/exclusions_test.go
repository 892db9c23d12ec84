package reports

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 11 "Exclusions apply to every figure": with exclude =
// ['CORP\svc_*'], every report of the registry (with the breakdowns that
// list users) leaves the service accounts out, the summary counts without
// them, and explain says the user is excluded and by which pattern.
func TestExclusionsApplyToEveryReport(t *testing.T) {
	ctx := context.Background()
	db := estateWithLicense(t, midMarch, "servers = [", "exclude = ['CORP\\svc_*']\nservers = [")
	runs := map[string][]func(*Params){
		"capacity":  {func(p *Params) { p.By = "user" }, func(p *Params) { p.By = "document" }},
		"usage":     {func(p *Params) { p.By = "month,user" }, func(p *Params) { p.By = "day,user" }},
		"idle-cals": {func(p *Params) { p.All = true }, func(p *Params) { p.Retired = true }},
	}
	for _, r := range registry {
		if r.Name == "explain" || r.Name == "rejects" {
			continue // explain: below; rejects: lines that could not be read, whose user is not known
		}
		for _, set := range append([]func(*Params){func(*Params) {}}, runs[r.Name]...) {
			p := DefaultParams()
			set(&p)
			table, err := db.Run(ctx, r.Name, p)
			require.NoError(t, err, r.Name)
			for _, row := range table.Rows {
				for _, v := range row {
					require.NotContains(t, strings.ToLower(fmt.Sprint(v)), `corp\svc_`, "%s %+v lists an excluded user", r.Name, p)
				}
			}
		}
	}
	sum, err := db.Run(ctx, "summary", DefaultParams())
	require.NoError(t, err)
	s := records(sum)[0]
	require.Equal(t, int64(4729), s.int("sessions"), "the issue's figure without the service accounts")
	require.Equal(t, int64(185), s.int("users"))
	require.Equal(t, int64(15), s.int("excluded_users"))

	p := DefaultParams()
	p.User = `corp\SVC_audit`
	story, err := db.Run(ctx, "explain", p)
	require.NoError(t, err)
	require.Len(t, story.Rows, 1, "explain shows the exclusion instead of the sessions")
	row := records(story)[0]
	require.Equal(t, "excluded", row.str("section"))
	require.Equal(t, `CORP\svc_*`, row.str("excluded_by"))
}
