"""The Galera suite: a private three-node MariaDB Galera cluster on loopback
(tests/lib/galera.sh; the one tests/galera/run started, named by
$GALERA_DIR, or one of our own), and sealdropd instances each next to one
node. Each test works in a fresh database of its own, so the rows it
counts are its own."""

import os
import subprocess
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "lib")))

pytest_plugins = ["sdfixtures"]

import stack  # noqa: E402

GALERA_SH = os.path.join(stack.ROOT, "tests", "lib", "galera.sh")
NODES = 3


class Cluster:
    def __init__(self, dir_):
        self.dir = dir_
        self.start()
        self.password = open(os.path.join(dir_, "password")).read().strip()

    def start(self):
        """Start every node that is not running (idempotent); read the env."""
        out = subprocess.run([GALERA_SH, "start", self.dir], check=True, capture_output=True,
                             text=True).stdout
        vals = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.ports = [int(vals["GALERA_PORT_%d" % n]) for n in range(1, NODES + 1)]

    def start_node(self, n):
        subprocess.run([GALERA_SH, "start-node", self.dir, str(n)], check=True,
                       capture_output=True, text=True)

    def pid(self, n):
        """Node n's mariadbd, from the pid file an operator would read."""
        path = os.path.join(self.dir, "node%d" % n, "mariadbd.pid")
        pid = int(open(path).read().strip())
        cmdline = open("/proc/%d/cmdline" % pid, "rb").read()
        assert ("node%d/my.cnf" % n).encode() in cmdline, "pid %d is not node %d" % (pid, n)
        return pid

    def sql(self, n, statements, db=None):
        """Run SQL as root on node n; reads wait for the cluster's commits."""
        cmd = [GALERA_SH, "sql", self.dir, str(n)]
        r = subprocess.run(cmd, input="SET SESSION wsrep_sync_wait = 1;\n" +
                           ("USE %s;\n" % db if db else "") + statements,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return r.stdout

    def scalar(self, n, query, db):
        return int(self.sql(n, query, db).split()[0])

    def new_database(self):
        """A fresh database the sealdrop user may use; returns its name."""
        name = "g_" + uuid.uuid4().hex[:12]
        self.sql(1, "CREATE DATABASE %s CHARACTER SET utf8mb4;\n"
                    "GRANT ALL ON %s.* TO 'sealdrop'@'127.0.0.1';\n" % (name, name))
        return name

    def dsn(self, n, db):
        return "mysql://sealdrop:%s@127.0.0.1:%d/%s" % (self.password, self.ports[n - 1], db)

    def dsns(self, db):
        return [self.dsn(n, db) for n in range(1, NODES + 1)]


@pytest.fixture(scope="session")
def cluster():
    shared = os.environ.get("GALERA_DIR")
    if shared:
        yield Cluster(shared)  # started by tests/galera/run; 'start' is idempotent
        return
    own = tempfile.mkdtemp(prefix="sealdrop-galera-")
    c = Cluster(own)
    yield c
    subprocess.run([GALERA_SH, "stop", own], check=False)


@pytest.fixture
def node_stacks(cluster):
    """start(env=None) -> three stacks (nginx + one sealdropd), stack N on
    node N, all on one fresh database; stopped at the end of the test, and
    each sealdropd must exit 0."""
    started = []

    def start(env=None, threads=6):
        db = cluster.new_database()
        stacks = [stack.Stack(db=cluster.dsn(n, db), env=env, threads=threads,
                              write_rate=100000, write_burst=100000)
                  for n in range(1, NODES + 1)]
        for s in stacks:
            # Noted before it starts: a start that fails half-way stops what
            # it started, and teardown still stops the others.
            started.append(s)
            s.start()
        return db, stacks

    yield start
    bad = []
    for s in started:
        rc = s.stop_daemon()
        if rc is not None and rc != 0:  # None: stopped already (its start failed)
            bad.append("sealdropd exited %s; its log ends:\n%s" % (rc, s.log()[-3000:]))
        s.stop()
    assert not bad, "\n".join(bad)
