#!/usr/bin/env bash
# A private MariaDB for tests and demos: its own datadir, a unix socket and
# a loopback port, stopped by PID. Never touches a system service.
#   eval "$(tests/lib/mariadb.sh start DIR)"  # sets MARIADB_PID, MARIADB_DSN, MARIADB_SOCKET, MARIADB_PORT
#   tests/lib/mariadb.sh stop DIR
#   tests/lib/mariadb.sh restart DIR          # stop and start on the same port and data
# MARIADB_EXTRA_ARGS (word-split) is added to mariadbd's options, e.g. TLS.
set -euo pipefail
lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:?usage: mariadb.sh start|stop|restart DIR}
dir=${2:?usage: mariadb.sh start|stop|restart DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
user=$(id -un)

# Below the ephemeral range, so a restart finds its port free
# (tests/lib/free_port.py).
free_port() {
	/usr/bin/python3 "$lib_dir/free_port.py"
}

wait_up() {
	for _ in $(seq 300); do
		if mariadb --no-defaults -S "$sock" -u root -e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		if [ -f "$dir/mysqld.pid" ] && ! kill -0 "$(cat "$dir/mysqld.pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "mariadb.sh: MariaDB did not start; see $dir/error.log" >&2
	tail -20 "$dir/error.log" >&2 || true
	return 1
}

start_server() {
	local port=$1
	# --user only matters as root: mariadbd refuses to run as root otherwise.
	mariadbd --no-defaults --datadir="$dir/data" --socket="$sock" --port="$port" \
		--bind-address=127.0.0.1 --pid-file="$pidfile" --log-error="$dir/error.log" \
		--user="$user" --skip-name-resolve --innodb-buffer-pool-size=128M \
		--innodb-log-file-size=48M --max-connections=500 --character-set-server=utf8mb4 \
		--collation-server=utf8mb4_unicode_ci --default-time-zone=+00:00 \
		${MARIADB_EXTRA_ARGS:-} </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/launcher.pid"
	wait_up
	echo "$port" >"$dir/port"
}

stop_server() {
	# The server's own pid file, and the pid we started it with: the same
	# process normally, but either may be all that is left after a crash.
	local pids="" pid
	for f in "$pidfile" "$dir/launcher.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		# Only ever a mariadbd of this directory, never a recycled pid.
		if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--datadir=$dir/data"; then
			pids="$pids $pid"
		fi
	done
	for pid in $pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		for _ in $(seq 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -f "$pidfile" "$dir/launcher.pid"
}

case "$cmd" in
start)
	if [ ! -d "$dir/data/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
			--auth-root-authentication-method=socket --skip-test-db \
			>"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
	fi
	port=$(cat "$dir/port" 2>/dev/null || free_port)
	# Already running (a second 'start' on the same directory): reuse it.
	if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
		mariadb --no-defaults -S "$sock" -u root -e 'SELECT 1' >/dev/null 2>&1; }; then
		start_server "$port" >&2
	fi
	pw=$(cat "$dir/password" 2>/dev/null || head -c 18 /dev/urandom | base64 | tr -d '/+=')
	echo "$pw" >"$dir/password"
	mariadb --no-defaults -S "$sock" -u root <<SQL
CREATE DATABASE IF NOT EXISTS sealdrop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'sealdrop'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'sealdrop'@'localhost' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON sealdrop.* TO 'sealdrop'@'127.0.0.1';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON sealdrop.* TO 'sealdrop'@'localhost';
SQL
	echo "MARIADB_PID=$(cat "$pidfile")"
	echo "MARIADB_PORT=$port"
	echo "MARIADB_SOCKET=$sock"
	echo "MARIADB_DSN=mysql://sealdrop:$pw@127.0.0.1:$port/sealdrop"
	;;
stop)
	stop_server
	;;
restart)
	stop_server
	start_server "$(cat "$dir/port")" >&2
	;;
*)
	echo "usage: mariadb.sh start|stop|restart DIR" >&2
	exit 64
	;;
esac
