"""bench/run --db galera: throughput through one node of a private 3-node
Galera cluster against three (one sealdropd per node, one nginx over them),
in the same run, with one private MariaDB without Galera as the reference
and the three nodes once more without causal reads (wsrep_sync_wait=0) to
show what read-your-writes costs. All nodes share this machine's cores: the
figures show what replication and certification cost, not what three hosts
would give."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import requests

import stack
from bench import BASELINE, LIMITS, Inbox, wrk

GALERA_SH = os.path.join(stack.ROOT, "tests", "lib", "galera.sh")


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sealdrop-bench-galera-")
        out = subprocess.run([GALERA_SH, "start", self.dir], check=True, capture_output=True,
                             text=True).stdout
        vals = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.dsns = vals["GALERA_DSNS"].strip('"').split()

    def new_database(self):
        """DSNs of a fresh database, one per node."""
        name = "b_" + os.urandom(6).hex()
        subprocess.run([GALERA_SH, "sql", self.dir, "1"], check=True, text=True,
                       input="CREATE DATABASE %s CHARACTER SET utf8mb4;\n"
                             "GRANT ALL ON %s.* TO 'sealdrop'@'127.0.0.1';\n" % (name, name))
        return [d.rsplit("/", 1)[0] + "/" + name for d in self.dsns]

    def conflicts(self):
        """Certification failures and transactions aborted by a replicated
        write, summed over the nodes (counters since each node started)."""
        total = 0
        for n in (1, 2, 3):
            out = subprocess.run([GALERA_SH, "sql", self.dir, str(n)], check=True, text=True,
                                 capture_output=True,
                                 input="SHOW STATUS WHERE Variable_name IN "
                                       "('wsrep_local_cert_failures', 'wsrep_local_bf_aborts');"
                                 ).stdout
            total += sum(int(line.split()[1]) for line in out.splitlines())
        return total

    def stop(self):
        subprocess.run([GALERA_SH, "stop", self.dir], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def measure(label, dsns, args, cluster=None):
    """Each scenario's row; with a cluster, also the conflicts it caused
    (each one a transaction that sealdropd ran again)."""
    rows = []
    with stack.Stack(threads=args.threads, env=LIMITS, dbs=dsns, extra_nginx=BASELINE,
                     write_rate=1000000, write_burst=1000000) as s:
        tmp = tempfile.mkdtemp(prefix="sealdrop-bench-")
        sendees = [Inbox(s.url) for _ in range(16)]
        with open(os.path.join(tmp, "send.txt"), "w") as f:
            for i in range(2000):
                f.write(sendees[i % 16].body() + "\n")
        reader = Inbox(s.url)
        sess = requests.Session()
        for _ in range(60):
            sess.post(s.url + "/send", data=reader.body(), headers={
                "Content-Type": "application/json"}).raise_for_status()
        askers = [Inbox(s.url) for _ in range(50)]
        with open(os.path.join(tmp, "challenge.txt"), "w") as f:
            for a in askers:
                f.write(json.dumps({"link_token": a.link}) + "\n")
        scen = [
            ("POST /send", "send.lua", {"BODIES": os.path.join(tmp, "send.txt")}),
            ("POST /fetch (Bearer, 50 msgs)", "fetch.lua",
             {"LINK": reader.link, "TOKEN": reader.reg["fetch_token"]}),
            ("POST /challenge_request", "challenge.lua",
             {"BODIES": os.path.join(tmp, "challenge.txt")}),
        ]
        for title, script, env in scen:
            before = cluster.conflicts() if cluster else 0
            r = wrk(s.url, script, args.seconds, env, threads=2, conns=args.conns)
            r["name"], r["setup"] = title, label
            r["conflicts"] = cluster.conflicts() - before if cluster else 0
            rows.append(r)
            print("  %-40s %-30s %6d req/s  p50 %6d us  p99 %7d us  errors %d  non-2xx %d  "
                  "conflicts %d" % (label, title, r["req_s"], r["p50"], r["p99"], r["errors"],
                                    r["non2xx"], r["conflicts"]), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def run(args):
    sys.path.insert(0, os.path.join(stack.ROOT, "tests", "deploy"))
    from conftest import MariaDB

    rows = []
    m = MariaDB(tempfile.mkdtemp(prefix="sealdrop-bench-mariadb-"))
    try:
        rows += measure("MariaDB, no Galera, 1 sealdropd", [m.dsn], args)
    finally:
        m.stop()
    c = Cluster()
    try:
        rows += measure("Galera, 1 sealdropd on node 1", c.new_database()[:1], args, c)
        rows += measure("Galera, 3 sealdropd (one per node)", c.new_database(), args, c)
        rows += measure("Galera, 3 sealdropd, wsrep_sync_wait=0",
                        [d + "?wsrep_sync_wait=0" for d in c.new_database()], args, c)
    finally:
        c.stop()
    print()
    print("| setup | scenario | req/s | p50 | p99 | errors | non-2xx | conflicts |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %s | %d | %.2f ms | %.2f ms | %d | %d | %d |" % (
            r["setup"], r["name"], r["req_s"], r["p50"] / 1000, r["p99"] / 1000, r["errors"],
            r["non2xx"], r["conflicts"]))
