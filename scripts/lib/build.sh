#!/usr/bin/env bash
# Build sealdrop out of tree: scripts/lib/build.sh DIR [configure args...]
# Reconfigures only when configure is newer than DIR's config.status.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1
shift
cd "$root"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ] ||
	[ src/client/local.mk -nt Makefile.in ] || [ tests/unit/local.mk -nt Makefile.in ] ||
	[ tests/fuzz/local.mk -nt Makefile.in ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f config.status ] || [ "$root/configure" -nt config.status ] ||
	[ "$(cat .sd-configure-args 2>/dev/null)" != "$*" ]; then
	"$root/configure" -q "$@"
	echo "$*" >.sd-configure-args
fi
make -s -j"$(nproc)" all
# Build the test programs too, without running them.
make -s -j"$(nproc)" check TESTS= >/dev/null
