"""FCGI_WEB_SERVER_ADDRS, as docs/DEPLOY.md promises for TCP listening:
libfcgi serves only the listed peers and closes any other connection
before a byte of it is read."""

import os
import socket
import subprocess

import stack
from test_listen import fcgi_request, wait_health


def start(tmp_path, sealdropd, allowed):
    addr = "127.0.0.1:%d" % stack.free_port()
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path, BASE_URL="http://x",
               FCGI_WEB_SERVER_ADDRS=allowed)
    return addr, subprocess.Popen([sealdropd, "--listen", addr, "--threads", "2"], env=env,
                                  stderr=subprocess.DEVNULL)


def test_listed_peer_is_served(tmp_path, sealdropd):
    addr, d = start(tmp_path, sealdropd, "192.0.2.1,127.0.0.1")
    try:
        head, _ = wait_health(addr, d)
        assert head.startswith("Status: 200"), head
    finally:
        d.terminate()
        assert d.wait(10) == 0


def test_unlisted_peer_gets_no_answer(tmp_path, sealdropd):
    addr, d = start(tmp_path, sealdropd, "192.0.2.1")
    try:
        # Once the socket listens (a TCP connection is accepted), no request
        # from 127.0.0.1 is answered, however often it asks.
        host, port = addr.split(":")
        stack.wait_until(lambda: socket.create_connection((host, int(port)), timeout=2).close()
                         or True, what="sealdropd to listen on " + addr,
                         alive=stack.exited(d, "sealdropd"))
        for _ in range(3):
            head, payload = fcgi_request(addr, "GET", "/health")
            assert head == "" and payload == b"", (head, payload)
        assert d.poll() is None, "sealdropd exited"
    finally:
        d.terminate()
        assert d.wait(10) == 0
