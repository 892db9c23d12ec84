#!/usr/bin/env bash
# deadcode on the non-test code (make lint): every function no command can
# reach must be listed, with the reason it is kept, in
# scripts/deadcode-allow.txt ("path: func  # why", or "folder/*  # why" for a
# whole package kept for other modules' tests, such as a test double). A
# function that is not listed fails the check; a listed one that became
# reachable is reported so the list stays true.
set -euo pipefail
cd "$(dirname "$0")/.."
allow=scripts/deadcode-allow.txt
found=$(go tool deadcode ./... | sed -E 's/^([^:]+):[0-9]+:[0-9]+: unreachable func: (.*)$/\1: \2/' | sort)
entries=$(grep -v '^#' "$allow" | sed -E 's/[[:space:]]*#.*$//' | sed '/^$/d')
folders=$(echo "$entries" | grep '/\*$' | sed 's/\*$//' || true)
listed=$(echo "$entries" | grep -v '/\*$' | sort || true)
for f in $folders; do
  found=$(echo "$found" | grep -v "^$f" || true)
done
new=$(comm -23 <(echo "$found" | sed '/^$/d') <(echo "$listed" | sed '/^$/d'))
gone=$(comm -13 <(echo "$found" | sed '/^$/d') <(echo "$listed" | sed '/^$/d'))
status=0
if [ -n "$new" ]; then
  echo "deadcode: unreachable functions not justified in $allow (remove them, or list them with the reason):"
  echo "$new" | sed 's/^/  /'
  status=1
fi
if [ -n "$gone" ]; then
  echo "deadcode: listed in $allow but reachable (or gone) now; remove them from the list:"
  echo "$gone" | sed 's/^/  /'
  status=1
fi
exit $status
