package parse

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every count of Stats has a name in statCounters, so that Add sums it and
// Lenient can show it; names are unique snake_case.
func TestEveryCountIsNamed(t *testing.T) {
	var s Stats
	named := map[*int64]string{}
	names := map[string]bool{}
	for _, c := range statCounters {
		require.Regexp(t, `^[a-z0-9]+(_[a-z0-9]+)*$`, c.name)
		require.False(t, names[c.name], "%s named twice", c.name)
		names[c.name] = true
		named[c.field(&s)] = c.name
	}
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Type.Kind() != reflect.Int64 {
			continue
		}
		_, ok := named[v.Field(i).Addr().Interface().(*int64)]
		require.True(t, ok, "Stats.%s has no name in statCounters", f.Name)
	}
}

func TestStatsAddAndLenient(t *testing.T) {
	a := Stats{Lines: 3, Rows: 2, Headers: 1, OffsetlessTimes: 4, UnknownColumns: 1, UnknownColumnNames: []string{"Foo"}}
	b := Stats{Lines: 2, Rows: 1, Rejects: 1, GapTimes: 1, UnknownColumns: 2, UnknownColumnNames: []string{"Bar", "Foo"}}
	a.Add(b)
	require.Equal(t, Stats{Lines: 5, Rows: 3, Rejects: 1, Headers: 1, OffsetlessTimes: 4, GapTimes: 1, UnknownColumns: 3,
		UnknownColumnNames: []string{"Foo", "Bar"}}, a)
	require.Equal(t, []Count{{"unknown_columns", 3}, {"offsetless_times", 4}, {"gap_times", 1}}, a.Lenient(),
		"only lenient counts, not zero, in a fixed order")

	var many Stats
	for i := range 2 * MaxUnknownColumnNames {
		many.Add(Stats{UnknownColumnNames: []string{string(rune('A' + i))}})
	}
	require.Len(t, many.UnknownColumnNames, MaxUnknownColumnNames, "bounded")
}

// Unknown header columns are reported by name, once each, as spelled.
func TestUnknownColumnsByName(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-HEADERCASE_2023-04-01.log")
	require.Equal(t, int64(1), out.stats.UnknownColumns)
	require.Len(t, out.stats.UnknownColumnNames, 1)
	require.NotEmpty(t, out.stats.UnknownColumnNames[0])
}
