#!/bin/sh
# Regenerates the committed sample estate under fixtures/estate: 3 servers
# (Stockholm, New York, Sydney), 200 users, February and March 2024 (both
# DST changes, a leap day, two month ends), CAL licences converted to a
# Signed License Key on 19 February, with a restart, corrupt lines and a
# partial last line planted. The estate is committed; a test in
# cmd/qvmeter regenerates it with the command below and compares the bytes.
#
# Usage: scripts/fixtures.sh path/to/qvmeter
set -eu
qvmeter=${1:-bin/qvmeter}
out=fixtures/estate
rm -rf "$out"
"$qvmeter" gen --out "$out" --servers 3 --users 200 --documents 24 --start 2024-02-01 --days 60 --era convert --convert-date 2024-02-19 --capacity-minutes 15000 --seed 2024 --mess
