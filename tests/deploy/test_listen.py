"""Listening modes beyond the unix socket: a TCP address, and the MariaDB
unix-socket DSN form."""

import base64
import os
import subprocess
import time

import pytest
from nacl.signing import SigningKey

import stack
from test_cgi import flow


def fcgi_request(addr, method, path, body=b""):
    """One request through libfcgi's own client, cgi-fcgi."""
    env = {"REQUEST_METHOD": method, "DOCUMENT_URI": path, "REQUEST_URI": path,
           "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
           "REMOTE_ADDR": "192.0.2.7", "GATEWAY_INTERFACE": "CGI/1.1",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    r = subprocess.run(["cgi-fcgi", "-bind", "-connect", addr], input=body, env=env,
                       capture_output=True, timeout=20)
    head, _, payload = r.stdout.partition(b"\r\n\r\n")
    return head.decode(), payload


def test_listen_on_tcp(tmp_path, sealdropd):
    port = stack.free_port()
    addr = "127.0.0.1:%d" % port
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path, BASE_URL="http://x")
    d = subprocess.Popen([sealdropd, "--listen", addr, "--threads", "2"], env=env,
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            head, payload = fcgi_request(addr, "GET", "/health")
            if head:
                break
            time.sleep(0.05)
        assert head.startswith("Status: 200"), head
        assert b'"database":"ok"' in payload
        pk = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
        head, payload = fcgi_request(addr, "POST", "/register",
                                     ('{"public_key":"%s"}' % pk).encode())
        assert head.startswith("Status: 201"), head
    finally:
        d.terminate()
        assert d.wait(10) == 0


def test_taken_address_is_a_clear_error(tmp_path, sealdropd):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        r = subprocess.run([sealdropd, "--listen", addr],
                           env=dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path),
                           capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "cannot listen on " + addr in r.stderr


def test_mariadb_unix_socket_dsn(mariadb, sealdropd):
    db = mariadb.new_database()
    dsn = "mysql://sealdrop:%s@unix(%s)/%s" % (mariadb.password, mariadb.socket, db)
    flow(sealdropd, {"SEALDROP_DB": dsn, "BASE_URL": "https://host.example"})
