#!/usr/bin/env bash
# make bench: runs every benchmark (generated inputs kept in $QVMETER_BENCH_DIR,
# output in $QVMETER_BENCH_DIR/bench.txt) and prints the scale issue's figures
# next to their goals. A summary of an earlier run: scripts/bench.sh --summary FILE.
set -euo pipefail

summary() {
	awk '
	# Benchmark lines: name, iterations, then value-unit pairs.
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) v[name, $(i+1)] = $i
		seen[name] = 1
	}
	function have(name, unit) { return (name, unit) in v }
	function row(what, figure, goal, met) {
		printf "%-44s %-22s %-22s %s\n", what, figure, goal, met
	}
	function check(what, name, unit, goal, cmp, limit, shown, scale,   x) {
		if (!have(name, unit)) { row(what, "not run", goal, ""); return }
		x = v[name, unit] * scale
		row(what, sprintf(shown, x), goal, (cmp == "<=" ? x <= limit : x >= limit) ? "met" : "MISSED")
	}
	END {
		printf "\n%-44s %-22s %-22s %s\n", "figure", "measured", "goal", ""
		check("decode, one core", "BenchmarkDecode/one-core", "MB/s", ">= 1000 MB/s", ">=", 1000, "%.0f MB/s", 1)
		check("decode, two cores", "BenchmarkDecode/two-cores", "MB/s", ">= 2000 MB/s", ">=", 2000, "%.0f MB/s", 1)
		q = "BenchmarkIngest/qvmeter-ingest"; d = "BenchmarkIngest/duckdb-copy"
		if (have(q, "ns/op") && have(d, "ns/op")) {
			r = v[d, "ns/op"] / v[q, "ns/op"]
			row("ingest speed vs DuckDB COPY, 1 GiB", sprintf("%.2fx", r), ">= 2.5x", r >= 2.5 ? "met" : "MISSED")
		} else row("ingest speed vs DuckDB COPY, 1 GiB", "not run", ">= 2.5x", "")
		if (have(q, "MB-dataset") && have(d, "MB-dataset")) {
			row("dataset size vs DuckDB zstd Parquet", sprintf("%.0f vs %.0f MB", v[q, "MB-dataset"], v[d, "MB-dataset"]),
				"<= DuckDB", v[q, "MB-dataset"] <= v[d, "MB-dataset"] ? "met" : "MISSED")
		} else row("dataset size vs DuckDB zstd Parquet", "not run", "<= DuckDB", "")
		for (s = 1; s <= 3; s += 2) {
			check(sprintf("ingest peak RSS, %d GiB log", s), sprintf("BenchmarkScale/ingest-%dGiB", s), "MiB-peak-RSS", "<= 128 MiB", "<=", 128, "%.0f MiB", 1)
		}
		for (s = 1; s <= 3; s += 2) {
			check(sprintf("meter peak RSS, %d GiB log", s), sprintf("BenchmarkScale/meter-%dGiB", s), "MiB-peak-RSS", "<= 256 MiB", "<=", 256, "%.0f MiB", 1)
		}
		for (s = 1; s <= 3; s += 2) {
			check(sprintf("meter speed, %d GiB wide log", s), sprintf("BenchmarkScale/meter-%dGiB", s), "sessions/s", ">= 5 M sessions/s", ">=", 5, "%.2f M sessions/s", 1e-6)
		}
		check("meter speed, BenchmarkReplay estate", "BenchmarkReplay", "sessions/s", ">= 5 M sessions/s", ">=", 5, "%.2f M sessions/s", 1e-6)
	}' "$1"
}

if [[ ${1:-} == --summary ]]; then
	summary "$2"
	exit
fi

: "${QVMETER_BENCH_DIR:?set QVMETER_BENCH_DIR to a folder for the generated inputs}"
: "${BENCHTIME:=3x}"
mkdir -p "$QVMETER_BENCH_DIR"
out=$QVMETER_BENCH_DIR/bench.txt
status=0
go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -timeout 90m ./... 2>&1 | tee "$out" || status=$?
summary "$out"
exit "$status"
