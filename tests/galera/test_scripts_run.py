"""scripts/run --db galera: a 3-node cluster in STATE/galera, one sealdropd
per node behind one nginx; the nodes' pids where an operator looks for
them; Ctrl-C stops everything; a second run on the same state directory
starts the cluster again (bootstrapped from the node that stopped last)
and still has the first run's messages."""

import os
import shutil
import signal
import subprocess
import tempfile
import threading

import requests

import stack
from sdclient import Recipient

RUN = os.path.join(stack.ROOT, "scripts", "run")
GALERA_SH = os.path.join(stack.ROOT, "tests", "lib", "galera.sh")


class Run:
    def __init__(self, state):
        self.port = stack.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.p = subprocess.Popen([RUN, "--db", "galera", "--port", str(self.port),
                                   "--state", state, "--threads", "2"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True, text=True,
                                  env=dict(os.environ, SEALDROPD=stack.sealdropd_path()))
        self.lines, self.running = [], threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line)
            if "sealdrop is running at" in line:
                self.running.set()
        self.running.set()

    def wait_running(self):
        assert self.running.wait(300), "".join(self.lines)
        assert "sealdrop is running at %s/" % self.url in "".join(self.lines), self.lines

    def ctrl_c(self):
        os.killpg(self.p.pid, signal.SIGINT)
        rc = self.p.wait(120)
        self.reader.join(10)
        return rc


def node_pids(state):
    pids = []
    for n in (1, 2, 3):
        path = os.path.join(state, "galera", "node%d" % n, "mariadbd.pid")
        pid = int(open(path).read())
        assert ("node%d/my.cnf" % n).encode() in open("/proc/%d/cmdline" % pid, "rb").read()
        pids.append(pid)
    return pids


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] in "ZX"
    except OSError:
        return True


def test_scripts_run_db_galera_serves_stops_and_starts_again():
    parent = tempfile.mkdtemp(prefix="sealdrop-run-galera-")
    os.chmod(parent, 0o711)  # the nodes run as mysql and must reach their dirs
    state = os.path.join(parent, "state")
    run = None
    try:
        run = Run(state)
        run.wait_running()
        pids = node_pids(state)
        rcpt = Recipient(run.url)
        ids = []
        for i in range(6):  # nginx takes turns over the three instances
            r = rcpt.send(b"%d" % i)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        for n in (1, 2, 3):
            assert " POST /send 201 " in open(os.path.join(state, "sealdropd-%d.log" % n)).read()
        assert run.ctrl_c() == 0, "".join(run.lines)
        assert "sealdrop stopped." in "".join(run.lines)
        assert all(gone(p) for p in pids), pids

        run = Run(state)
        run.wait_running()
        rcpt.url = run.url
        r = rcpt.fetch(limit=100)
        assert r.status_code == 200 and sorted(m["id"] for m in r.json()["data"]) == ids
        assert run.ctrl_c() == 0, "".join(run.lines)
    finally:
        if run is not None:
            # Ctrl-C first: its children run in sessions of their own, and
            # a SIGKILL of its group would orphan them.
            stack.stop_scripts_run(run.p, state)
        subprocess.run([GALERA_SH, "stop", os.path.join(state, "galera")], check=False)
        shutil.rmtree(parent, ignore_errors=True)
