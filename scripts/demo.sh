#!/bin/sh
# make demo: the nightly job on the bundled sample estate (fixtures/estate:
# three servers, February and March 2024, CAL licences converted to a
# Signed License Key on 19 February) with its licence, as of 1 April 2024,
# then the path of index.html and the summary.
#
# Usage: scripts/demo.sh path/to/qvmeter data-folder
set -u
qvmeter=${1:-bin/qvmeter}
data=${2:-qvmeter-data}

index=$("$qvmeter" run --data "$data" --license fixtures/estate/license.toml --as-of 2024-04-01 fixtures/estate)
code=$?
case $code in
0) ;;
2) echo "(exit code 2: the sample logs have corrupt lines planted on purpose; see: $qvmeter report rejects --data $data)" ;;
3) echo "(exit code 3: an alert of the licence file fired)" ;;
*) exit $code ;;
esac

echo
"$qvmeter" report summary --data "$data" --format table
echo
echo "Open the report: $index"
