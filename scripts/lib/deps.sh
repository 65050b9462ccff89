#!/usr/bin/env bash
# Install whatever Debian packages sealdrop needs and this machine lacks.
# Quiet when nothing is missing.
#   scripts/lib/deps.sh --run [extra-package ...]
#       building and serving only: scripts/packages.txt (what scripts/run needs)
#   scripts/lib/deps.sh [--all] [extra-package ...]
#       that plus every tests/*/packages.txt (what scripts/check needs)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

shopt -s nullglob
lists=("$root/scripts/packages.txt")
case "${1:-}" in
--run) shift ;;
--all) shift; lists+=("$root"/tests/*/packages.txt) ;;
*) lists+=("$root"/tests/*/packages.txt) ;;
esac
wanted=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "${lists[@]}" | grep -v '^$' | sort -u)
wanted="$wanted $*"
missing=()
for p in $wanted; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "error: these packages are missing and I am not root: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages such as mariadb-server would start a system service on install;
# sealdrop never runs one (tests start private servers), so forbid it for
# the duration of the install with Debian's policy-rc.d mechanism.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 755 "$policy"
	trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
# An apt-get update only when the package lists are missing or stale.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
	"${sudo[@]}" apt-get update -q >&2
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
	"${sudo[@]}" apt-get update -q >&2
	"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
