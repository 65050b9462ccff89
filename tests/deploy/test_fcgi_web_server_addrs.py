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


def test_ipv6_listening_is_refused_while_the_list_is_set(tmp_path, sealdropd):
    """libfcgi checks the list for IPv4 peers only: an IPv6 peer would be
    served whatever the list says, so sealdropd will not listen there."""
    port = stack.free_port()
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path, BASE_URL="http://x",
               FCGI_WEB_SERVER_ADDRS="127.0.0.1")
    r = subprocess.run([sealdropd, "--listen", "[::1]:%d" % port, "--threads", "1"], env=env,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "FCGI_WEB_SERVER_ADDRS" in r.stderr and "IPv4" in r.stderr, r.stderr


def test_every_address_means_every_ipv4_address_while_the_list_is_set(tmp_path, sealdropd):
    port = stack.free_port()
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path, BASE_URL="http://x",
               FCGI_WEB_SERVER_ADDRS="127.0.0.1")
    d = subprocess.Popen([sealdropd, "--listen", ":%d" % port, "--threads", "2"], env=env,
                         stderr=subprocess.DEVNULL)
    try:
        head, _ = wait_health("127.0.0.1:%d" % port, d)
        assert head.startswith("Status: 200"), head
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
            s6.settimeout(2)
            assert s6.connect_ex(("::1", port)) != 0, "an IPv6 peer could connect"
    finally:
        d.terminate()
        assert d.wait(10) == 0
