#!/usr/bin/env bash
# clang-format must leave every C file as it is. One result per file; last
# line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
passed=0
failed=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	if clang-format --style=file "$f" | cmp -s - "$f"; then
		passed=$((passed + 1))
	else
		echo "not clang-format clean: $f"
		clang-format --style=file "$f" | diff -u "$f" - | head -20
		failed=$((failed + 1))
	fi
done < <(git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h')
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
