#!/bin/sh
# scripts/compare-reports.sh WANT GOT [STAMP...]: fails unless the report
# folders WANT and GOT hold the same files with the same bytes. In .html
# files every STAMP string (what tells two builds apart, e.g. the platform
# in the version line) is blanked first; summary.txt is compared without
# its Steps section and the folder it names (each run's own timings and
# paths); CSV and JSON are compared as they are. Prints the first
# differences of each file that differs.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 WANT GOT [STAMP...]" >&2; exit 2; }
want=$1
got=$2
shift 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# stamps.sed blanks each STAMP in the HTML files.
: >"$tmp/stamps.sed"
for s in "$@"; do
	printf 's/%s/<build>/g\n' "$(printf '%s' "$s" | sed 's/[][\\/.*^$&]/\\&/g')" >>"$tmp/stamps.sed"
done

fail=0
(cd "$want" && find . -type f | sort) >"$tmp/want.list"
(cd "$got" && find . -type f | sort) >"$tmp/got.list"
if ! cmp -s "$tmp/want.list" "$tmp/got.list"; then
	echo "compare-reports: the folders hold different files:" >&2
	diff -u "$tmp/want.list" "$tmp/got.list" >&2 || true
	fail=1
fi
[ -s "$tmp/want.list" ] || { echo "compare-reports: $want holds no reports" >&2; exit 1; }

n=0
while read -r f; do
	[ -f "$got/$f" ] || continue
	a=$want/$f
	b=$got/$f
	case $f in
	*.html)
		sed -f "$tmp/stamps.sed" "$a" >"$tmp/a.html"
		sed -f "$tmp/stamps.sed" "$b" >"$tmp/b.html"
		a=$tmp/a.html
		b=$tmp/b.html ;;
	*summary.txt)
		sed -e '/^Steps$/,/^$/d' -e '/^The reports .* are in /d' "$a" >"$tmp/a.txt"
		sed -e '/^Steps$/,/^$/d' -e '/^The reports .* are in /d' "$b" >"$tmp/b.txt"
		a=$tmp/a.txt
		b=$tmp/b.txt ;;
	esac
	if cmp -s "$a" "$b"; then
		n=$((n + 1))
	else
		echo "compare-reports: $f differs:" >&2
		diff -u "$a" "$b" | head -20 >&2 || true
		fail=1
	fi
done <"$tmp/want.list"
[ "$fail" = 0 ] || exit 1
echo "compare-reports: $n reports byte-identical"
