"""The README's first command: scripts/run serves, and Ctrl-C stops all."""

import os
import signal
import socket
import subprocess
import time

import requests

from conftest import ROOT
import stack


def test_scripts_run_serves_and_stops_on_ctrl_c(tmp_path):
    port = stack.free_port()
    p = subprocess.Popen([os.path.join(ROOT, "scripts", "run"), "--port", str(port), "--state",
                          str(tmp_path / "state")], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True, text=True)
    try:
        deadline = time.time() + 300
        line = ""
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line or "sealdrop is running at" in line:
                break
        assert "sealdrop is running at http://127.0.0.1:%d/" % port in line, line
        assert requests.get("http://127.0.0.1:%d/health" % port).json()["status"] == "healthy"
        assert requests.get("http://127.0.0.1:%d/" % port).status_code == 200
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert p.wait(30) == 0
        assert "sealdrop stopped." in p.stdout.read()
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    with socket.socket() as s:  # nothing is left listening
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert not (tmp_path / "state" / "run" / "sealdropd.sock").exists()


def test_scripts_run_refuses_a_taken_port(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([os.path.join(ROOT, "scripts", "run"), "--port", str(port), "--state",
                            str(tmp_path / "state")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "port %d on 127.0.0.1 is already in use" % port in r.stderr
