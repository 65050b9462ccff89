"""Documented exit codes, one clean line on stderr, nothing secret there."""

import base64
import json
import os

import requests
from nacl.signing import SigningKey

import stack
from conftest import PASS, Cli, assert_one_clean_line, b64url, link_parts, unb64url
from sdclient import Recipient


def test_wrong_passphrase(cli, inbox, tmp_path):
    cli("send", inbox, "secret words")
    r = cli("fetch", passphrase="not it", check=False)
    assert r.returncode == 65
    assert r.stderr.decode() == "sealdrop: wrong passphrase\n"
    assert b"secret words" not in r.stdout + r.stderr
    pf = tmp_path / "pf"
    pf.write_text("also not it\n")
    r = cli("--passphrase-file", str(pf), "fetch", passphrase=False, check=False)
    assert r.returncode == 65 and r.stderr.decode() == "sealdrop: wrong passphrase\n"
    assert b"also not it" not in r.stderr


def test_passphrase_file_wins_over_environment(cli, inbox, tmp_path):
    pf = tmp_path / "pf"
    pf.write_text(PASS + "\r\n")  # a line end of either kind is not part of it
    cli("--passphrase-file", str(pf), "fetch", passphrase="wrong")


def test_passphrase_problems(cli, tmp_path):
    r = cli("init", passphrase=False, check=False)  # no env, no file, no terminal
    assert r.returncode == 64 and "SEALDROP_PASSPHRASE" in r.stderr.decode()
    long = tmp_path / "long"
    long.write_text("x" * 1025)
    r = cli("--passphrase-file", str(long), "init", passphrase=False, check=False)
    assert r.returncode == 64 and "longer than 1024" in r.stderr.decode()
    assert not os.path.exists(cli.identity)
    r = cli("--passphrase-file", str(tmp_path / "missing"), "init", passphrase=False,
            check=False)
    assert r.returncode == 74
    empty = tmp_path / "empty"
    empty.write_text("\n")
    r = cli("--passphrase-file", str(empty), "init", passphrase=False, check=False)
    assert r.returncode == 64 and "empty" in r.stderr.decode()


def test_tampered_fragment_key_is_refused(cli, inbox, srv):
    server, token, key = link_parts(inbox)
    raw = bytearray(unb64url(key))
    raw[0] ^= 1
    forged = "%s/l/%s#%s" % (server, token, b64url(bytes(raw)))
    r = cli("send", forged, "must not be sent", check=False)
    assert r.returncode == 65
    assert_one_clean_line(r.stderr, "must not be sent")
    assert "different key" in r.stderr.decode()
    assert json.loads(cli("fetch", "--all", "--json").stdout) == []
    # A fragment that is no key at all is a usage error, also never sent.
    for bad in ("%s/l/%s#notakey" % (server, token), "%s/l/%s#%s" % (server, token, key[:-2])):
        r = cli("send", bad, "nor this", check=False)
        assert r.returncode == 64
        assert_one_clean_line(r.stderr, "nor this")


def test_server_serving_another_key_is_caught(cli, inbox, srv):
    """The attack the fragment exists for: the server swaps the key. Here
    the token in the link is swapped for another inbox's, which serves a
    different key, exactly what a lying server would do."""
    other = Recipient(srv.url)
    _, _, key = link_parts(inbox)
    r = cli("send", "%s/l/%s#%s" % (srv.url, other.link, key), "for the owner only",
            check=False)
    assert r.returncode == 65
    assert other.fetch().json()["data"] == []


def test_unknown_link_unreachable_server_bad_link(cli, srv):
    r = cli("send", srv.url + "/l/link_" + "A" * 32, "x", check=False)
    assert r.returncode == 70 and "404" in r.stderr.decode()
    assert_one_clean_line(r.stderr)
    port = stack.free_port()
    r = cli("send", "http://127.0.0.1:%d/l/link_%s" % (port, "A" * 32), "x", check=False)
    assert r.returncode == 69
    assert_one_clean_line(r.stderr)
    for bad in ("not a link", "ftp://h/l/link_abc", "http:///l/link_abc",
                srv.url + "/l/token_without_prefix", srv.url + "/l/link_a?b"):
        r = cli("send", bad, "x", check=False)
        assert r.returncode == 64, bad
        assert_one_clean_line(r.stderr)


def test_message_size_limits(cli, inbox, srv):
    # An envelope with a reply key carries 16300 bytes of UTF-8 text.
    assert cli("send", inbox, "-", input=b"x" * 16300).returncode == 0
    r = cli("send", inbox, "-", input=b"x" * 16301, check=False)
    assert r.returncode == 64 and "longer than the 16300" in r.stderr.decode()
    r = cli("send", inbox, "-", input=b"\xff", check=False)
    assert r.returncode == 64 and "not UTF-8" in r.stderr.decode()
    r = cli("send", inbox, "-", input=b"", check=False)
    assert r.returncode == 64 and "empty" in r.stderr.decode()
    # Text that looks like an option goes after "--".
    cli("send", inbox, "--", "--not-an-option")
    texts = [m["text"] for m in json.loads(cli("fetch", "--json").stdout)]
    assert texts == ["x" * 16300, "--not-an-option"]
    # An inbox without envelopes takes 16336 bytes, any bytes, as before.
    plain = srv.url + "/l/" + Recipient(srv.url).link
    assert cli("send", plain, "-", input=b"\xff" * (16384 - 48)).returncode == 0
    r = cli("send", plain, "-", input=b"x" * (16384 - 47), check=False)
    assert r.returncode == 64 and "longer than 16336" in r.stderr.decode()


def test_usage_errors(cli):
    cases = [("frobnicate",), ("--bogus", "link"), ("register",), ("register", "--server"),
             ("register", "--server", "ftp://x"), ("ack",), ("ack", "abc"), ("ack", "0"),
             ("ack", "--all", "12"), ("fetch", "--bogus"), ("watch", "--interval", "0"),
             ("watch", "--interval", "x"), ("link", "extra"), ("send",),
             ("send", "a", "b", "c"), ("export",), ("import", "a", "b"), ("init", "x"),
             ("--identity",), ()]
    for args in cases:
        r = cli(*args, check=False)
        assert r.returncode == 64, args
        assert_one_clean_line(r.stderr)
    for cmd in ("init", "register", "link", "send", "fetch", "ack", "watch", "rotate-token",
                "unregister", "export", "import"):
        r = cli(cmd, "--help")
        assert r.stdout.decode().startswith("usage: sealdrop " + cmd), cmd
        assert r.returncode == 0
    assert cli("--help").stdout.decode().startswith("usage: sealdrop")
    assert cli("--version").stdout.decode().startswith("sealdrop ")


def test_missing_identity(cli):
    r = cli("fetch", check=False)
    assert r.returncode == 74
    assert_one_clean_line(r.stderr)
    assert "sealdrop init" in r.stderr.decode()


def test_auth_failure_exit_code(cli, inbox, srv):
    """An identity pointed at someone else's inbox cannot sign for it: 77."""
    stranger = Recipient(srv.url)
    stranger.send(b"not yours")
    doc = cli.doc()
    doc["inbox"]["link_token"] = stranger.link
    sealed = doc["inbox"].pop("sealed_fetch_token")  # our token: not theirs either
    cli.write_doc(doc)
    for args in (("fetch",), ("ack", "--all"), ("rotate-token",), ("unregister",)):
        r = cli(*args, check=False)
        assert r.returncode == 77, args
        assert "401" in r.stderr.decode()
        assert_one_clean_line(r.stderr)
    assert b"not yours" not in r.stdout
    # With our own inbox's token: refused too, then refused by signature.
    doc["inbox"]["sealed_fetch_token"] = sealed
    cli.write_doc(doc)
    r = cli("fetch", check=False)
    assert r.returncode == 77 and b"not yours" not in r.stdout
    assert r.stderr.decode().splitlines()[0].endswith("signing challenges instead")
    assert_one_clean_line(r.stderr.decode().split("\n", 1)[1].encode())
    assert len(stranger.fetch().json()["data"]) == 1


def test_identity_files_refused(cli, inbox):
    good = cli.doc()

    def refused(doc, words, code=65):
        cli.write_doc(doc)
        r = cli("fetch", check=False)
        assert r.returncode == code, (doc, r.stderr)
        assert words in r.stderr.decode()
        assert_one_clean_line(r.stderr, PASS)

    other = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    refused(dict(good, public_key=other), "does not match")
    refused(dict(good, memlimit=1 << 40), "invalid")  # would allocate a terabyte
    refused(dict(good, opslimit=11), "invalid")
    refused(dict(good, opslimit="3"), "invalid")  # one JSON type per field
    refused(dict(good, kdf="scrypt"), "invalid")
    refused(dict(good, salt=good["salt"][:-4]), "invalid")
    refused(dict(good, sealdrop_identity=2), "version 2")
    refused(dict(good, sealdrop_identity="1"), "not a sealdrop identity")
    refused(dict(good, inbox=dict(good["inbox"], link_token="../../admin")), "malformed")
    refused(dict(good, inbox=dict(good["inbox"], server="file:///etc")), "malformed")
    with open(cli.identity, "w") as f:
        f.write(json.dumps(good) + " trailing")
    r = cli("fetch", check=False)
    assert r.returncode == 65 and "not an identity file" in r.stderr.decode()
    with open(cli.identity, "w") as f:
        f.write(" " * (64 * 1024 + 1))
    assert cli("fetch", check=False).returncode == 65
    cli.write_doc(good)
    cli("fetch")
