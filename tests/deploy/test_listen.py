"""Listening modes beyond the unix socket: a TCP address, and the MariaDB
unix-socket DSN form."""

import os
import subprocess

import pytest
from nacl.signing import SigningKey

import stack
from sdclient import b64
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


def wait_health(addr, daemon):
    """The (head, payload) of the first /health that sealdropd at addr answers."""
    def answered():
        head, payload = fcgi_request(addr, "GET", "/health")
        return (head, payload) if head else None

    return stack.wait_until(answered, what="sealdropd on %s to answer /health" % addr,
                            alive=stack.exited(daemon, "sealdropd"))


def test_listens_and_answers_on_a_tcp_address(tmp_path, sealdropd):
    port = stack.free_port()
    addr = "127.0.0.1:%d" % port
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path, BASE_URL="http://x")
    d = subprocess.Popen([sealdropd, "--listen", addr, "--threads", "2"], env=env,
                         stderr=subprocess.DEVNULL)
    try:
        head, payload = wait_health(addr, d)
        assert head.startswith("Status: 200"), head
        assert b'"database":"ok"' in payload
        pk = b64(SigningKey.generate().verify_key)
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


def test_mariadb_unix_socket_dsn_serves_the_whole_flow(mariadb, sealdropd):
    db = mariadb.new_database()
    dsn = "mysql://sealdrop:%s@unix(%s)/%s" % (mariadb.password, mariadb.socket, db)
    flow(sealdropd, {"SEALDROP_DB": dsn, "BASE_URL": "https://host.example"})


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_started_as_root_runs_as_user_without_new_privileges(sealdropd):
    import pathlib
    import shutil
    import tempfile
    # Not under pytest's tmp_path: its parents are private to root.
    top = pathlib.Path(tempfile.mkdtemp(prefix="sealdrop-user-"))
    os.chmod(top, 0o755)
    state = top / "state"
    state.mkdir()
    os.chown(state, 65534, 65534)  # nobody
    port = stack.free_port()
    addr = "127.0.0.1:%d" % port
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % state)
    d = subprocess.Popen([sealdropd, "--listen", addr, "--user", "nobody", "--threads", "2"],
                         env=env, stderr=subprocess.PIPE)
    try:
        head, payload = wait_health(addr, d)
        assert head.startswith("Status: 200"), (head, payload)
        status = open("/proc/%d/status" % d.pid).read()
        uids = [l for l in status.splitlines() if l.startswith("Uid:")][0].split()[1:]
        assert uids == ["65534"] * 4, uids
        assert "NoNewPrivs:\t1" in status
        assert os.stat(state / "t.db").st_uid == 65534  # created after the drop
    finally:
        d.terminate()
        assert d.wait(10) == 0
        shutil.rmtree(top, ignore_errors=True)


def test_user_needs_root_and_an_existing_name(tmp_path, sealdropd):
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/t.db" % tmp_path)
    r = subprocess.run([sealdropd, "--listen", "127.0.0.1:%d" % stack.free_port(), "--user",
                        "no-such-user-here"], env=env, capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0
    # As root the name is looked up (and missing); otherwise --user is refused first.
    want = "no such user" if os.geteuid() == 0 else "needs to be started as root"
    assert want in r.stderr, r.stderr
