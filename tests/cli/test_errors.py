"""Documented exit codes, one clear line on stderr, nothing secret there."""

import base64

import requests

import stack


def test_wrong_passphrase(cli, inbox):
    cli("send", inbox, "secret words")
    r = cli("fetch", passphrase="not it", check=False)
    assert r.returncode == 65
    assert r.stderr.decode().strip() == "sealdrop: wrong passphrase"
    assert b"secret words" not in r.stdout + r.stderr


def test_tampered_fragment_key_is_refused(cli, inbox, srv):
    token, key = inbox.split("/l/")[1].split("#")
    raw = bytearray(base64.urlsafe_b64decode(key + "="))
    raw[0] ^= 1
    forged = inbox.split("#")[0] + "#" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    r = cli("send", forged, "must not be sent", check=False)
    assert r.returncode == 65
    assert "different key" in r.stderr.decode()
    assert b"must not be sent" not in r.stderr
    assert cli("fetch", "--all").stdout == b""


def test_unknown_link_and_unreachable_server(cli, srv):
    r = cli("send", srv.url + "/l/link_" + "A" * 32, "x", check=False)
    assert r.returncode == 70
    assert "404" in r.stderr.decode()
    port = stack.free_port()
    r = cli("send", "http://127.0.0.1:%d/l/link_%s" % (port, "A" * 32), "x", check=False)
    assert r.returncode == 69
    r = cli("send", "not a link", "x", check=False)
    assert r.returncode == 64


def test_usage_errors(cli):
    assert cli("frobnicate", check=False).returncode == 64
    assert cli("register", check=False).returncode == 64
    assert cli("ack", "abc", check=False).returncode == 64
    for cmd in ("init", "register", "link", "send", "fetch", "ack", "watch", "rotate-token",
                "unregister", "export", "import"):
        r = cli(cmd, "--help")
        assert r.stdout.decode().startswith("usage: sealdrop " + cmd)


def test_missing_identity(cli):
    r = cli("fetch", check=False)
    assert r.returncode == 74
    assert "sealdrop init" in r.stderr.decode()


def test_auth_failure_exit_code(cli, inbox, srv):
    """An identity pointed at someone else's inbox cannot sign for it: 77."""
    import json
    from sdclient import Recipient
    stranger = Recipient(srv.url)
    stranger.send(b"not yours")
    doc = json.load(open(cli.identity))
    doc["inbox"]["link_token"] = stranger.link
    json.dump(doc, open(cli.identity, "w"))
    r = cli("fetch", check=False)
    assert r.returncode == 77
    assert "401" in r.stderr.decode()
    assert b"not yours" not in r.stdout


def test_file_key_not_matching_seed_is_refused(cli, inbox):
    import json
    from nacl.signing import SigningKey
    doc = json.load(open(cli.identity))
    doc["public_key"] = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    json.dump(doc, open(cli.identity, "w"))
    r = cli("fetch", check=False)
    assert r.returncode == 65
    assert "does not match" in r.stderr.decode()
