"""TLS to a remote MariaDB, as docs/DEPLOY.md describes it: a private
MariaDB that takes only TLS over TCP, and sealdropd connecting with
?ssl-ca= in its DSN. The server's certificate is verified: a CA that did
not sign it is refused, and so is plain text."""

import os
import subprocess

import pytest

from conftest import MariaDB


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=%s" % name, "-keyout", name + ".key", "-out", name + ".crt", cwd=d)
    return os.path.join(d, name + ".crt")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """(MariaDB that requires TLS, its CA, a CA that did not sign it)."""
    d = str(tmp_path_factory.mktemp("tls"))
    ca = make_ca(d, "ca")
    rogue = make_ca(d, "rogue")
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
            "server.key", "-out", "server.csr", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.crt", cwd=d)
    os.environ["MARIADB_EXTRA_ARGS"] = (
        "--ssl-ca=%s/ca.crt --ssl-cert=%s/server.crt --ssl-key=%s/server.key "
        "--require-secure-transport=ON" % (d, d, d))
    try:
        db = MariaDB(os.path.join(d, "mariadb"))
    finally:
        del os.environ["MARIADB_EXTRA_ARGS"]
    yield db, ca, rogue
    db.stop()


def migrate(sealdropd, dsn, tmp_path):
    env = dict(os.environ, SEALDROP_DB=dsn)
    return subprocess.run([sealdropd, "--migrate"], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60)


def test_verified_tls_connects(tls, sealdropd, tmp_path):
    db, ca, _ = tls
    r = migrate(sealdropd, db.dsn + "?ssl-ca=" + ca, tmp_path)
    assert r.returncode == 0, r.stderr
    # The connection it made was encrypted: the server requires it for TCP.
    assert db.sql("SELECT COUNT(*) FROM schema_version;", "sealdrop").strip() != "0"


def test_plain_text_is_refused_by_such_a_server(tls, sealdropd, tmp_path):
    db, _, _ = tls
    r = migrate(sealdropd, db.dsn, tmp_path)
    # MariaDB answers a plain-text login to a TLS-only server as "access
    # denied"; the same credentials work over TLS (test above).
    assert r.returncode != 0
    assert "cannot connect" in r.stderr, r.stderr


def test_a_certificate_the_ca_did_not_sign_is_refused(tls, sealdropd, tmp_path):
    db, _, rogue = tls
    r = migrate(sealdropd, db.dsn + "?ssl-ca=" + rogue, tmp_path)
    assert r.returncode != 0, r.stderr
    assert "cannot connect" in r.stderr, r.stderr


@pytest.mark.parametrize("query", ["ssl-ca=", "ssl-cert=/x.crt&ssl-key=/x.key",
                                   "ssl-ca=/ca.crt&ssl-cert=/x.crt"])
def test_unusable_tls_settings_are_refused_before_connecting(tls, sealdropd, tmp_path, query):
    db, _, _ = tls
    r = migrate(sealdropd, db.dsn + "?" + query, tmp_path)
    # Refused by the DSN check (src/store/driver_mysql.c, exit 78 as any
    # bad setting), not by a connection that failed.
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert "sealdropd: bad MySQL DSN (want mysql://" in r.stderr, r.stderr
    assert "cannot connect" not in r.stderr, r.stderr
    assert db.password not in r.stderr
