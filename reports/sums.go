package reports

// No stored value can make a report fail (issue 10). DuckDB sums BIGINTs
// into a HUGEINT, and a report that casts the sum back to BIGINT failed
// for ever with "Conversion Error: … can't be cast … INT64" once two stored
// values added up beyond 64 bits (two CAL Usage Counts of 5·10^18). The
// sessions view leaves out the rows the decoder flags as implausible, and
// metering's sums saturate at the 64-bit limits (sum_saturated anomalies),
// but a dataset written before the flag, or a state's saturated figures
// summed again, can still go beyond: every sum a report turns into an
// integer column goes through clamp_int64, which holds it at the limit the
// way metering does, keeping the column a BIGINT as the goldens expect.
// Sums that become a DOUBLE (durations in minutes) cannot fail.

// clampInt64Macro defines clamp_int64(x): x as a BIGINT, held at the
// 64-bit limits; null stays null.
const clampInt64Macro = `CREATE TEMP MACRO clamp_int64(x) AS
  CAST(CASE WHEN x > 9223372036854775807 THEN 9223372036854775807
            WHEN x < -9223372036854775808 THEN -9223372036854775808
            ELSE x END AS BIGINT)`
