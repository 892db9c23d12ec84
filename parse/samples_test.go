package parse

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests below pin the sample logs of fixtures/samples that
// docs/session-log.md calls for; each cites the rule it follows.

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samples, name))
	require.NoError(t, err)
	return data
}

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	return loc
}

// Spec, "Time": QlikView 11.x logs commonly write 2006-01-02 15:04:05 with
// no offset, in the server's local time … In the autumn repeated hour a
// local time is ambiguous: take the earlier instant and count it; a time
// inside the spring gap does not exist: move it forward by the gap and
// count it.
func TestOffsetlessTimesInTheServersZone(t *testing.T) {
	const file = "Sessions_QVS-NY11.log"
	out := decode(t, readSample(t, file), Config{File: file, Server: "QVS-NY11", Location: newYork(t)})
	require.Empty(t, out.rejects)
	require.Len(t, out.rows, 4)

	monthEnd := out.rows[0]
	require.Equal(t, utc("2016-02-01T01:30:00Z"), monthEnd["session_end"],
		"a session ending 2016-01-31 20:30 in New York ended in February, UTC")
	require.Equal(t, utc("2016-02-01T00:00:00Z"), monthEnd["session_start"])

	gap := out.rows[1]
	require.Equal(t, utc("2016-03-13T07:30:00Z"), gap["session_end"], "02:30 does not exist: 03:30 EDT")
	require.Equal(t, utc("2016-03-13T06:50:00Z"), gap["session_start"])

	ambiguous := out.rows[2]
	require.Equal(t, utc("2016-11-06T05:30:00Z"), ambiguous["session_end"], "01:30 happens twice: the earlier, EDT")

	acrossFallBack := out.rows[3]
	require.Equal(t, utc("2016-11-06T05:40:00Z"), acrossFallBack["session_start"], "01:40 EDT, the earlier")
	require.Equal(t, utc("2016-11-06T08:10:00Z"), acrossFallBack["session_end"], "03:10 EST")
	require.Equal(t, int64(150*60*1000), acrossFallBack["duration_ms"])

	s := out.stats
	require.Equal(t, int64(16), s.OffsetlessTimes, "4 rows × Server Started, Timestamp, Document Timestamp, Session Start")
	require.Equal(t, int64(2), s.AmbiguousTimes)
	require.Equal(t, int64(1), s.GapTimes)

	asUTC := decode(t, readSample(t, file), Config{File: file, Server: "QVS-NY11"})
	require.Equal(t, utc("2016-01-31T20:30:00Z"), asUTC.rows[0]["session_end"], "no zone: UTC, and counted")
	require.Equal(t, int64(16), asUTC.stats.OffsetlessTimes)
	require.Zero(t, asUTC.stats.AmbiguousTimes+asUTC.stats.GapTimes)
}

// Spec, "Time": the zone must be configurable per server (an IANA name
// such as America/New_York, so daylight saving is applied). Go's time.Date
// does not promise which instant it returns in a repeated or skipped
// hour, so toUTC is checked in both directions of both hemispheres.
func TestZoneToUTC(t *testing.T) {
	tests := []struct {
		name, zone, local, want string
		how                     timeRead
	}{
		{"New York winter", "America/New_York", "2016-01-31 20:30:00", "2016-02-01T01:30:00Z", timeOffsetless},
		{"New York summer", "America/New_York", "2016-07-01 12:00:00", "2016-07-01T16:00:00Z", timeOffsetless},
		{"New York spring gap 02:30 → 03:30 EDT", "America/New_York", "2024-03-10 02:30:00", "2024-03-10T07:30:00Z", timeInGap},
		{"New York gap's first second", "America/New_York", "2024-03-10 02:00:00", "2024-03-10T07:00:00Z", timeInGap},
		{"New York just before the gap", "America/New_York", "2024-03-10 01:59:59", "2024-03-10T06:59:59Z", timeOffsetless},
		{"New York just after the gap", "America/New_York", "2024-03-10 03:00:00", "2024-03-10T07:00:00Z", timeOffsetless},
		{"New York autumn 01:30 twice: the earlier (EDT)", "America/New_York", "2024-11-03 01:30:00", "2024-11-03T05:30:00Z", timeAmbiguous},
		{"New York autumn 01:00 twice: the earlier (EDT)", "America/New_York", "2024-11-03 01:00:00", "2024-11-03T05:00:00Z", timeAmbiguous},
		{"New York after the repeated hour", "America/New_York", "2024-11-03 02:00:00", "2024-11-03T07:00:00Z", timeOffsetless},
		{"Berlin spring gap 02:30 → 03:30 CEST", "Europe/Berlin", "2023-03-26 02:30:00", "2023-03-26T01:30:00Z", timeInGap},
		{"Berlin autumn 02:30 twice: the earlier (CEST)", "Europe/Berlin", "2023-10-29 02:30:00", "2023-10-29T00:30:00Z", timeAmbiguous},
		{"London autumn 01:15 twice: the earlier (BST)", "Europe/London", "2023-10-29 01:15:00", "2023-10-29T00:15:00Z", timeAmbiguous},
		{"London spring gap 01:15 → 02:15 BST", "Europe/London", "2023-03-26 01:15:00", "2023-03-26T01:15:00Z", timeInGap},
		{"Sydney autumn 02:30 twice: the earlier (AEDT)", "Australia/Sydney", "2024-04-07 02:30:00", "2024-04-06T15:30:00Z", timeAmbiguous},
		{"Sydney spring gap 02:30 → 03:30 AEDT", "Australia/Sydney", "2024-10-06 02:30:00", "2024-10-05T16:30:00Z", timeInGap},
		{"Lord Howe's half-hour gap 02:10 → 02:40", "Australia/Lord_Howe", "2024-10-06 02:10:00", "2024-10-05T15:40:00Z", timeInGap},
		{"UTC is no conversion", "UTC", "2024-03-10 02:30:00", "2024-03-10T02:30:00Z", timeOffsetless},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			require.NoError(t, err)
			z := newZone(loc)
			ms, how, ok := parseTime([]byte(tt.local), &z)
			require.True(t, ok)
			require.Equal(t, utc(tt.want), time.UnixMilli(ms).UTC())
			require.Equal(t, tt.how, how)
			if how == timeOffsetless {
				local := time.UnixMilli(ms).In(loc).Format(time.DateTime)
				require.Equal(t, tt.local, local, "an unambiguous time reads back as written")
			}
		})
	}
}

// Spec, "Time": the zone must be configurable per server; the rules come
// from --timezone [GLOB=]ZONE and the licence file's [timezones].
func TestTimeZonesFor(t *testing.T) {
	flags, err := ParseTimeZones("Europe/Berlin", "QVS-OLD-*=America/New_York", "qvs-old-2=America/Chicago", "Europe/London")
	require.NoError(t, err)
	licence, err := ParseTimeZones("QVS-ASIA-*=Asia/Tokyo")
	require.NoError(t, err)
	onlyLicence, err := ParseTimeZones("QVS-ASIA-*=Asia/Tokyo", "Europe/Paris")
	require.NoError(t, err)

	tests := []struct {
		name   string
		zones  TimeZones
		server string
		want   string // "" = no zone
	}{
		{"a GLOB rule beats the default", flags, "QVS-OLD-1", "America/New_York"},
		{"GLOB matches case-insensitively", flags, "qvs-old-1", "America/New_York"},
		{"of two matching GLOB rules the later wins", flags, "QVS-OLD-2", "America/Chicago"},
		{"of two defaults the later wins", flags, "QVS-PROD", "Europe/London"},
		{"no rule: no zone", TimeZones{}, "QVS-PROD", ""},
		{"a GLOB that does not match gives nothing", licence, "QVS-PROD", ""},
		{"flags over the licence file: a flag default decides", flags.Over(licence), "QVS-ASIA-1", "Europe/London"},
		{"flags without a rule for the server: the licence file's", TimeZones{}.Over(onlyLicence), "QVS-ASIA-1", "Asia/Tokyo"},
		{"licence default under flags with only GLOBs", mustZones(t, "X-*=UTC").Over(onlyLicence), "QVS-1", "Europe/Paris"},
		{"flag GLOB over licence GLOB", mustZones(t, "QVS-*=UTC").Over(licence), "QVS-ASIA-1", "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, ok := tt.zones.For(tt.server)
			if tt.want == "" {
				require.False(t, ok)
				require.Nil(t, loc)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, loc.String())
		})
	}
	require.Equal(t, "Europe/Berlin,QVS-OLD-*=America/New_York,qvs-old-2=America/Chicago,Europe/London", flags.String())
}

func mustZones(t *testing.T, rules ...string) TimeZones {
	t.Helper()
	z, err := ParseTimeZones(rules...)
	require.NoError(t, err)
	return z
}

// Bad rules are refused with a message that names the rule and the fix.
func TestTimeZoneRuleErrors(t *testing.T) {
	tests := []struct{ rule, want string }{
		{"Europe/Berln", `bad time zone rule "Europe/Berln": unknown zone "Europe/Berln": want an IANA name such as America/New_York or Europe/Berlin`},
		{"QVS-*=Mars/Olympus", `bad time zone rule "QVS-*=Mars/Olympus": unknown zone "Mars/Olympus"`},
		{"", `bad time zone rule "": no zone`},
		{"QVS-*=", `bad time zone rule "QVS-*=": no zone`},
		{"=Europe/Berlin", `bad time zone rule "=Europe/Berlin": the server pattern before '=' is empty`},
		{"QVS-[=Europe/Berlin", `bad time zone rule "QVS-[=Europe/Berlin": server pattern "qvs-[": syntax error in pattern`},
		{"Local", `bad time zone rule "Local": zone Local depends on the machine`},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := ParseTimeZones(tt.rule)
			require.ErrorIs(t, err, ErrTimeZoneRule)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// Spec, "Columns": a Session ID is not proof of identity on its own:
// copies of a log may lack the column, and the GUID's letter case may
// differ; and Files: expect Windows copy names. A copy, an export without
// Session ID (archived as .txt) and an upper-case GUID copy read to the same
// sessions; two different sessions that share a Session ID stay two rows.
func TestCopiesOfOneLog(t *testing.T) {
	original := decodeSample(t, "Sessions_QVS-DUP_2023-05-02.log")
	require.Empty(t, original.rejects)
	require.Len(t, original.rows, 3)
	require.Equal(t, original.rows[0]["session_id"], original.rows[2]["session_id"], "one Session ID on two sessions")
	require.NotEqual(t, original.rows[0]["user_key"], original.rows[2]["user_key"])
	require.NotEqual(t, original.rows[0]["session_start"], original.rows[2]["session_start"])

	sameExcept := func(t *testing.T, file string, except ...string) decoded {
		out := decodeSample(t, file)
		require.Empty(t, out.rejects)
		require.Len(t, out.rows, len(original.rows))
		for i, row := range out.rows {
			want, got := maps.Clone(original.rows[i]), maps.Clone(row)
			for _, col := range append(except, "source_file") {
				delete(want, col)
				delete(got, col)
			}
			require.Equal(t, want, got, "%s row %d", file, i)
		}
		return out
	}
	sameExcept(t, "Sessions_QVS-DUP_2023-05-02 - Copy.log")
	export := sameExcept(t, "Sessions_QVS-DUP_2023-05-02.txt", "session_id")
	require.Nil(t, export.rows[0]["session_id"], "the export has no Session ID column")
	upper := sameExcept(t, "Sessions_QVS-DUP_2023-05-02 (2).log", "session_id")
	require.Equal(t, "5F0C9A7E-1B2C-4D3E-8F40-A1B2C3D4E5F6", upper.rows[0]["session_id"], "the raw GUID is kept as written")
}

// Spec, "User key": first non-empty of Authenticated User, Identifying
// User; compare case-insensitively; keep the original spelling for display
// (from the same field the key came from).
func TestUserDisplayFromTheKeysField(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-DUP_2023-05-02.log")
	identOnly := out.rows[1]
	require.Equal(t, "", identOnly["authenticated_user"])
	require.Equal(t, `custom\bob`, identOnly["user_key"])
	require.Equal(t, `CUSTOM\Bob`, identOnly["user"], "not lower-cased")
	require.Equal(t, `CORP\Alice`, out.rows[0]["user"])

	nulls := decodeSample(t, "Sessions_QVS-NULLS_2023-03-01.log")
	anonymous := nulls.rows[0]
	require.Equal(t, anonymous["client_machine_id"], anonymous["user"], "anonymous: the client id")
}

// Spec, "Columns": by name, with SessionId / Session Id as aliases; and
// Exit Reason: Socket closed (the help's wording, client-induced).
func TestSessionIdHeaderAlias(t *testing.T) {
	const file = "Sessions_QVS-ALIAS_2023-05-03.log"
	data := readSample(t, file)
	for _, spelling := range []string{"SessionId", "Session Id", "session id", "SESSIONID"} {
		t.Run(spelling, func(t *testing.T) {
			out := decode(t, bytes.Replace(data, []byte("SessionId"), []byte(spelling), 1), Config{File: file})
			require.Empty(t, out.rejects)
			require.Zero(t, out.stats.UnknownColumns)
			require.Equal(t, "0d9c8b7a-6f5e-4d3c-8b2a-190817263544", out.rows[0]["session_id"])
			require.Equal(t, "Socket closed", out.rows[0]["exit_reason"])
			require.Equal(t, "client_close", out.rows[0]["exit_class"])
		})
	}
}

// Spec, "Columns": extra fields that are empty (a trailing tab) carry
// nothing and are no reason to reject a line; third-party readers accept
// lines with at least the header's number of fields.
func TestTrailingEmptyFields(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-TRAILING_2023-05-03.log")
	require.Len(t, out.rows, 2)
	require.Equal(t, "aaaaaaaa-0000-4000-8000-000000000001", out.rows[0]["session_id"])
	require.Equal(t, "aaaaaaaa-0000-4000-8000-000000000002", out.rows[1]["session_id"])
	require.Equal(t, int64(2), out.stats.ExtraEmptyFields)
	require.Len(t, out.rejects, 2)
	require.Equal(t, int64(4), out.rejects[0].Line, "an extra field that is not empty")
	require.Equal(t, "field_count", out.rejects[0].Reason())
	require.Equal(t, int64(5), out.rejects[1].Line, "fewer fields than the header")
	require.Equal(t, "field_count", out.rejects[1].Reason())
}

// Spec, "Columns": a counter too large for a signed 64-bit integer is
// unreadable (null, counted), never wrapped. Issue 10: times and counts
// that cannot be real are flagged, their raw values kept.
func TestOverflowAndImplausibleValues(t *testing.T) {
	const file = "Sessions_QVS-OVERFLOW_2023-05-03.log"
	notAfter := utc("2023-05-04T00:00:00Z")
	out := decode(t, readSample(t, file), Config{File: file, NotAfter: notAfter})
	require.Empty(t, out.rejects)
	require.Len(t, out.rows, 6)

	require.Nil(t, out.rows[0]["bytes_sent"], "20 digits")
	require.Nil(t, out.rows[0]["bytes_received"], "19 digits beyond int64")
	require.Nil(t, out.rows[0]["implausible"])
	require.Equal(t, int64(2), out.stats.OverflowedCounters)
	require.Zero(t, out.stats.InvalidNumbers)

	tests := []struct {
		row    int
		reason any
		count  any
	}{
		{1, ImplausibleCountAboveCeiling, int64(5_000_000_000_000_000_000)},
		{2, ImplausibleCountNegative, int64(-6)},
		{3, ImplausibleTimeBeforeQlikView, int64(6)},
		{4, ImplausibleTimeAfterFile, int64(6)},
		{5, nil, int64(CALUsageCeiling)},
	}
	for _, tt := range tests {
		require.Equal(t, tt.reason, out.rows[tt.row]["implausible"], "row %d", tt.row)
		require.Equal(t, tt.count, out.rows[tt.row]["cal_usage_count"], "the raw value is kept, row %d", tt.row)
	}
	require.Equal(t, utc("0001-01-01T00:00:00Z"), out.rows[3]["session_start"])
	require.Equal(t, int64(4), out.stats.ImplausibleValues)

	unchecked := decode(t, readSample(t, file), Config{File: file})
	require.Nil(t, unchecked.rows[4]["implausible"], "without NotAfter, no check against the file's time")
}

// Spec, "Duration": when the duration cannot be read, use Timestamp −
// Session Start; issue 10: when exactly one of Session Start, Timestamp and
// Session Duration is unreadable, derive it from the other two; reject only
// when the session cannot be placed in time.
func TestDerivedTimes(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-DERIVE_2023-05-04.log")
	require.Len(t, out.rows, 4)
	tests := []struct {
		name       string
		start, end string
		durationMS int64
	}{
		{"unreadable Timestamp = start + duration", "2023-05-04T06:00:00Z", "2023-05-04T06:10:00Z", 600_000},
		{"empty Session Start = end − duration", "2023-05-04T07:00:00Z", "2023-05-04T07:10:00Z", 600_000},
		{"unreadable duration = end − start", "2023-05-04T08:00:00Z", "2023-05-04T08:10:00Z", 600_000},
		{"empty duration = end − start", "2023-05-04T09:00:00Z", "2023-05-04T09:10:00Z", 600_000},
	}
	for i, tt := range tests {
		require.Equal(t, utc(tt.start), out.rows[i]["session_start"], tt.name)
		require.Equal(t, utc(tt.end), out.rows[i]["session_end"], tt.name)
		require.Equal(t, tt.durationMS, out.rows[i]["duration_ms"], tt.name)
	}
	s := out.stats
	require.Equal(t, [4]int64{1, 1, 1, 1}, [4]int64{s.DerivedTimestamps, s.DerivedSessionStarts, s.DerivedDurations, s.DurationFallbacks})
	require.Len(t, out.rejects, 1, "two of the three unreadable")
	require.Equal(t, "bad_session_start", out.rejects[0].Reason())
	require.Equal(t, int64(6), out.rejects[0].Line)
}

// Spec, "Files": a server that does not rotate writes Sessions_<SERVER>.log
// (Sessions_QV_2.log is server QV_2). The name is ingest's to read; the
// decoder takes the server it is given and the file's name as source_file.
func TestNonRotatingServersFile(t *testing.T) {
	const file = "Sessions_QV_2.log"
	out := decode(t, readSample(t, file), Config{File: file, Server: "QV_2"})
	require.Empty(t, out.rejects)
	require.Len(t, out.rows, 1)
	require.Equal(t, "QV_2", out.rows[0]["server"])
	require.Equal(t, file, out.rows[0]["source_file"])
}

// Issue 10: the session line right after a block of NUL bytes (a
// crash-zeroed tail) is kept; the text a NUL run cut short is dropped with
// it, as a partial last line is.
func TestNULRunsAreSkipped(t *testing.T) {
	out := decodeSample(t, "Sessions_QVS-CRASH_2023-05-05.log")
	require.Empty(t, out.rejects)
	require.Len(t, out.rows, 3)
	for i, row := range out.rows {
		require.Equal(t, int64(i+2), row["source_line"])
		require.Equal(t, "RLS64", row["exe_type"])
	}
	require.Equal(t, "eeeeeeee-0000-4000-8000-000000000003", out.rows[2]["session_id"])
	require.Equal(t, int64(2), out.stats.NULRuns)
}

// Spec, "Columns": 28 columns in QlikView 11.x up to 12.30 … from about
// 12.50 a 29th column Session ID (last in the one real line). A file without
// a header is read with the layout that fits each line.
func TestHeaderlessFile(t *testing.T) {
	const file = "Sessions_QVS-NOHEADER_2023-05-05.log"
	data := readSample(t, file)
	out := decode(t, data, Config{File: file})
	require.Empty(t, out.rejects)
	require.Len(t, out.rows, 2)
	require.Nil(t, out.rows[0]["session_id"])
	require.Equal(t, "ffffffff-0000-4000-8000-000000000001", out.rows[1]["session_id"])
	require.Equal(t, int64(2), out.stats.HeaderlessLines)
	require.Zero(t, out.stats.Headers)

	first := NewDecoder(bytes.NewReader(data[:bytes.IndexByte(data, '\n')+1]), Config{File: file})
	for first.Next() {
	}
	require.NotNil(t, first.Header(), "lines were read")
	require.Empty(t, first.Header(), "with no header in effect")
	// A checkpoint stores the header as a string: "" comes back as an empty
	// slice, which must resume exactly as the start of the file does.
	rest := decode(t, data[first.Offset():], Config{File: file, Header: []byte(""), FirstLine: first.Line() + 1})
	require.Equal(t, out.rows[1:], rest.rows)
	require.Empty(t, rest.rejects)
}

// Every complete line of every sample is a row, a reject, a header or a
// blank line, and the lenient readings have names.
func TestLineInvariantOverAllSamples(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(samples, "Sessions_*"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 20)
	var total Stats
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		out := decode(t, data, Config{File: filepath.Base(p), Location: newYork(t), NotAfter: utc("2024-01-01T00:00:00Z")})
		s := out.stats
		require.Equal(t, int64(bytes.Count(data, []byte{'\n'})), s.Lines, p)
		require.Equal(t, s.Lines, s.Rows+s.Rejects+s.Headers+s.BlankLines, p)
		require.Equal(t, int64(len(data))-out.offset, s.PartialBytes, p)
		total.Add(s)
	}
	require.Equal(t, total.Lines, total.Rows+total.Rejects+total.Headers+total.BlankLines, "the sum holds too")
	names := map[string]bool{}
	for _, c := range total.Lenient() {
		names[c.Name] = true
	}
	for _, want := range []string{"offsetless_times", "ambiguous_times", "gap_times", "derived_session_start",
		"derived_timestamp", "derived_duration", "duration_fallbacks", "day_fraction_durations", "overflowed_counters",
		"invalid_utf8_lines", "extra_empty_fields", "headerless_lines", "unknown_columns", "nul_runs", "implausible_values"} {
		require.True(t, names[want], "the samples show %s", want)
	}
}
