"""Shared hosting: the same binary answers as a CGI program (environment +
stdin, as a web server runs it) and under spawn-fcgi (socket on fd 0)."""

import base64
import json
import os
import signal
import subprocess

import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey

import stack
from sdclient import b64
from webhook_receiver import Receiver


def cgi(binary, method, path, body=None, env_extra=None, headers=None):
    """Run one CGI request; returns (status, headers, parsed body)."""
    data = json.dumps(body).encode() if body is not None else b""
    env = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "/cgi-bin/sealdrop.cgi",
        "PATH_INFO": path,
        "REQUEST_URI": "/cgi-bin/sealdrop.cgi" + path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "CONTENT_LENGTH": str(len(data)) if data else "",
        "CONTENT_TYPE": "application/json" if data else "",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    env.update(headers or {})
    env.update(env_extra or {})
    r = subprocess.run([binary], input=data, env=env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    head, _, payload = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdrs = dict(l.split(": ", 1) for l in lines)
    status = int(hdrs["Status"].split()[0])
    return status, hdrs, (json.loads(payload) if payload else None)


def flow(binary, env):
    sk = SigningKey.generate()
    st, h, reg = cgi(binary, "POST", "/register", {"public_key": b64(sk.verify_key)}, env)
    assert st == 201, reg
    assert h["Content-Type"].startswith("application/json")
    assert reg["link"].startswith("https://host.example/l/link_")
    link = reg["link_token"]
    ct = SealedBox(sk.verify_key.to_curve25519_public_key()).encrypt(b"via cgi")
    st, _, sent = cgi(binary, "POST", "/send",
                      {"link_token": link, "encrypted_message": b64(ct)}, env)
    assert st == 201, sent
    st, _, ch = cgi(binary, "POST", "/challenge_request", {"link_token": link}, env)
    assert st == 200
    sig = b64(sk.sign(ch["challenge"].encode()).signature)
    st, _, got = cgi(binary, "POST", "/fetch", {"link_token": link, "challenge": ch["challenge"],
                                               "challenge_signature": sig}, env)
    assert st == 200, got
    assert got["count"] == 1
    box = SealedBox(sk.to_curve25519_private_key())
    assert box.decrypt(base64.b64decode(got["data"][0]["encrypted_message"])) == b"via cgi"
    # Bearer through the CGI header variable.
    st, _, got = cgi(binary, "POST", "/fetch", {"link_token": link}, env,
                     {"HTTP_AUTHORIZATION": "Bearer " + reg["fetch_token"]})
    assert st == 200 and got["count"] == 1
    st, _, err = cgi(binary, "POST", "/send", {"link_token": 0}, env)
    assert st == 400 and err["code"] == "invalid_link_token"
    st, h, err = cgi(binary, "GET", "/nothing", None, env)
    assert st == 404 and err["code"] == "not_found"


def test_cgi_round_trip_on_sqlite(tmp_path, sealdropd):
    env = {"SEALDROP_DB": "sqlite:%s/cgi.db" % tmp_path, "BASE_URL": "https://host.example"}
    flow(sealdropd, env)


def test_cgi_round_trip_on_mariadb(mariadb, sealdropd):
    db = mariadb.new_database()
    env = {"SEALDROP_DB": mariadb.dsn_for(db), "BASE_URL": "https://host.example"}
    flow(sealdropd, env)


def test_cgi_reads_pycrypt_env_file(tmp_path, mariadb, sealdropd):
    """A shared host's .env from PyCrypt, in the working directory, is enough."""
    db = mariadb.new_database()
    (tmp_path / ".env").write_text(
        "DEBUG=False\nPORT=5000\nDB_HOST=127.0.0.1\nDB_PORT=%d\nDB_USER=sealdrop\n"
        "DB_PASSWORD=%s\nDB_NAME=%s\nBASE_URL=https://host.example\n"
        % (mariadb.port, mariadb.password, db))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        flow(sealdropd, {})
    finally:
        os.chdir(old)
    assert "clients" in mariadb.sql("SHOW TABLES;", db)


def test_cgi_body_shorter_than_declared_is_400(tmp_path, sealdropd):
    env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="POST",
               PATH_INFO="/send", CONTENT_LENGTH="100",
               SEALDROP_DB="sqlite:%s/x.db" % tmp_path)
    r = subprocess.run([sealdropd], input=b'{"a":1}', env=env, capture_output=True)
    assert r.returncode == 0
    assert r.stdout.startswith(b"Status: 400")


def test_spawn_fcgi_passes_socket_on_fd0(tmp_path, sealdropd):
    sock = str(tmp_path / "spawned.sock")
    pidfile = tmp_path / "spawn.pid"
    env = dict(os.environ, SEALDROP_DB="sqlite:%s/s.db" % tmp_path, BASE_URL="http://x")
    r = subprocess.run(["spawn-fcgi", "-s", sock, "-P", str(pidfile), "--", sealdropd,
                        "--threads", "2"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    port = stack.free_port()
    conf = stack.render_nginx_conf(str(tmp_path), port, sock)
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", conf,
                              "-e", str(tmp_path / "nginx-error.log")])
    try:
        resp = stack.wait_until(
            lambda: requests.get("http://127.0.0.1:%d/health" % port, timeout=2),
            what="nginx and the spawned sealdropd to answer /health",
            alive=stack.exited(nginx, "nginx"))
        assert resp.status_code == 200 and resp.json()["database"] == "ok"
        resp = requests.post("http://127.0.0.1:%d/register" % port, json={
            "public_key": b64(SigningKey.generate().verify_key)})
        assert resp.status_code == 201
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        os.kill(pid, signal.SIGTERM)
        stack.wait_until(lambda: not pid_alive(pid), timeout=5,
                         what="sealdropd under spawn-fcgi to stop on SIGTERM")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_cgi_webhook_pings_go_out_by_cron(tmp_path, sealdropd):
    """A CGI install runs no sender thread: its pings wait in the outbox
    until `sealdropd --send-webhooks` (from cron) sends them, once."""
    receiver = Receiver()
    env = {"SEALDROP_DB": "sqlite:%s/cgi.db" % tmp_path, "BASE_URL": "https://host.example",
           "SEALDROP_WEBHOOK_ALLOW": "127.0.0.1", "SEALDROP_WEBHOOK_INTERVAL": "1"}
    try:
        sk = SigningKey.generate()
        st, _, reg = cgi(sealdropd, "POST", "/register", {"public_key": b64(sk.verify_key)}, env)
        assert st == 201, reg
        link = reg["link_token"]
        st, _, ch = cgi(sealdropd, "POST", "/challenge_request",
                        {"link_token": link, "purpose": "webhook"}, env)
        assert st == 200 and ch["origin"] == "https://host.example", ch
        signed = "\n".join(["sealdrop-v1", "webhook", ch["origin"], link, ch["challenge"]])
        st, _, w = cgi(sealdropd, "POST", "/webhook", {
            "link_token": link, "action": "set", "url": receiver.url(),
            "challenge": ch["challenge"], "challenge_form": "sealdrop-v1",
            "challenge_signature": b64(sk.sign(signed.encode()).signature)}, env)
        assert st == 200 and w["webhook"]["state"] == "ok", w
        ct = SealedBox(sk.verify_key.to_curve25519_public_key()).encrypt(b"via cgi")
        for _ in range(3):
            st, _, sent = cgi(sealdropd, "POST", "/send",
                              {"link_token": link, "encrypted_message": b64(ct)}, env)
            assert st == 201, sent
        bearer = {"HTTP_AUTHORIZATION": "Bearer " + reg["fetch_token"]}
        st, _, w = cgi(sealdropd, "POST", "/webhook", {"link_token": link}, env, bearer)
        assert st == 200 and w["webhook"]["pending"] is True, w
        assert receiver.got() == []

        cron = subprocess.run([sealdropd, "--send-webhooks"], cwd=str(tmp_path),
                              env=dict(os.environ, **env), capture_output=True, timeout=60)
        assert cron.returncode == 0, cron.stderr
        assert [json.loads(r["body"]) for r in receiver.got()] == [{"event": "new_message"}]
        st, _, w = cgi(sealdropd, "POST", "/webhook", {"link_token": link}, env, bearer)
        assert w["webhook"]["pending"] is False and w["webhook"]["last_sent_at"], w
        cron = subprocess.run([sealdropd, "--send-webhooks"], cwd=str(tmp_path),
                              env=dict(os.environ, **env), capture_output=True, timeout=60)
        assert cron.returncode == 0 and len(receiver.got()) == 1
    finally:
        receiver.close()
