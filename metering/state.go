package metering

// The state tables: what a replay rebuilds, written as DIR/state/<table>.parquet
// (one file per table, replaced atomically as a whole directory) plus
// DIR/state/state.json (dataset.StateInfo). Reports read them with DuckDB, so the
// column names below are a contract: add columns, do not rename them.
//
// Conventions shared by every table:
//   - times are INT64 TIMESTAMP(MILLIS, UTC);
//   - day is the UTC calendar day "YYYY-MM-DD", month the UTC calendar
//     month "YYYY-MM";
//   - pool is the licence group the row belongs to: the [[group]] name from
//     the licence file, or "default" for the top-level licence (and for every
//     server when there is no licence file);
//   - a pointer field is an optional column, null where the figure is
//     unknown (typically a pool size when no licence file was given);
//   - user_key and document_key are the dataset's keys (lower-cased), user
//     the logged spelling for display (Authenticated, else Identifying
//     User; the first in sort order where the first sessions read differ).

// State table file names under DIR/state.
const (
	HoldersTable     = "holders.parquet"
	CapacityTable    = "capacity.parquet"
	MonthsTable      = "months.parquet"
	ConcurrencyTable = "concurrency.parquet"
	UsageTable       = "usage_cals.parquet"
	AnomaliesTable   = "anomalies.parquet"
	DenialsTable     = "denials.parquet"
)

// HolderRow is one assignment of a named, document, professional or analyzer
// licence: who holds it, how it was used, and when removing it on the as-of
// date would really free it (spec: "Quarantine on removal").
type HolderRow struct {
	Pool        string `parquet:"pool,dict,zstd"`
	CALType     string `parquet:"cal_type,dict,zstd"` // named | document | professional | analyzer
	User        string `parquet:"user,zstd"`
	UserKey     string `parquet:"user_key,zstd"`
	DocumentKey string `parquet:"document_key,zstd"` // empty unless cal_type = document
	// A use of a licence is a session end (the Timestamp column): FirstUsed
	// is the earliest session_end under it, LastUsed the latest.
	FirstUsed int64 `parquet:"first_used,timestamp(millisecond:utc),zstd"`
	LastUsed  int64 `parquet:"last_used,timestamp(millisecond:utc),zstd"`
	Sessions  int64 `parquet:"sessions,zstd"`
	// Servers lists the servers (sorted) the holder's sessions ran on.
	Servers []string `parquet:"servers,list"`
	// Documents is the number of distinct documents opened with this licence.
	Documents int64 `parquet:"documents,zstd"`
	// ExeVersion is the Exe Version of the holder's latest session, the one
	// that decides an automatic quarantine.
	ExeVersion   string `parquet:"exe_version,dict,zstd"`
	QuarantineMS int64  `parquet:"quarantine_ms,zstd"`
	// QuarantineRule says where quarantine_ms came from: "auto:7d" or
	// "auto:24h" (by exe_version), or "license" (a fixed duration).
	QuarantineRule string `parquet:"quarantine_rule,dict,zstd"`
	// IdleDays is the number of whole days between last_used and as_of.
	IdleDays int64 `parquet:"idle_days,zstd"`
	// FreesAt = max(as_of, last_used + quarantine): when the licence would be
	// free again if an administrator removed it on the as-of date.
	FreesAt int64 `parquet:"frees_at,timestamp(millisecond:utc),zstd"`
	// Excess is true for holders beyond the pool size, in order of first use
	// (the server's "Excess" flag); always false when the pool size is unknown.
	Excess bool `parquet:"excess"`
	// Revoked is set in simulate mode when the revoke_idle_days policy took
	// the licence away; RevokedAt is then the time of the revocation.
	Revoked   bool   `parquet:"revoked"`
	RevokedAt *int64 `parquet:"revoked_at,optional,timestamp(millisecond:utc),zstd"`
	// Retired is set on a named or document CAL when the as-of time is at or
	// after the licence's converted_at: the CAL licence no longer exists, so
	// the holder is not held, not idle and on no revoke list; RetiredAt is
	// converted_at. The spec: "shown apart as retired at the conversion".
	Retired   bool   `parquet:"retired"`
	RetiredAt *int64 `parquet:"retired_at,optional,timestamp(millisecond:utc),zstd"`
}

// CapacityRow is the Analyzer Capacity ledger: one UTC month × user ×
// document × server. Minutes are the sum of the logged CAL Usage Count; they
// are never recomputed from the duration (spec: "Analyzer Capacity").
type CapacityRow struct {
	Pool        string `parquet:"pool,dict,zstd"`
	Month       string `parquet:"month,dict,zstd"` // of session_end, UTC
	UserKey     string `parquet:"user_key,zstd"`
	DocumentKey string `parquet:"document_key,zstd"`
	Server      string `parquet:"server,dict,zstd"`
	Minutes     int64  `parquet:"minutes,zstd"`
	Sessions    int64  `parquet:"sessions,zstd"`
	// MissingCount sessions had no CAL Usage Count; their minutes are not in
	// minutes but bounded by missing_min_minutes (6 each) and
	// missing_max_minutes (6 × ceil(duration / 6 min) each).
	MissingCount      int64 `parquet:"missing_count,zstd"`
	MissingMinMinutes int64 `parquet:"missing_min_minutes,zstd"`
	MissingMaxMinutes int64 `parquet:"missing_max_minutes,zstd"`
	// NotMultipleOf6 counts sessions whose count is not a multiple of 6.
	NotMultipleOf6 int64 `parquet:"not_multiple_of_6,zstd"`
	// AboveDuration counts sessions whose count exceeds 6 × ceil(duration / 6 min).
	AboveDuration int64 `parquet:"above_duration,zstd"`
	// SpansMonth counts sessions that started in an earlier UTC month.
	SpansMonth int64 `parquet:"spans_month,zstd"`
}

// MonthRow is one pool's Analyzer Capacity budget for one UTC month.
type MonthRow struct {
	Pool     string `parquet:"pool,dict,zstd"`
	Month    string `parquet:"month,dict,zstd"`
	Minutes  int64  `parquet:"minutes,zstd"` // consumed (logged counts; simulate: granted)
	Sessions int64  `parquet:"sessions,zstd"`
	Users    int64  `parquet:"users,zstd"`
	// Budget is capacity_minutes from the licence; OverageCeiling the extra
	// minutes allowed (null: none bought or no licence; -1: unlimited).
	Budget         *int64 `parquet:"budget,optional,zstd"`
	OverageCeiling *int64 `parquet:"overage_ceiling,optional,zstd"`
	// OverBudget = max(0, minutes - budget); null when the budget is unknown.
	OverBudget *int64 `parquet:"over_budget,optional,zstd"`
	// ExhaustedAt is when the month's consumption reached budget (+ overage
	// ceiling): later capacity sessions of the month are locked out.
	ExhaustedAt *int64 `parquet:"exhausted_at,optional,timestamp(millisecond:utc),zstd"`
	// ForecastMinutes is the current month's projected total at month end
	// with its range (forecast.go); null for other months, and before
	// [alerts] forecast_min_days of the month have passed.
	ForecastMinutes     *int64 `parquet:"forecast_minutes,optional,zstd"`
	ForecastLowMinutes  *int64 `parquet:"forecast_low_minutes,optional,zstd"`
	ForecastHighMinutes *int64 `parquet:"forecast_high_minutes,optional,zstd"`
	// ImplausibleMinutes is the sum of the CAL Usage Counts of the month's
	// capacity sessions whose values cannot be real (implausible_value
	// anomalies): not in minutes, but what the month would differ by if
	// they were counted.
	ImplausibleMinutes int64 `parquet:"implausible_minutes,zstd"`
}

// ConcurrencyRow is one pool's Session CAL peak for one UTC day: the largest
// number of client instances (client_machine_id + client_type) holding a
// session CAL at once, each holding [start, max(end, start + 15 min)] with
// overlapping or touching intervals of one client merged.
type ConcurrencyRow struct {
	Pool    string `parquet:"pool,dict,zstd"`
	Day     string `parquet:"day,dict,zstd"`
	Peak    int64  `parquet:"peak,zstd"`
	PeakAt  int64  `parquet:"peak_at,timestamp(millisecond:utc),zstd"` // first time the peak was reached that day
	Clients int64  `parquet:"clients,zstd"`                            // distinct client instances that day
	// Licensed is the pool's session CAL count (null: unknown).
	Licensed *int64 `parquet:"licensed,optional,zstd"`
}

// UsageRow is one pool's Usage CAL consumption and availability for one UTC
// day. A session consumes one CAL per started 60 minutes, each at start +
// k·60 min (or its logged CAL Usage Count, where present). Availability is
// the pool size minus what has not been recharged yet, under the licence's
// usage_recharge model: "per-cal" (each CAL returns 28 days after the day it
// was used) or "linear" (the pool recovers size/28 per day, up to its size).
type UsageRow struct {
	Pool     string `parquet:"pool,dict,zstd"`
	Day      string `parquet:"day,dict,zstd"`
	Consumed int64  `parquet:"consumed,zstd"`
	// Available at the end of the day; negative means more were used than the
	// pool holds. Null when the pool size is unknown.
	Available *float64 `parquet:"available,optional,zstd"`
	// AtZero is true when available ≤ 0 at the end of the day: probable denials.
	AtZero bool `parquet:"at_zero"`
}

// AnomalyRow is one thing in the logs that a correct server on the given
// licence could not have produced, or that the administrator should look at.
// Kind is one of the Anomaly* constants; the other columns are filled as far
// as they apply.
type AnomalyRow struct {
	Pool        string `parquet:"pool,dict,zstd"`
	Kind        string `parquet:"kind,dict,zstd"`
	CALType     string `parquet:"cal_type,dict,zstd"`
	Month       string `parquet:"month,dict,zstd"`
	Day         string `parquet:"day,dict,zstd"`
	At          *int64 `parquet:"at,optional,timestamp(millisecond:utc),zstd"`
	User        string `parquet:"user,zstd"`
	UserKey     string `parquet:"user_key,zstd"`
	DocumentKey string `parquet:"document_key,zstd"`
	Server      string `parquet:"server,dict,zstd"`
	// Observed and Limit are the figures compared (e.g. holders vs pool size,
	// minutes vs budget, logged count vs duration bound).
	Observed   int64  `parquet:"observed,zstd"`
	Limit      int64  `parquet:"limit,zstd"`
	Detail     string `parquet:"detail,zstd"`
	SourceFile string `parquet:"source_file,dict,zstd"`
	SourceLine int64  `parquet:"source_line,zstd"`
}

// Anomaly kinds.
const (
	AnomalyPoolExceeded       = "pool_exceeded"        // more holders (or session/usage use) than licensed
	AnomalyNamedAndDocument   = "named_and_document"   // a user holds both: one is wasted
	AnomalyUnknownCALType     = "unknown_cal_type"     // CAL Type text not recognised
	AnomalyOverBudget         = "over_budget"          // capacity month above budget
	AnomalyCapacityCount      = "capacity_count"       // count missing, not a multiple of 6, or above the duration's bound
	AnomalySpansMonth         = "spans_month"          // capacity session across a UTC month boundary
	AnomalyDocumentAllocation = "document_allocation"  // document CALs on a document above its allocation, or Σ allocated > total
	AnomalyUnlistedServer     = "unlisted_server"      // a server in the logs that the licence file does not list
	AnomalyLateSession        = "late_session"         // a session longer than the reorder horizon (concurrency may be low)
	AnomalyEraMismatch        = "cal_type_outside_era" // a CAL-era type after converted_at, or an SLK type before it
	AnomalyNoPoolSizes        = "no_pool_sizes"        // the licence file gives no pool size at all (said once)
	AnomalyUsageCountMismatch = "usage_count_mismatch" // a usage CAL line whose logged count differs from its duration's
	AnomalyImplausibleValue   = "implausible_value"    // a line whose times or count cannot be real: set aside, in no figure (implausible.go)
	AnomalySumSaturated       = "sum_saturated"        // a sum reached the 64-bit limit and is held there (overflow.go)
	AnomalyClientWithoutID    = "client_without_id"    // session-CAL lines without a Client Machine Identification, per pool and day
)

// DenialRow is a session that simulate mode could not give a licence to.
type DenialRow struct {
	Pool        string `parquet:"pool,dict,zstd"`
	At          int64  `parquet:"at,timestamp(millisecond:utc),zstd"` // session_start
	User        string `parquet:"user,zstd"`
	UserKey     string `parquet:"user_key,zstd"`
	DocumentKey string `parquet:"document_key,zstd"`
	Server      string `parquet:"server,dict,zstd"`
	// Reason: "no_cal_free" (CAL era: no named, document, session or usage
	// CAL left), "capacity_exhausted" (SLK era: no professional or analyzer
	// seat and the month's capacity is used up), "no_licence" (the pool has
	// nothing of the era).
	Reason string `parquet:"reason,dict,zstd"`
	// LoggedCALType is the cal_class the server actually logged.
	LoggedCALType string `parquet:"logged_cal_type,dict,zstd"`
	SourceFile    string `parquet:"source_file,dict,zstd"`
	SourceLine    int64  `parquet:"source_line,zstd"`
}
