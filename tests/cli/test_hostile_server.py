"""Replies a correct server never gives, from a scripted fake: the client
must stay bounded, refuse what it cannot trust, and keep its stderr clean."""

import base64
import json
import os
import subprocess
import time

import pytest
from nacl.signing import SigningKey, VerifyKey

from conftest import PASS, assert_one_clean_line, b64, b64url
from fakeserver import FakeServer
from hostile import TOKEN, bound_bytes, bound_challenges, key_reply, registered

def test_oversized_reply_is_not_read(cli, fake):
    fake.reply("GET", "/key/", 200, b'{"pad":"' + b"x" * (5 * 1024 * 1024) + b'"}')
    t = time.time()
    r = cli("send", fake.url + "/l/" + TOKEN, "x", check=False)
    assert r.returncode == 69 and "larger than" in r.stderr.decode()
    assert_one_clean_line(r.stderr)
    assert time.time() - t < 10


def test_server_error_text_cannot_drive_the_terminal(cli, fake):
    fake.reply("GET", "/key/", 400, {"error": "bad \x1b[31mred\x1b[0m\r\nsealdrop: fake line"})
    r = cli("send", fake.url + "/l/" + TOKEN, "x", check=False)
    assert r.returncode == 70
    assert_one_clean_line(r.stderr)
    assert "\x1b" not in r.stderr.decode()


def test_redirects_are_not_followed(cli, fake):
    fake.reply("GET", "/key/", 302, b"", {"Location": "http://127.0.0.1:1/elsewhere"})
    r = cli("send", fake.url + "/l/" + TOKEN, "x", check=False)
    assert r.returncode == 70 and "redirect" in r.stderr.decode()
    assert fake.paths() == ["/key/" + TOKEN]


def test_unusable_key_replies(cli, fake):
    for body in ({"box_public_key": "short"}, {"box_public_key": 12}, {}, "not json",
                 {"box_public_key": b64(os.urandom(33))}):
        fake.reply("GET", "/key/", 200, body if not isinstance(body, str) else body.encode())
        r = cli("send", fake.url + "/l/" + TOKEN, "x", check=False)
        assert r.returncode == 70, body
        assert_one_clean_line(r.stderr)
    assert not any(p == "/send" for p in fake.paths())


def test_fragment_key_is_used_even_when_the_server_agrees(cli, fake):
    """With a fragment the message is sealed to the fragment's key."""
    from nacl.public import PrivateKey, SealedBox
    box = PrivateKey.generate()
    fake.reply("GET", "/key/", 200, key_reply(box.public_key))
    fake.reply("POST", "/send", 201, {"message": "Message sent successfully", "id": 7})
    out = cli("send", fake.url + "/l/" + TOKEN + "#" + b64url(box.public_key), "hi")
    assert out.stdout.decode() == "sent (id 7)\n"
    body = [b for m, p, b in fake.requests if p == "/send"][0]
    assert body["link_token"] == TOKEN
    assert SealedBox(box).decrypt(base64.b64decode(body["encrypted_message"])) == b"hi"


def test_register_refuses_a_server_that_keeps_another_key(cli, fake):
    cli("init")
    fake.reply("POST", "/register", 201, {"link_token": TOKEN,
                                           "box_public_key": b64(os.urandom(32))})
    r = cli("register", "--server", fake.url, check=False)
    assert r.returncode == 70 and "different encryption key" in r.stderr.decode()
    assert "inbox" not in cli.doc()


def test_register_refuses_a_malformed_link_token(cli, fake):
    cli("init")
    for token in ("../../etc", "link_", "link_a b", 5, "link_" + "a" * 200):
        fake.reply("POST", "/register", 201, {"link_token": token})
        r = cli("register", "--server", fake.url, check=False)
        assert r.returncode == 70, token
        assert "inbox" not in cli.doc()


def test_register_works_with_a_server_that_ignores_box_keys(cli, fake):
    """PyCrypt's server does not echo box_public_key; that is fine. A fetch
    token that cannot be one is not kept."""
    cli("init")
    fake.reply("POST", "/register", 201, {"link_token": TOKEN, "fetch_token": "x"})
    link = cli("register", "--server", fake.url).stdout.decode().strip()
    assert link.startswith(fake.url + "/l/" + TOKEN + "#")
    sent = [b for m, p, b in fake.requests if p == "/register"][0]
    assert set(sent) == {"public_key", "box_public_key", "key_type", "capabilities"}
    assert sent["capabilities"] == ["bound-signatures", "envelope-v1"]
    assert "sealed_fetch_token" not in cli.doc()["inbox"]


def test_only_challenges_are_signed(cli, fake):
    """A server gets no signature over a string of its choosing."""
    registered(cli, fake)
    for challenge in ("I owe the bearer 1000 EUR, signed", "", "x" * 200, 42,
                      b64(os.urandom(31)), b64(os.urandom(33)), b64(os.urandom(64))):
        bound_challenges(fake, challenge=challenge)
        r = cli("fetch", check=False)
        assert r.returncode == 70, challenge
        assert "not 32 bytes of base64; nothing signed" in r.stderr.decode()
        assert_one_clean_line(r.stderr)
    assert "/fetch" not in fake.paths()


@pytest.mark.parametrize("override,why", [
    ({"origin": "https://other.example"}, "names another server"),
    ({"origin": None}, "names another server"),
    ({"purpose": "fetch"}, "is not for 'unregister'"),
    ({"purpose": None}, "is not for 'unregister'"),
    ({"form": None}, "no purpose-bound challenge"),
    ({"form": "sealdrop-v2"}, "no purpose-bound challenge"),
    ({"challenge": b64(os.urandom(16))}, "not 32 bytes"),
])
def test_a_challenge_that_is_not_ours_is_refused(cli, fake, override, why):
    """Another server's challenge relayed by this one (another origin), one
    for another purpose, a short one, or PyCrypt's form: nothing is signed,
    nothing is sent."""
    registered(cli, fake, fetch_token="F" * 64)
    bound_challenges(fake, **override)
    fake.reply("POST", "/unregister", 200, {"message": "Inbox deleted"})
    r = cli("unregister", check=False)
    assert r.returncode == 70, r.stderr
    assert why in r.stderr.decode() and "nothing signed" in r.stderr.decode()
    assert_one_clean_line(r.stderr)
    assert "/unregister" not in fake.paths()
    assert cli.doc()["inbox"]["link_token"] == TOKEN  # still ours


def test_the_origin_is_our_own_notion_of_the_server(cli, fake):
    """A server under a path: requests go to its path, the origin signed is
    scheme://host:port alone, and a challenge naming the path is refused."""
    cli("init")
    fake.route("POST", "/sub/register", lambda p, b: (201, {}, {"link_token": TOKEN}))
    cli("register", "--server", fake.url + "/sub/")
    vk = VerifyKey(base64.b64decode(cli.doc()["public_key"]))
    fake.reply("POST", "/sub/rotate_token", 200, {"message": "ok", "fetch_token": "G" * 64})
    for origin, ok in ((fake.url + "/sub", False), (fake.url + "/", False),
                       (fake.url.upper(), False), (fake.url, True)):
        issued = bound_challenges(fake, origin=origin)
        fake.route("POST", "/sub/challenge_request", fake.routes[("POST", "/challenge_request")])
        r = cli("rotate-token", check=False)
        assert (r.returncode == 0) == ok, (origin, r.stderr)
    body = [b for m, p, b in fake.requests if p == "/sub/rotate_token"]
    assert len(body) == 1
    vk.verify(bound_bytes("rotate_token", fake.url, TOKEN, issued[-1]),
              base64.b64decode(body[0]["challenge_signature"]))


def test_signature_is_bound_to_purpose_origin_and_inbox(cli, fake):
    vk = registered(cli, fake)
    issued = bound_challenges(fake)
    fake.reply("POST", "/fetch", 200, {"data": [], "count": 0, "has_more": False,
                                        "next_cursor": None})
    assert json.loads(cli("fetch", "--json").stdout) == []
    req = [b for m, p, b in fake.requests if p == "/challenge_request"][0]
    assert req == {"link_token": TOKEN, "purpose": "fetch"}
    body = [b for m, p, b in fake.requests if p == "/fetch"][0]
    assert body["challenge"] == issued[0] and body["link_token"] == TOKEN
    assert body["challenge_form"] == "sealdrop-v1"
    vk.verify(bound_bytes("fetch", fake.url, TOKEN, issued[0]),
              base64.b64decode(body["challenge_signature"]))
    assert body["order"] == "ASC" and body["include_seen"] is False
    assert "fetch_token" not in body


def test_destructive_calls_sign_for_their_own_purpose(cli, fake):
    """With a fetch token at hand, erasing still signs, each for its own
    purpose; marking read uses the token."""
    vk = registered(cli, fake, fetch_token="T" * 64)
    bound_challenges(fake)
    fake.reply("POST", "/ack", 200, {"message": "ok", "count": 2})
    fake.reply("POST", "/rotate_token", 200, {"message": "ok", "fetch_token": "U" * 64})
    fake.reply("POST", "/unregister", 200, {"message": "Inbox deleted"})
    cli("ack", "5,6")
    cli("ack", "5", "--delete")
    assert cli("rotate-token").stdout.decode() == "U" * 64 + "\n"
    cli("unregister")
    acks = [(b, h) for m, p, b in fake.requests if p == "/ack" for h in [None]]
    assert "challenge" not in acks[0][0] and acks[0][0]["delete"] is False
    want = {"/ack": "delete", "/rotate_token": "rotate_token", "/unregister": "unregister"}
    signed = [(p, b) for m, p, b in fake.requests if p in want and "challenge" in b]
    assert [p for p, b in signed] == ["/ack", "/rotate_token", "/unregister"]
    for p, b in signed:
        assert b["challenge_form"] == "sealdrop-v1"
        vk.verify(bound_bytes(want[p], fake.url, TOKEN, b["challenge"]),
                  base64.b64decode(b["challenge_signature"]))
    purposes = [b["purpose"] for m, p, b in fake.requests if p == "/challenge_request"]
    assert purposes == ["delete", "rotate_token", "unregister"]


def test_paging_cursor_must_move_forward(cli, fake):
    registered(cli, fake)
    bound_challenges(fake)
    fake.reply("POST", "/fetch", 200, {"data": [], "count": 0, "has_more": True,
                                        "next_cursor": 0})
    r = cli("fetch", check=False, timeout=20)
    assert r.returncode == 70 and "cursor" in r.stderr.decode()


def test_undecryptable_and_malformed_messages(cli, fake):
    registered(cli, fake)
    bound_challenges(fake)
    fake.reply("POST", "/fetch", 200, {"data": [
        {"id": 1, "encrypted_message": b64(os.urandom(80)), "created_at": "2026-01-01T00:00:00Z",
         "seen": False, "metadata": None},
        {"id": "2", "encrypted_message": b64(os.urandom(80))},
        {"id": 3, "encrypted_message": "%%%"},
        "not an object"], "has_more": False})
    r = cli("fetch", check=False)
    assert r.returncode == 65
    assert "4 message(s) could not be decrypted" in r.stderr.decode()
    assert r.stdout.decode().count("cannot decrypt") == 4
    r = cli("fetch", "--json", "--ack", check=False)
    assert r.returncode == 65
    assert [m.get("error") for m in json.loads(r.stdout)] == ["cannot decrypt"] * 4
    assert "/ack" not in fake.paths()  # nothing shown, nothing acknowledged


def test_auth_failure_and_server_errors_map_to_exit_codes(cli, fake):
    registered(cli, fake)
    bound_challenges(fake)
    for status, code in ((401, 77), (404, 70), (429, 70), (500, 70), (503, 70)):
        code_text = "inbox_full" if status == 429 else "x"  # a 429 that waiting does not end
        fake.reply("POST", "/fetch", status, {"error": "no", "code": code_text})
        r = cli("fetch", check=False)
        assert r.returncode == code, status
        assert_one_clean_line(r.stderr, PASS)


@pytest.fixture
def tls_fake(tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    s = FakeServer(certfile=cert, keyfile=key).start()
    s.reply("GET", "/key/", 200, key_reply(os.urandom(32)))
    yield s, cert
    s.stop()


def test_certificates_are_verified(cli, tls_fake):
    s, cert = tls_fake
    r = cli("send", s.url + "/l/" + TOKEN, "x", check=False)
    assert r.returncode == 69
    assert_one_clean_line(r.stderr)
    assert "certificate" in r.stderr.decode().lower() or "ssl" in r.stderr.decode().lower()
    assert "/key/" + TOKEN not in s.paths()
    # Trusting the certificate through SEALDROP_CA_FILE makes it work:
    # verification stays on, against that bundle.
    s.reply("POST", "/send", 201, {"id": 1})
    env = cli.env(None)
    env["SEALDROP_CA_FILE"] = cert
    r = subprocess.run([cli.binary, "send", s.url + "/l/" + TOKEN, "x"], env=env,
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "sent (id 1)\n"
    # A name the certificate does not carry still fails.
    r = subprocess.run([cli.binary, "send", s.url.replace("127.0.0.1", "localhost") + "/l/" +
                        TOKEN, "x"], env=env, capture_output=True)
    assert r.returncode == 69
