#!/usr/bin/env bash
# Run a pytest suite with Debian's Python and end with "N passed, N failed"
# (errors count as failures; no test at all is a failure).
#   tests/lib/pytest-run.sh tests/<suite> [pytest args...]
set -uo pipefail
out=$(mktemp)
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
line=$(grep -E '[0-9]+ (passed|failed|errors?)' "$out" | tail -1)
passed=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
errors=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || echo 0)
rm -f "$out"
failed=$((failed + errors))
[ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && failed=1
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
