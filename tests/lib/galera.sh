#!/usr/bin/env bash
# A private three-node MariaDB Galera cluster on loopback, for tests, the
# benchmark and scripts/run --db galera. Each node has its own datadir,
# socket and ports (SQL, group communication, IST, rsync SST) under
# DIR/nodeN; its pid is in DIR/nodeN/mariadbd.pid. Nodes are stopped by
# PID; nothing touches a system service.
#   eval "$(tests/lib/galera.sh start DIR)"  # GALERA_DSNS="dsn1 dsn2 dsn3", GALERA_DSN_N,
#                                           # GALERA_SOCKET_N, GALERA_PORT_N, GALERA_PID_N
#   tests/lib/galera.sh stop DIR
#   tests/lib/galera.sh start-node DIR N     # (re)start node N; it joins the running ones
#   tests/lib/galera.sh sql DIR N            # SQL on stdin, as root, on node N
# start bootstraps node 1 when no node runs, then starts every node that is
# not running (a joiner takes a state transfer from a running node). As
# root the nodes run as the mysql user, in mysql-owned directories (the
# rsync state transfer fails as root with root-owned datadirs); DIR and its
# parents must then be traversable by mysql (start makes DIR mode 711).
set -euo pipefail
lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:?usage: galera.sh start|stop|start-node|sql DIR [N]}
dir=${2:?usage: galera.sh start|stop|start-node|sql DIR [N]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
NODES=3
if [ "$(id -u)" -eq 0 ]; then
	run_as=mysql
else
	run_as=$(id -un)
fi

# A free port below the kernel's ephemeral range (tests/lib/free_port.py).
free_port() {
	/usr/bin/python3 "$lib_dir/free_port.py"
}

node_dir() { echo "$dir/node$1"; }

# Four ports per node, chosen once and kept, so a node restarts on the same
# addresses and the others find it again.
ports_of() {
	local d
	d=$(node_dir "$1")
	if [ ! -f "$d/ports" ]; then
		echo "$(free_port) $(free_port) $(free_port) $(free_port)" >"$d/ports"
	fi
	cat "$d/ports"
}

client() {
	mariadb --no-defaults -S "$(node_dir "$1")/mariadbd.sock" -u root "${@:2}"
}

running() {
	local d pid
	d=$(node_dir "$1")
	[ -f "$d/mariadbd.pid" ] || return 1
	pid=$(cat "$d/mariadbd.pid")
	[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--defaults-file=$d/my.cnf"
}

write_config() {
	local n=$1 d sql gcomm ist sst addresses="" i
	d=$(node_dir "$n")
	read -r sql gcomm ist sst <<<"$(ports_of "$n")"
	for i in $(seq "$NODES"); do
		addresses="$addresses${addresses:+,}127.0.0.1:$(ports_of "$i" | cut -d' ' -f2)"
	done
	cat >"$d/my.cnf" <<CNF
[mariadbd]
user = $run_as
datadir = $d/data
socket = $d/mariadbd.sock
pid-file = $d/mariadbd.pid
log-error = $d/error.log
port = $sql
bind-address = 127.0.0.1
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
default-time-zone = +00:00
max-connections = 300
innodb-buffer-pool-size = 64M
innodb-log-file-size = 48M
# Galera needs row events and interleaved auto-increment locks.
binlog-format = ROW
default-storage-engine = InnoDB
innodb-autoinc-lock-mode = 2
# Durability here is replication to the other nodes (one machine: a test).
innodb-flush-log-at-trx-commit = 2
wsrep-on = ON
wsrep-provider = /usr/lib/galera/libgalera_smm.so
# Galera's group names are at most 32 bytes: one per directory, hashed.
wsrep-cluster-name = sealdrop_$(cksum <<<"$dir" | cut -d' ' -f1)
wsrep-cluster-address = gcomm://$addresses
wsrep-node-name = node$n
wsrep-node-address = 127.0.0.1:$gcomm
wsrep-sst-method = rsync
wsrep-sst-receive-address = 127.0.0.1:$sst
wsrep-slave-threads = 2
# A killed node is declared gone after seconds, not the default 15 s.
wsrep-provider-options = "base_port=$gcomm;gmcast.listen_addr=tcp://127.0.0.1:$gcomm;ist.recv_addr=127.0.0.1:$ist;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.inactive_check_period=PT1S;gcache.size=64M"
CNF
}

# Up and synced with the cluster (a joiner is up only after its transfer).
wait_synced() {
	local n=$1 d pid state
	d=$(node_dir "$n")
	for _ in $(seq 1200); do
		state=$(client "$n" -N -B -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null |
			cut -f2 || true)
		[ "$state" = Synced ] && return 0
		pid=$(cat "$d/launcher.pid" 2>/dev/null || echo)
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "galera.sh: node $n did not reach Synced; see $d/error.log" >&2
	tail -30 "$d/error.log" >&2 || true
	return 1
}

# A node that was killed has "seqno: -1" in grastate.dat: it does not know
# how far it got, and would ask for a whole copy (SST). Its InnoDB knows:
# read the position back first (as the packaged galera_recovery does), so
# that it rejoins with only what it missed (IST).
recovered_position() {
	local d seqno
	d=$(node_dir "$1")
	[ -f "$d/data/grastate.dat" ] || return 0
	seqno=$(sed -n 's/^seqno: *//p' "$d/data/grastate.dat")
	[ "$seqno" = -1 ] || return 0
	mariadbd --defaults-file="$d/my.cnf" --wsrep-recover --log-error="$d/recover.log" \
		</dev/null >/dev/null 2>&1 || return 0
	sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:[0-9-]*\).*/\1/p' "$d/recover.log" | tail -1
}

start_node() {
	local n=$1 bootstrap=${2:-} d start_position
	d=$(node_dir "$n")
	mkdir -p "$d/data"
	running "$n" && return 0
	write_config "$n"
	rm -f "$d/mariadbd.sock"
	if [ -n "$bootstrap" ]; then
		if [ ! -d "$d/data/mysql" ]; then
			mariadb-install-db --defaults-file="$d/my.cnf" --user="$run_as" --wsrep-on=OFF \
				--auth-root-authentication-method=socket --skip-test-db \
				>"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; exit 1; }
		fi
		# This node starts the cluster: it must take its own state as the
		# cluster's, which a node that did not stop last refuses to do.
		[ -f "$d/data/grastate.dat" ] &&
			sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$d/data/grastate.dat"
	fi
	[ "$run_as" = mysql ] && chown -R mysql:mysql "$d"
	start_position=$(recovered_position "$n")
	# shellcheck disable=SC2086 # $bootstrap is one flag or nothing
	setsid mariadbd --defaults-file="$d/my.cnf" ${bootstrap:+--wsrep-new-cluster} \
		${start_position:+--wsrep-start-position=$start_position} \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$d/launcher.pid"
	# A node that does not come up is stopped now: a later start would
	# overwrite launcher.pid and leave it running, unknown to stop.
	wait_synced "$n" || { stop_node "$n"; return 1; }
}

stop_node() {
	local n=$1 d pids="" pid f
	d=$(node_dir "$n")
	for f in "$d/mariadbd.pid" "$d/launcher.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		# Only ever a mariadbd of this node, never a recycled pid.
		if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
			grep -qF -- "--defaults-file=$d/my.cnf"; then
			pids="$pids $pid"
		fi
	done
	for pid in $pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		for _ in $(seq 600); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -f "$d/mariadbd.pid" "$d/launcher.pid"
}

any_running() {
	local i
	for i in $(seq "$NODES"); do
		running "$i" && return 0
	done
	return 1
}

print_env() {
	local pw=$1 i sql dsns=""
	for i in $(seq "$NODES"); do
		sql=$(ports_of "$i" | cut -d' ' -f1)
		echo "GALERA_PID_$i=$(cat "$(node_dir "$i")/mariadbd.pid")"
		echo "GALERA_PORT_$i=$sql"
		echo "GALERA_SOCKET_$i=$(node_dir "$i")/mariadbd.sock"
		echo "GALERA_DSN_$i=mysql://sealdrop:$pw@127.0.0.1:$sql/sealdrop"
		dsns="$dsns${dsns:+ }mysql://sealdrop:$pw@127.0.0.1:$sql/sealdrop"
	done
	echo "GALERA_DSNS=\"$dsns\""
}

case "$cmd" in
start)
	chmod 711 "$dir"
	for i in $(seq "$NODES"); do mkdir -p "$(node_dir "$i")"; done
	if ! any_running; then
		start_node 1 bootstrap >&2
	fi
	for i in $(seq "$NODES"); do
		start_node "$i" >&2
	done
	pw=$(cat "$dir/password" 2>/dev/null || head -c 18 /dev/urandom | base64 | tr -d '/+=')
	echo "$pw" >"$dir/password"
	chmod 600 "$dir/password"
	# Accounts and databases replicate: any one node will do.
	client 1 <<SQL
CREATE DATABASE IF NOT EXISTS sealdrop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'sealdrop'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'sealdrop'@'localhost' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON sealdrop.* TO 'sealdrop'@'127.0.0.1';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON sealdrop.* TO 'sealdrop'@'localhost';
SQL
	print_env "$pw"
	;;
start-node)
	n=${3:?usage: galera.sh start-node DIR N}
	any_running || { echo "galera.sh: no node runs; use start" >&2; exit 1; }
	start_node "$n" >&2
	;;
stop)
	# The last node to stop is the one to bootstrap from next time: node 1.
	for i in $(seq "$NODES" -1 1); do
		stop_node "$i"
	done
	;;
sql)
	n=${3:?usage: galera.sh sql DIR N}
	client "$n" -N -B
	;;
*)
	echo "usage: galera.sh start|stop|start-node|sql DIR [N]" >&2
	exit 64
	;;
esac
