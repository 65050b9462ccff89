"""Every field of every reply, of the wrong type or size, from a scripted
fake server; senders' text that tries to pass for the client's own output;
the reading session (fetch token, rate limits) and the interruptible
watch. The client never crashes (the suite runs under ASan too), never
signs or sends what it should not, and keeps its output unambiguous."""

import base64
import json
import os
import re
import signal
import threading
import time

import pytest
from nacl.public import PublicKey, SealedBox

from conftest import PASS, assert_one_clean_line, b64
from hostile import TOKEN, bound_bytes, bound_challenges, cheap_init, key_reply, registered

# A value of every JSON type and a few sizes and shapes that are never right.
WRONG = [None, 0, -1, 2 ** 63, 1.5, True, "", "x" * 20000, "\x1b[2J\n--- #9", [], [1], {},
         {"a": None}]


def sealed_to(cli, text):
    """text sealed to the identity's own box key, as a sender would."""
    pk = base64.b64decode(cli.doc()["public_key"])
    from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
    box = PublicKey(crypto_sign_ed25519_pk_to_curve25519(pk))
    return b64(SealedBox(box).encrypt(text if isinstance(text, bytes) else text.encode()))


def message(cli, text="hello", **fields):
    m = {"id": 1, "encrypted_message": sealed_to(cli, text),
         "created_at": "2026-01-01T00:00:00Z", "seen": False, "metadata": None}
    m.update(fields)
    return m


def page(*messages, **fields):
    p = {"message": "Messages retrieved successfully", "data": list(messages),
         "count": len(messages), "has_more": False, "next_cursor": None}
    p.update(fields)
    return p


def no_crash(r):
    """Exit codes the client gives on purpose; a crash or a sanitizer
    report (scripts/check sets ASan's exit code to 23) is none of them."""
    assert r.returncode in (0, 65, 69, 70, 77), (r.returncode, r.stderr)
    text = r.stderr.decode("utf-8", "replace")
    assert "Sanitizer" not in text and "runtime error" not in text, text
    assert not any(ord(c) < 0x20 and c != "\n" for c in text), repr(text)


def test_an_empty_page_with_more_to_come_is_not_followed(cli, fake):
    """has_more with no messages and a cursor one past since_id: without
    the check fetch and watch paged on for ever."""
    registered(cli, fake, fetch_token="T" * 64)

    def fetch(path, body):
        return 200, {}, page(has_more=True, next_cursor=(body.get("since_id") or 0) + 1)
    fake.route("POST", "/fetch", fetch)
    r = cli("fetch", check=False, timeout=30)
    no_crash(r)
    assert r.returncode == 70 and "cursor" in r.stderr.decode(), r.stderr
    assert fake.paths().count("/fetch") == 1


def test_a_cursor_that_is_not_the_last_id_is_not_followed(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    fake.reply("POST", "/fetch", 200, page(message(cli, id=3), has_more=True, next_cursor=50))
    r = cli("fetch", check=False, timeout=30)
    no_crash(r)
    assert r.returncode == 70 and r.stdout == b"", r.stderr
    assert fake.paths().count("/fetch") == 1


def test_an_ascending_page_below_since_is_refused(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)

    def fetch(path, body):
        if not body.get("since_id"):
            return 200, {}, page(message(cli, id=5), has_more=True, next_cursor=5)
        return 200, {}, page(message(cli, "old", id=2), message(cli, id=9))
    fake.route("POST", "/fetch", fetch)
    r = cli("fetch", check=False, timeout=30)
    no_crash(r)
    assert r.returncode == 70 and "range" in r.stderr.decode(), r.stderr
    assert b"old" not in r.stdout


def test_a_server_that_pages_on_and_on_is_stopped(cli, fake):
    """Well-formed pages that never end: one round reads at most 1000."""
    registered(cli, fake, fetch_token="T" * 64)
    m = message(cli)

    def fetch(path, body):
        i = (body.get("since_id") or 0) + 1
        return 200, {}, page(dict(m, id=i), has_more=True, next_cursor=i)
    fake.route("POST", "/fetch", fetch)
    r = cli("fetch", "--json", check=False, timeout=120)
    no_crash(r)
    assert r.returncode == 70 and "1000 pages" in r.stderr.decode(), r.stderr
    assert fake.paths().count("/fetch") == 1000


@pytest.mark.parametrize("field", ["id", "encrypted_message", "created_at", "seen", "metadata"])
def test_every_message_field_of_the_wrong_type(cli, fake, field):
    registered(cli, fake, fetch_token="T" * 64)
    for value in WRONG + ["MISSING"]:
        m = message(cli)
        if value == "MISSING":
            del m[field]
        else:
            m[field] = value
        fake.reply("POST", "/fetch", 200, page(m, message(cli, "second", id=2)))
        for args in ((), ("--json",), ("--all", "--ack")):
            fake.reply("POST", "/ack", 200, {"count": 1})
            r = cli("fetch", *args, check=False)
            no_crash(r)
            out = r.stdout.decode("utf-8", "replace")
            assert "second" in out, (field, value, args)
            if args == ("--json",):
                json.loads(out)  # still one JSON document
            else:
                # The header lines are ours alone: one per message.
                assert len(re.findall(r"^--- #", out, re.M)) == 2, (field, value, out)
                assert "\x1b" not in out


@pytest.mark.parametrize("field,values", [
    ("data", [None, {}, "x", 1, [None, 1, "x", []]]),
    ("has_more", [None, "yes", 1, []]),
    ("next_cursor", [None, "5", 5.5, -1, 0, 2 ** 63, [], {}]),
])
def test_every_page_field_of_the_wrong_type(cli, fake, field, values):
    """A page that is not one ends the fetch (70) or is read as the last
    one; a cursor that does not advance is never followed."""
    registered(cli, fake, fetch_token="T" * 64)
    for value in values:
        p = page(message(cli, id=3), has_more=True, next_cursor=3)
        p[field] = value
        fake.requests.clear()
        fake.reply("POST", "/fetch", 200, p)
        r = cli("fetch", check=False, timeout=30)
        no_crash(r)
        assert r.returncode in (0, 65, 70), (field, value)
        assert len(fake.paths()) <= 2, (field, value)  # never pages on and on


def test_a_cursor_that_goes_back_or_stays_is_not_followed(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    cursors = iter([5, 5])

    def fetch(path, body):
        return 200, {}, page(message(cli, id=5), has_more=True, next_cursor=next(cursors, 1))
    fake.route("POST", "/fetch", fetch)
    r = cli("fetch", check=False)
    assert r.returncode == 70 and "cursor" in r.stderr.decode()
    assert fake.paths().count("/fetch") == 2  # since 0 -> 5, since 5 -> 5: stop


@pytest.mark.parametrize("field", ["challenge", "purpose", "origin", "form", "expires_in"])
def test_every_challenge_field_of_the_wrong_type(cli, fake, field):
    registered(cli, fake)
    for value in WRONG:
        bound_challenges(fake, **{field: value if value is not None else None})
        fake.reply("POST", "/fetch", 200, page())
        r = cli("fetch", check=False)
        no_crash(r)
        if field == "expires_in":
            assert r.returncode == 0  # not ours to judge: the server's clock
        else:
            assert r.returncode == 70, (field, value)
            assert "nothing signed" in r.stderr.decode()
    if field != "expires_in":
        assert "/fetch" not in fake.paths()


@pytest.mark.parametrize("token", [None, 5, "", "short", "a" * 300, "bad token\r\nX-Evil: 1",
                                   "T" * 64 + "\n", [], {}])
def test_a_fetch_token_that_cannot_be_one_is_not_kept(cli, fake, token):
    registered(cli, fake, fetch_token=token)
    inbox = cli.doc()["inbox"]
    assert inbox["link_token"] == TOKEN and "sealed_fetch_token" not in inbox
    bound_challenges(fake)
    fake.reply("POST", "/fetch", 200, page())
    cli("fetch")
    assert "/challenge_request" in fake.paths()  # reads by signature instead
    assert all("authorization" not in h for h in fake.headers)


@pytest.mark.parametrize("value", WRONG + ["MISSING"])
def test_a_send_reply_without_a_valid_id_is_an_error(cli, fake, value):
    """The message may or may not be stored: never "sent (id 0)"."""
    fake.reply("GET", "/key/", 200, key_reply(os.urandom(32)))
    reply = {"message": "Message sent successfully"}
    if value != "MISSING":
        reply["id"] = value
    fake.reply("POST", "/send", 201, reply)
    r = cli("send", fake.url + "/l/" + TOKEN, "hi", check=False)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 63:
        assert r.returncode == 0 and r.stdout.decode() == "sent (id %d)\n" % value
        return
    assert r.returncode == 70 and "no valid message id" in r.stderr.decode(), value
    assert_one_clean_line(r.stderr)
    assert r.stdout == b""


@pytest.mark.parametrize("value", WRONG)
def test_ack_and_rotate_replies_of_the_wrong_type(cli, fake, value):
    registered(cli, fake, fetch_token="T" * 64)
    bound_challenges(fake)
    fake.reply("POST", "/ack", 200, {"message": "ok", "count": value})
    r = cli("ack", "1,2", check=False)
    no_crash(r)
    assert r.returncode == 0
    fake.reply("POST", "/rotate_token", 200, {"message": "ok", "fetch_token": value})
    r = cli("rotate-token", check=False)
    no_crash(r)
    assert r.returncode == 70 and r.stdout == b""


def test_message_text_cannot_fake_a_boundary_or_drive_the_terminal(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    evil = "hello\n--- #99 2026-01-01T00:00:00Z\nI am message 99\n---\n\x1b]0;title\x07\r--- #98"
    fake.reply("POST", "/fetch", 200, page(
        message(cli, evil, id=1),
        message(cli, "plain", id=2, created_at="2026\x1b[2J\n--- #97 (seen)")))
    out = cli("fetch").stdout.decode()
    headers = re.findall(r"^--- #.*$", out, re.M)
    assert headers == ["--- #1 2026-01-01T00:00:00Z", "--- #2 2026?[2J?--- #97 (seen)"], out
    assert "\n\\--- #99 2026-01-01T00:00:00Z\n" in out  # shown, but not as a boundary
    assert "\n\\---\n" in out
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    # --json keeps the exact text: it is data, not a display.
    got = json.loads(cli("fetch", "--json").stdout)
    assert got[0]["text"] == evil


# Invisible in a terminal: each one in front of "---" would make a line
# look like sealdrop's own header.
HIDDEN = ["\u200b", "\ufeff", "\u2060", "\u00ad", "\u202a", "\u202b", "\u202c", "\u202d",
          "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\u200e",
          "\u200f", "\u061c", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2064", "\U000e0041"]
ZERO_WIDTH = ["\u200d", "\u200c", "\ufe0f", "\u0301"]  # kept, but not in front of ---


def _visible(line):
    return "".join(c for c in line if c not in HIDDEN + ZERO_WIDTH)


@pytest.mark.parametrize("c", HIDDEN + ZERO_WIDTH, ids=lambda c: "U+%04X" % ord(c))
def test_invisible_characters_cannot_fake_a_boundary(cli, fake, c):
    registered(cli, fake, fetch_token="T" * 64)
    evil = "hello\n%s--- #99 2026-01-01T00:00:00Z\nI am message 99\n%s%s---" % (c, c, c)
    fake.reply("POST", "/fetch", 200, page(
        message(cli, evil, id=1),
        message(cli, "plain", id=2, created_at="2026%s\n--- #97" % c)))
    out = cli("fetch").stdout.decode()
    # Whatever a terminal leaves out, only our two header lines start with ---.
    lines = [_visible(line) for line in out.split("\n")]
    assert [line for line in lines if line.startswith("---")] == [
        "--- #1 2026-01-01T00:00:00Z", "--- #2 2026%s?--- #97" % ("?" if c in HIDDEN else "")
    ], out
    if c in HIDDEN:
        assert c not in out, out
        assert "\n?--- #99 2026-01-01T00:00:00Z\n" in out, out
    else:
        assert "\n\\%s--- #99 2026-01-01T00:00:00Z\n" % c in out, out
    assert json.loads(cli("fetch", "--json").stdout)[0]["text"] == evil


def test_reading_uses_the_sealed_fetch_token(cli, fake):
    """register keeps the fetch token, sealed to the identity's own key;
    fetch and marking read use it: one request per page, no challenge."""
    registered(cli, fake, fetch_token="T" * 64)
    text = open(cli.identity).read()
    assert "T" * 64 not in text  # never in the clear
    sealed = base64.b64decode(cli.doc()["inbox"]["sealed_fetch_token"])
    assert len(sealed) == 48 + 64
    fake.reply("POST", "/fetch", 200, page(message(cli, "by token")))
    fake.reply("POST", "/ack", 200, {"count": 1})
    assert "by token" in cli("fetch", "--ack").stdout.decode()
    assert fake.paths()[-2:] == ["/fetch", "/ack"]
    assert "/challenge_request" not in fake.paths()
    for (m, p, body), h in list(zip(fake.requests, fake.headers))[-2:]:
        assert h["authorization"] == "Bearer " + "T" * 64
        assert "challenge" not in body
    # export/import carry it; a new token from rotate-token replaces it.
    bound_challenges(fake)
    fake.reply("POST", "/rotate_token", 200, {"message": "ok", "fetch_token": "N" * 64})
    cli("rotate-token")
    assert "N" * 64 not in open(cli.identity).read()
    cli("fetch")
    assert fake.headers[-1]["authorization"] == "Bearer " + "N" * 64


def test_a_refused_fetch_token_falls_back_to_signatures(cli, fake):
    vk = registered(cli, fake, fetch_token="T" * 64)
    issued = bound_challenges(fake)

    def fetch(path, body):
        if "challenge" in body:
            return 200, {}, page(message(cli, "signed read"))
        return 401, {}, {"error": "Invalid token", "code": "unauthorized"}
    fake.route("POST", "/fetch", fetch)
    r = cli("fetch")
    assert "signed read" in r.stdout.decode()
    assert "refused the stored fetch token" in r.stderr.decode()
    body = fake.requests[-1][2]
    vk.verify(bound_bytes("fetch", fake.url, TOKEN, issued[0]),
              base64.b64decode(body["challenge_signature"]))


def test_a_rate_limit_is_waited_out_and_bounded(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    answers = iter([429, 429])

    def fetch(path, body):
        status = next(answers, 200)
        if status == 429:
            return 429, {"Retry-After": "1"}, {"error": "slow down", "code": "rate_limited"}
        return 200, {}, page(message(cli, "after waiting"))
    fake.route("POST", "/fetch", fetch)
    r = cli("fetch")
    assert "after waiting" in r.stdout.decode() and r.stderr == b""
    assert fake.paths().count("/fetch") == 3
    # Always 429: it gives up after a bounded number of tries.
    fake.requests.clear()
    fake.reply("POST", "/fetch", 429, {"error": "slow down", "code": "rate_limited"},
               {"Retry-After": "1"})
    r = cli("fetch", check=False, timeout=60)
    assert r.returncode == 70 and "429" in r.stderr.decode()
    assert_one_clean_line(r.stderr)
    assert fake.paths().count("/fetch") == 6  # the first and 5 more
    # A Retry-After longer than waiting makes sense is not waited for.
    fake.requests.clear()
    fake.reply("POST", "/fetch", 429, {"error": "later", "code": "rate_limited"},
               {"Retry-After": "3600"})
    r = cli("fetch", check=False, timeout=30)
    assert r.returncode == 70 and fake.paths().count("/fetch") == 1


def test_send_retries_an_unavailable_server_with_the_same_key(cli, fake):
    fake.reply("GET", "/key/", 200, key_reply(os.urandom(32)))
    answers = iter([(503, {"error": "store down", "code": "store_unavailable"})])

    def send(path, body):
        status, reply = next(answers, (201, {"message": "Message sent successfully", "id": 8}))
        return status, {"Retry-After": "1"}, reply
    fake.route("POST", "/send", send)
    assert cli("send", fake.url + "/l/" + TOKEN, "once").stdout.decode() == "sent (id 8)\n"
    keys = [b["idempotency_key"] for m, p, b in fake.requests if p == "/send"]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", keys[0])
    cli("send", fake.url + "/l/" + TOKEN, "another")
    assert [b["idempotency_key"] for m, p, b in fake.requests if p == "/send"][-1] != keys[0]


class _Hangup(Exception):
    """Raised in a fake route: the connection closes with no reply."""


def test_send_whose_reply_is_lost_is_retried_with_the_same_key(cli, fake):
    """The request went out and no reply came (the connection closed):
    the message may be stored, so it goes again with the same key."""
    fake.reply("GET", "/key/", 200, key_reply(os.urandom(32)))
    hangups = [1]

    def send(path, body):
        if hangups:
            hangups.pop()
            raise _Hangup()
        return 201, {}, {"message": "Message sent successfully", "id": 8}
    fake.route("POST", "/send", send)
    assert cli("send", fake.url + "/l/" + TOKEN, "once").stdout.decode() == "sent (id 8)\n"
    keys = [b["idempotency_key"] for m, p, b in fake.requests if p == "/send"]
    assert len(keys) == 2 and keys[0] == keys[1]

    def never(path, body):
        raise _Hangup()
    fake.requests.clear()
    fake.route("POST", "/send", never)
    r = cli("send", fake.url + "/l/" + TOKEN, "twice", check=False)
    assert r.returncode == 69, r.stderr
    assert "may or may not have been delivered" in r.stderr.decode(), r.stderr
    keys = [b["idempotency_key"] for m, p, b in fake.requests if p == "/send"]
    assert len(keys) == 3 and len(set(keys)) == 1


@pytest.mark.parametrize("status,code,text", [
    (507, "storage_full", "full"), (503, "capacity_reached", "full")])
def test_a_full_server_is_said_plainly(cli, fake, status, code, text):
    fake.reply("GET", "/key/", 200, key_reply(os.urandom(32)))
    fake.reply("POST", "/send", status, {"error": "Storage is full", "code": code})
    fake.reply("POST", "/register", status, {"error": "No new inboxes", "code": code})
    r = cli("send", fake.url + "/l/" + TOKEN, "x", check=False)
    assert r.returncode == 70 and text in r.stderr.decode()
    assert_one_clean_line(r.stderr)
    cli("init")
    r = cli("register", "--server", fake.url, check=False)
    assert r.returncode == 70 and text in r.stderr.decode()
    assert "inbox" not in cli.doc()


def test_ack_all_delete_is_one_signed_call_up_to_the_newest(cli, fake):
    vk = registered(cli, fake, fetch_token="T" * 64)
    issued = bound_challenges(fake)
    fake.reply("POST", "/fetch", 200, page(message(cli, id=10042)))
    fake.reply("POST", "/ack", 200, {"message": "Messages deleted", "count": 10000})
    assert cli("ack", "--all", "--delete").stdout.decode() == "10000 message(s) deleted\n"
    newest = [b for m, p, b in fake.requests if p == "/fetch"][0]
    assert newest["order"] == "DESC" and newest["limit"] == 1 and newest["include_seen"]
    ack = [b for m, p, b in fake.requests if p == "/ack"]
    assert len(ack) == 1 and ack[0]["up_to_id"] == 10042 and ack[0]["delete"] is True
    assert "message_ids" not in ack[0]
    vk.verify(bound_bytes("delete", fake.url, TOKEN, issued[0]),
              base64.b64decode(ack[0]["challenge_signature"]))
    # Marking all read goes with the token; an empty inbox sends no /ack.
    cli("ack", "--all")
    assert fake.headers[-1]["authorization"] == "Bearer " + "T" * 64
    fake.requests.clear()
    fake.reply("POST", "/fetch", 200, page())
    assert cli("ack", "--all", "--delete").stdout.decode() == "0 message(s) deleted\n"
    assert "/ack" not in fake.paths()


def test_watch_ends_at_once_while_a_request_hangs(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    release = threading.Event()
    arrived = threading.Event()

    def hang(path, body):
        arrived.set()
        release.wait(120)
        return 200, {}, page()
    fake.route("POST", "/fetch", hang)
    p = cli.popen("watch")
    try:
        assert arrived.wait(30), "watch sent no request"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)  # far below the 120 s the server hangs
        assert p.returncode == 0, err
    finally:
        release.set()
        if p.poll() is None:
            p.kill()
            p.wait()


def test_watch_acks_what_it_showed_when_stopped_mid_ack(cli, fake):
    """A signal cuts the /ack in flight short; what was shown is still
    marked read, with one short last try, before watch exits."""
    registered(cli, fake, fetch_token="T" * 64)
    fake.reply("POST", "/fetch", 200, page(message(cli, "shown", id=7)))
    release, arrived, calls = threading.Event(), threading.Event(), []

    def ack(path, body):
        calls.append(body)
        if len(calls) == 1:
            arrived.set()
            release.wait(120)
        return 200, {}, {"message": "Messages marked as seen", "count": 1}
    fake.route("POST", "/ack", ack)
    p = cli.popen("watch", "--ack")
    try:
        assert arrived.wait(30), "watch sent no /ack"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)  # far below the 120 s the first /ack hangs
        assert p.returncode == 0, err
    finally:
        release.set()
        if p.poll() is None:
            p.kill()
            p.wait()
    assert out.decode().count("shown") == 1
    assert [c["message_ids"] for c in calls] == [[7], [7]]


def test_the_last_ack_try_of_watch_has_an_absolute_deadline(cli, fake):
    """The last try after a signal ends 10 s after it began, also when the
    server keeps answering 429 with waits that add up to far more."""
    registered(cli, fake, fetch_token="T" * 64)
    fake.reply("POST", "/fetch", 200, page(message(cli, "shown", id=7)))
    arrived, calls = threading.Event(), []

    def ack(path, body):
        calls.append(time.monotonic())
        arrived.set()
        return 429, {"Retry-After": "8"}, {"error": "slow down"}
    fake.route("POST", "/ack", ack)
    p = cli.popen("watch", "--ack", "--interval", "3600")
    try:
        assert arrived.wait(30), "watch sent no /ack"
        time.sleep(0.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert took < 13, took  # 5 waits of 8 s without the deadline


def test_watch_does_not_repeat_a_message_without_an_id(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    fake.reply("POST", "/fetch", 200, page(message(cli, "no id", id=None),
                                           message(cli, "with id", id=4)))
    p = cli.popen("watch", "--interval", "1")
    try:
        deadline = time.monotonic() + 30
        while fake.paths().count("/fetch") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fake.paths().count("/fetch") >= 3
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0
    assert out.decode().count("with id") == 1 and "no id" not in out.decode()
    assert err.decode().count("without a valid id") == 1


def test_plain_http_is_warned_about_except_on_loopback(cli, fake):
    cli("init")
    r = cli("register", "--server", "http://sealdrop.invalid", check=False)
    assert r.returncode == 69
    lines = r.stderr.decode().splitlines()
    assert lines[0].startswith("sealdrop: warning: the server is plain http://")
    fake.reply("POST", "/register", 201, {"link_token": TOKEN,
                                          "capabilities": ["bound-signatures", "envelope-v1"]})
    r = cli("register", "--server", fake.url)
    assert r.stderr == b""  # 127.0.0.1: nobody else on the way


def test_registering_again_says_the_old_inbox_stays(cli, fake):
    registered(cli, fake)
    r = cli("register", "--server", fake.url, check=False)
    assert r.returncode == 64 and "already has an inbox" in r.stderr.decode()
    r = cli("register", "--server", fake.url, "--force")
    assert "forgotten here, not erased" in r.stderr.decode()


@pytest.mark.parametrize("suffix", [":00000%d", ":%d0", ":%d:", ":%dx"])
def test_register_refuses_a_server_url_without_a_usable_origin(cli, fake, suffix):
    """Registered there, every later command would fail (65): refused first."""
    cheap_init(cli)
    before = cli.doc()
    port = fake.url.rsplit(":", 1)[1]
    fake.reply("POST", "/register", 201, {"link_token": TOKEN, "box_public_key": "x"})
    url = "http://127.0.0.1" + suffix % int(port)
    r = cli("register", "--server", url, check=False)
    assert r.returncode == 64, (url, r.returncode, r.stderr)
    assert fake.paths() == [] and cli.doc() == before, url


@pytest.mark.parametrize("passphrase,ok", [("1234567", False), ("x", False), ("ééééééé", False),
                                           ("12345678", True), ("éééééééé", True)])
def test_a_new_passphrase_has_at_least_8_characters(cli, passphrase, ok, tmp_path):
    r = cli("init", passphrase=passphrase, check=False)
    if ok:
        assert r.returncode == 0
        assert cli("export", "-", passphrase=passphrase).returncode == 0
        return
    assert r.returncode == 64 and "at least 8 characters" in r.stderr.decode()
    assert_one_clean_line(r.stderr, passphrase)
    assert not os.path.exists(cli.identity)
    # Opening an identity is not choosing a passphrase: a short one that
    # an older file has still opens it.
    if passphrase == "x":
        cli("init")
        assert cli("export", "-", passphrase=PASS).returncode == 0


def test_the_sealed_token_is_of_this_identity_only(cli, fake, tmp_path):
    """A sealed_fetch_token that does not open (another identity's, or
    damaged) is not used: a warning, then signatures."""
    registered(cli, fake, fetch_token="T" * 64)
    doc = cli.doc()
    doc["inbox"]["sealed_fetch_token"] = b64(os.urandom(112))
    cli.write_doc(doc)
    bound_challenges(fake)
    fake.reply("POST", "/fetch", 200, page())
    r = cli("fetch")
    assert "does not open" in r.stderr.decode()
    assert "/challenge_request" in fake.paths()
    assert all("authorization" not in h for h in fake.headers)
    # An export still carries the sealed token as it is.
    assert json.loads(cli("export", "-").stdout)["inbox"]["sealed_fetch_token"] == \
        doc["inbox"]["sealed_fetch_token"]


class FakeInbox:
    """/fetch of the fake server served as sealdrop serves it from a list of
    unread messages: order, since_id, before_id, limit, has_more,
    next_cursor."""

    def __init__(self, cli, fake, ids):
        self.cli, self.messages, self.bodies = cli, {}, []
        self.lock = threading.Lock()
        self.add(*ids)
        fake.route("POST", "/fetch", self.fetch)

    def add(self, *ids):
        """Messages that arrive together: no poll sees some without the others."""
        new = {i: message(self.cli, "m%d" % i, id=i) for i in ids}
        with self.lock:
            self.messages.update(new)

    def fetch(self, path, body):
        with self.lock:
            self.bodies.append(body)
            ids = sorted(self.messages, reverse=body.get("order") != "ASC")
        if body.get("since_id") is not None:
            ids = [i for i in ids if i > body["since_id"]]
        elif body.get("before_id") is not None:
            ids = [i for i in ids if i < body["before_id"]]
        limit = body.get("limit", 50)
        got = ids[:limit]
        return 200, {}, page(*[self.messages[i] for i in got], has_more=len(ids) > limit,
                             next_cursor=got[-1] if got else None)


def test_watch_polls_only_for_what_is_new(cli, fake):
    """After its first round, a poll of a quiet inbox is one request however
    many messages are unread; new ones show once, oldest first, also one
    whose id is below a newer one (committed late)."""
    registered(cli, fake, fetch_token="T" * 64)
    inbox = FakeInbox(cli, fake, [i for i in range(1, 251) if i != 245])
    p = cli.popen("watch", "--interval", "1")
    out = []
    try:
        def until(text, polls_after=0):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = p.stdout.readline().decode()
                if line == "":
                    break
                out.append(line.rstrip("\n"))
                if line.rstrip("\n") == text:
                    return
            raise AssertionError("%r never came: %r" % (text, out[-5:]))
        until("m250")
        first_round = len(inbox.bodies)
        assert first_round == 3  # 100 a page, ascending
        deadline = time.monotonic() + 30
        while len(inbox.bodies) < first_round + 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        polls = inbox.bodies[first_round:first_round + 3]
        assert [b["order"] for b in polls] == ["DESC"] * 3
        assert not any("before_id" in b or "since_id" in b for b in polls)
        inbox.add(300, 245)  # 245: below ids shown already, it committed late
        until("m300")
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=10)
        out += rest.decode().splitlines()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    texts = [line for line in out if line.startswith("m")]
    assert texts == ["m%d" % i for i in range(1, 251) if i != 245] + ["m245", "m300"]


def test_watch_reads_a_full_round_when_more_is_new_than_a_poll_reads(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    inbox = FakeInbox(cli, fake, [1])
    p = cli.popen("watch", "--interval", "1")
    try:
        assert p.stdout.readline().startswith(b"--- #1 ")
        assert p.stdout.readline() == b"m1\n"
        inbox.add(*range(2, 700))  # more than 5 pages of 100
        seen = []
        deadline = time.monotonic() + 60
        while len(seen) < 698 and time.monotonic() < deadline:
            line = p.stdout.readline().decode()
            if line.startswith("m"):
                seen.append(line.strip())
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert seen == ["m%d" % i for i in range(2, 700)]


def test_watch_is_not_driven_into_a_loop_by_events_that_always_answer(cli, fake):
    """A server whose /events answers at once, every time, with junk: watch
    reads at most a few times a second, shows each message once, and a
    SIGINT still ends it at once."""
    registered(cli, fake, fetch_token="T" * 64)
    inbox = FakeInbox(cli, fake, [1])
    fake.reply("GET", "/events", 200, b"\x00\xff not an event" * 10)
    p = cli.popen("watch", "--interval", "600")
    try:
        time.sleep(2.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert [line for line in out.decode().splitlines() if line.startswith("m")] == ["m1"]
    assert 2 <= len(inbox.bodies) <= 12, len(inbox.bodies)
    events = [q for q in fake.paths() if q.startswith("/events")]
    assert events and all(q.startswith("/events?link_token=") for q in events)
