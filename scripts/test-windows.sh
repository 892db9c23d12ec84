#!/bin/sh
# scripts/test-windows.sh QVMETER_EXE QVMETER: make test-windows. Runs the
# Windows binary under Wine (installed by scripts/toolchain.sh when missing)
# and checks it against the Linux binary built from the same source:
#
#  1. qvmeter.exe run on the bundled estate, given Windows paths (Z:\ drive
#     letter, backslashes), exits like the Linux binary and writes reports
#     byte-identical to its (CSV and JSON as they are; HTML after blanking
#     the platform in any build stamp): scripts/compare-reports.sh.
#  2. The README's Task Scheduler command runs as it is written, with the
#     executable at C:\qvmeter\qvmeter.exe and the data on D:.
#  3. While one qvmeter.exe ingest writes a data folder, a second one on the
#     same folder is refused at once (exit 1, "being written by another
#     qvmeter"): the Windows lock, ingest/lock_windows.go. The first then
#     finishes normally.
#
# Wine runs in a throwaway WINEPREFIX with WINEDEBUG=-all; no display is
# needed for a console program. Set KEEP=1 to keep the work folder.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 path/to/qvmeter.exe path/to/linux/qvmeter" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
exe=$(abs "$1")
linux=$(abs "$2")
"$root/scripts/toolchain.sh" wine mingw

work=$(mktemp -d "${TMPDIR:-/tmp}/qvmeter-wine.XXXXXX")
export WINEPREFIX="$work/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
	wineserver -k 2>/dev/null || true
	if [ "${KEEP:-}" = 1 ]; then echo "test-windows: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
# winpath PATH: the Windows path of an absolute Linux path (Wine's Z: drive).
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }

step() { echo "test-windows: $*" >&2; }
t0=$(date +%s)
step "preparing the Wine prefix"
wineboot -i >/dev/null 2>&1
sys32=$WINEPREFIX/drive_c/windows/system32
if [ ! -e "$sys32/bcryptprimitives.dll" ]; then
	# Wine before 9 lacks the DLL Go's runtime needs on every Windows 10+.
	x86_64-w64-mingw32-gcc-posix -O2 -shared -o "$sys32/bcryptprimitives.dll" \
		"$root/scripts/windows/bcryptprimitives.c" -lbcrypt
fi
wine "$exe" version >"$work/version.txt"
cat "$work/version.txt" >&2

step "1. qvmeter.exe run with Windows paths, against the Linux binary"
estate=$root/fixtures/estate
set +e
"$linux" run --quiet --data "$work/linux/data" --license "$estate/license.toml" \
	--as-of 2024-04-01 --out "$work/linux/reports" "$estate"
linux_code=$?
wine "$exe" run --quiet --data "$(winpath "$work/windows/data")" --license "$(winpath "$estate")\\license.toml" \
	--as-of 2024-04-01 --out "$(winpath "$work/windows/reports")" "$(winpath "$estate")"
windows_code=$?
set -e
if [ "$linux_code" != "$windows_code" ] || [ "$linux_code" -ge 4 ] || [ "$linux_code" = 1 ]; then
	echo "test-windows: run exited $windows_code on Windows, $linux_code on Linux" >&2
	exit 1
fi
"$root/scripts/compare-reports.sh" "$work/linux/reports" "$work/windows/reports" linux/amd64 windows/amd64

step "2. the README's Task Scheduler command, with qvmeter.exe in C:\\qvmeter and the data on D:"
mkdir -p "$WINEPREFIX/drive_c/qvmeter" "$work/d/qvmeter"
cp "$exe" "$WINEPREFIX/drive_c/qvmeter/qvmeter.exe"
ln -sfn "$work/d" "$WINEPREFIX/dosdevices/d:"
cp "$estate/license.toml" "$work/d/qvmeter/license.toml"
set +e
wine 'C:\qvmeter\qvmeter.exe' run --quiet --data 'D:\qvmeter' --license 'D:\qvmeter\license.toml' "$(winpath "$estate")"
code=$?
set -e
index=$(find "$work/d/qvmeter/reports" -name index.html 2>/dev/null | head -1)
if [ "$code" = 1 ] || [ "$code" -ge 4 ] || [ -z "$index" ]; then
	echo "test-windows: the README's command exited $code and wrote ${index:-no index.html}" >&2
	exit 1
fi

step "3. a second qvmeter.exe ingest on the same data folder is refused"
# A first ingest long enough for the second to start while it writes.
"$linux" gen --out "$work/big" --size "${LOCK_ESTATE_SIZE:-64MiB}" >/dev/null
data=$(winpath "$work/lock/data")
mkdir -p "$work/lock/data"
wine "$exe" ingest --data "$data" "$(winpath "$work/big")" >"$work/first.out" 2>&1 &
first=$!
# The first holds the lock once it has written its pid into the lock file.
i=0
until grep -q '^pid ' "$work/lock/data/lock" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $first 2>/dev/null; then
		echo "test-windows: the first ingest never took the lock:" >&2
		cat "$work/first.out" >&2
		exit 1
	fi
	sleep 0.1
done
set +e
wine "$exe" ingest --data "$data" "$(winpath "$work/big")" >"$work/second.out" 2>&1
second_code=$?
set -e
if ! kill -0 $first 2>/dev/null; then
	echo "test-windows: inconclusive: the first ingest ended before the second was refused; raise LOCK_ESTATE_SIZE" >&2
	exit 1
fi
if [ "$second_code" != 1 ] || ! grep -q "being written by another qvmeter" "$work/second.out"; then
	echo "test-windows: the second ingest was not refused (exit $second_code):" >&2
	cat "$work/second.out" >&2
	exit 1
fi
cat "$work/second.out" >&2
set +e
wait $first
first_code=$?
set -e
if [ "$first_code" != 0 ] && [ "$first_code" != 2 ]; then
	echo "test-windows: the first ingest failed (exit $first_code):" >&2
	cat "$work/first.out" >&2
	exit 1
fi
step "passed in $(($(date +%s) - t0))s"
