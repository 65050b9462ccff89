"""Receipts against a scripted fake server: every field of a /receipt
answer, /key's capabilities, the thread labels of /fetch and replies that
are not padded boxes, of the wrong type or size. The client never crashes
(the suite runs under ASan too), shows nothing it could not check, and
answers nowhere but where it should."""

import base64
import json
import os
import re

import pytest
from nacl.public import PrivateKey

import envelope
from conftest import assert_one_clean_line, b64
from hostile import TOKEN, bound_challenges, cheap_init, key_reply, registered
from test_hostile_replies import WRONG, message, no_crash, page

R = bytes(range(32))
RECEIPT_SECRET = envelope.b64url(R)


def receipt_link(fake):
    return fake.url + "/r#" + RECEIPT_SECRET


def sealed_reply(text, r=R):
    return b64(envelope.seal(envelope.envelope(text), envelope.reply_keypair(r)[0]))


def receipt_reply(**fields):
    doc = {"link_token": TOKEN, "thread_id": 5, "status": "stored",
           "status_released_at": 1764000000,
           "messages": [{"id": 5, "status": "stored", "created_at": 1764000000}],
           "replies": [{"id": 1, "encrypted_reply": sealed_reply("hello"),
                        "created_at": 1767225600}]}
    doc.update(fields)
    return doc


def test_a_good_receipt_answer_is_shown(cli, fake):
    fake.reply("POST", "/receipt", 200, receipt_reply())
    out = cli("receipt", receipt_link(fake)).stdout.decode()
    assert out == ("thread #5: stored (as of 2025-11-24T16:00:00Z)\n"
                   "message #5: stored, sent 2025-11-24T16:00:00Z\n"
                   "--- reply #1 2026-01-01T00:00:00Z\nhello\n")
    # Only auth travels: never R, nor the receipt id.
    body = fake.requests[-1][2]
    assert body == {"receipt_auth": envelope.b64url(envelope.receipt_auth(R))}
    assert RECEIPT_SECRET not in json.dumps(fake.requests) + str(fake.headers)


@pytest.mark.parametrize("field", ["link_token", "thread_id", "status", "status_released_at",
                                   "messages", "replies"])
def test_every_receipt_field_of_the_wrong_type(cli, fake, field):
    for value in WRONG + ["link_" + "A" * 200, "lost"]:
        if field == "status_released_at" and value == 0:
            continue  # a valid time
        if field in ("messages", "replies") and value == []:
            continue  # an empty list is a valid one
        fake.reply("POST", "/receipt", 200, receipt_reply(**{field: value}))
        r = cli("receipt", receipt_link(fake), check=False)
        no_crash(r)
        assert r.returncode == 70 and r.stdout == b"", (field, value)
        assert_one_clean_line(r.stderr, RECEIPT_SECRET)


@pytest.mark.parametrize("field", ["id", "status", "created_at"])
def test_every_thread_message_field_of_the_wrong_type(cli, fake, field):
    for value in WRONG:
        if field == "created_at" and value == 0 and value is not False:
            continue  # a valid time
        m = {"id": 5, "status": "read", "created_at": 1}
        m[field] = value
        fake.reply("POST", "/receipt", 200, receipt_reply(messages=[m]))
        r = cli("receipt", receipt_link(fake), "--json", check=False)
        no_crash(r)
        assert r.returncode == 70 and r.stdout == b"", (field, value)


@pytest.mark.parametrize("size", [0, 48, 1023, 1025, 2048, 4095, 16383, 16385, 20000])
def test_a_reply_that_is_not_a_bucket_is_refused(cli, fake, size):
    reply = {"id": 1, "encrypted_reply": b64(os.urandom(size)), "created_at": 1}
    fake.reply("POST", "/receipt", 200, receipt_reply(replies=[reply]))
    r = cli("receipt", receipt_link(fake), check=False)
    no_crash(r)
    assert r.returncode == 70 and r.stdout == b""


def test_too_many_messages_or_replies_are_refused(cli, fake):
    reply = {"id": 1, "encrypted_reply": sealed_reply("x"), "created_at": 1}
    fake.reply("POST", "/receipt", 200, receipt_reply(replies=[reply] * 101))
    assert cli("receipt", receipt_link(fake), check=False).returncode == 70
    m = {"id": 5, "status": "read", "created_at": 1}
    fake.reply("POST", "/receipt", 200, receipt_reply(messages=[m] * 1001))
    assert cli("receipt", receipt_link(fake), check=False).returncode == 70
    fake.reply("POST", "/receipt", 200, receipt_reply(replies=[reply] * 100,
                                                      messages=[m] * 1000))
    assert cli("receipt", receipt_link(fake)).stdout.decode().count("\nx\n") == 100


def test_replies_that_do_not_open_are_unreadable_never_text(cli, fake):
    other = envelope.seal(envelope.envelope("for someone else"),
                          bytes(PrivateKey.generate().public_key))
    keyed = envelope.seal(envelope.envelope("with a key", b"k" * 32),
                          envelope.reply_keypair(R)[0])
    plain = envelope.seal(b"not an envelope".ljust(976, b"\0"), envelope.reply_keypair(R)[0])
    replies = [{"id": i + 1, "encrypted_reply": b64(c), "created_at": 1}
               for i, c in enumerate([other, keyed, plain])]
    fake.reply("POST", "/receipt", 200, receipt_reply(replies=replies))
    r = cli("receipt", receipt_link(fake), check=False)
    assert r.returncode == 65 and r.stdout.decode().count(": unreadable\n") == 3
    assert b"someone" not in r.stdout and b"with a key" not in r.stdout
    assert b"not an envelope" not in r.stdout


def test_a_receipt_for_another_link_is_refused(cli, fake):
    box = PrivateKey.generate().public_key
    link = fake.url + "/l/" + TOKEN
    fake.reply("POST", "/receipt", 200, receipt_reply(link_token="link_" + "B" * 32))
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(box)), capabilities=["envelope-v1"]))
    fake.reply("POST", "/receipt/answer", 201, {"message": "ok", "id": 9})
    r = cli("receipt", receipt_link(fake), "--link", link, check=False)
    assert r.returncode == 70 and b"another inbox" in r.stderr
    r = cli("answer", receipt_link(fake), "hi", "--link", link, check=False)
    assert r.returncode == 70 and "/receipt/answer" not in fake.paths()
    # Without --link, the answer goes to the inbox the receipt names.
    fake.reply("POST", "/receipt", 200, receipt_reply())
    assert cli("answer", receipt_link(fake), "hi").stdout == b"sent (id 9)\n"
    assert fake.paths()[-2:] == ["/key/" + TOKEN, "/receipt/answer"]


def test_an_answer_is_a_padded_envelope_with_the_receipts_key(cli, fake):
    box = PrivateKey.generate()
    fake.reply("POST", "/receipt", 200, receipt_reply())
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(box.public_key)),
                                         capabilities=["envelope-v1", 7, None]))
    answers = iter([(503, {"error": "down"})])

    def answer(path, body):
        status, reply = next(answers, (201, {"message": "ok", "id": 9}))
        return status, {}, reply
    fake.route("POST", "/receipt/answer", answer)
    cli("answer", receipt_link(fake), "more ✓")
    bodies = [b for m, p, b in fake.requests if p == "/receipt/answer"]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert bodies[0]["receipt_auth"] == envelope.b64url(envelope.receipt_auth(R))
    sealed = base64.b64decode(bodies[0]["encrypted_message"])
    assert len(sealed) == 1024
    assert envelope.open_envelope(envelope.unseal(sealed, bytes(box))) == \
        ("more ✓", envelope.reply_keypair(R)[0])


@pytest.mark.parametrize("caps", ["envelope-v1", {"envelope-v1": True}, 1,
                                  ["envelope-v1"] * 33])
def test_capabilities_that_are_not_a_short_list_send_nothing(cli, fake, caps):
    fake.reply("GET", "/key/", 200, dict(key_reply(os.urandom(32)), capabilities=caps))
    fake.reply("POST", "/send", 201, {"message": "ok", "id": 1})
    r = cli("send", fake.url + "/l/" + TOKEN, "hi", check=False)
    no_crash(r)
    assert r.returncode == 70 and "/send" not in fake.paths()


def test_send_to_an_envelope_inbox_sends_a_receipt_id(cli, fake):
    box = PrivateKey.generate()
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(box.public_key)),
                                         capabilities=[None, "envelope-v1"]))
    fake.reply("POST", "/send", 201, {"message": "ok", "id": 3})
    out = cli("send", fake.url + "/l/" + TOKEN, "hi").stdout.decode().splitlines()
    r = envelope.unb64url(re.match(r"^receipt: .*/r#(\S{43})\.\S{43}$", out[1]).group(1))
    body = fake.requests[-1][2]
    assert body["receipt_id"] == envelope.b64url(envelope.receipt_id(r))
    plain = envelope.unseal(base64.b64decode(body["encrypted_message"]), bytes(box))
    assert envelope.open_envelope(plain) == ("hi", envelope.reply_keypair(r)[0])


@pytest.mark.parametrize("field", ["thread_id", "replies"])
def test_thread_labels_of_the_wrong_type_are_left_out(cli, fake, field):
    registered(cli, fake, fetch_token="T" * 64)
    for value in WRONG:
        fields = {"thread_id": 1, "replies": 2}
        fields[field] = value
        fake.reply("POST", "/fetch", 200, page(message(cli, "hi", **fields)))
        r = cli("fetch", "--json", check=False)
        no_crash(r)
        assert r.returncode == 0
        shown = json.loads(r.stdout)[0]
        if field == "thread_id":
            assert "thread_id" not in shown and "replies" not in shown
        else:
            assert shown["thread_id"] == 1 and shown["replies"] == 0


def test_a_malformed_envelope_in_the_inbox_is_unreadable(cli, fake):
    registered(cli, fake, fetch_token="T" * 64)
    bad = bytearray(envelope.envelope("\x1b[2Jhidden"))
    bad[1] = 0x80  # an unknown flag
    fake.reply("POST", "/fetch", 200, page(message(cli, bytes(bad))))
    r = cli("fetch", check=False)
    assert r.returncode == 65 and b"hidden" not in r.stdout
    assert b"unreadable" in r.stdout


def test_a_server_from_before_receipts_gets_an_inbox_without_envelopes(cli, fake):
    """400 invalid_capabilities to envelope-v1: registered again without it,
    once, with a warning; with --padded-only nothing is retried."""
    cli("init")

    def register(path, body):
        if set(body["capabilities"]) - {"bound-signatures"}:
            return 400, {}, {"error": "unknown capability", "code": "invalid_capabilities"}
        return 201, {}, {"link_token": TOKEN}
    fake.route("POST", "/register", register)
    r = cli("register", "--server", fake.url, "--padded-only", check=False)
    assert r.returncode == 70 and len(fake.requests) == 1
    r = cli("register", "--server", fake.url)
    assert r.stdout.decode().startswith(fake.url + "/l/" + TOKEN + "#")
    assert b"without receipts" in r.stderr
    sent = [b["capabilities"] for m, p, b in fake.requests if p == "/register"]
    assert sent == [["bound-signatures", "envelope-v1", "padded-only"],
                    ["bound-signatures", "envelope-v1"], ["bound-signatures"]]


def pinned_link(fake, key):
    """The receipt link as send prints it: R and the inbox key K."""
    return receipt_link(fake) + "." + envelope.b64url(key)


def test_send_prints_a_receipt_that_pins_the_key_it_sealed_to(cli, fake):
    box = PrivateKey.generate()
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(box.public_key)),
                                         capabilities=["envelope-v1"]))
    fake.reply("POST", "/send", 201, {"message": "ok", "id": 3})
    out = cli("send", fake.url + "/l/" + TOKEN, "hi").stdout.decode().splitlines()
    m = re.match(r"^receipt: (\S+)/r#([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$", out[1])
    assert m and m.group(1) == fake.url, out
    assert envelope.unb64url(m.group(3)) == bytes(box.public_key)


def test_answer_refuses_a_server_that_serves_another_key_than_the_receipts(cli, fake):
    """A hostile server that serves its own key would read the answer and
    the reply key inside it: with K in the receipt, nothing is sent."""
    pinned, served = PrivateKey.generate(), PrivateKey.generate()
    fake.reply("POST", "/receipt", 200, receipt_reply())
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(served.public_key)),
                                         capabilities=["envelope-v1"]))
    fake.reply("POST", "/receipt/answer", 201, {"message": "ok", "id": 9})
    r = cli("answer", pinned_link(fake, bytes(pinned.public_key)), "secret", check=False)
    assert r.returncode == 65 and r.stdout == b""
    assert b"different key than the receipt names" in r.stderr
    assert_one_clean_line(r.stderr, RECEIPT_SECRET)
    assert "/receipt/answer" not in fake.paths()
    # The pinned key served: sent to it, without a warning.
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(pinned.public_key)),
                                         capabilities=["envelope-v1"]))
    r = cli("answer", pinned_link(fake, bytes(pinned.public_key)), "secret")
    assert r.stdout == b"sent (id 9)\n" and r.stderr == b""
    sealed = base64.b64decode(fake.requests[-1][2]["encrypted_message"])
    assert envelope.open_envelope(envelope.unseal(sealed, bytes(pinned)))[0] == "secret"
    # The receipt command takes the pinned form too.
    out = cli("receipt", pinned_link(fake, bytes(pinned.public_key))).stdout.decode()
    assert out.startswith("thread #5: stored")


def test_answer_with_an_unpinned_receipt_warns(cli, fake):
    box = PrivateKey.generate()
    fake.reply("POST", "/receipt", 200, receipt_reply())
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(box.public_key)),
                                         capabilities=["envelope-v1"]))
    fake.reply("POST", "/receipt/answer", 201, {"message": "ok", "id": 9})
    r = cli("answer", receipt_link(fake), "hi")
    assert r.stdout == b"sent (id 9)\n"
    assert b"does not pin the inbox's key" in r.stderr
    assert_one_clean_line(r.stderr, RECEIPT_SECRET)


@pytest.mark.parametrize("frag", ["." + "A" * 43, "A" * 43 + ".", "A" * 43 + "." + "A" * 42,
                                  "A" * 43 + "." + "A" * 44, "A" * 43 + ":" + "A" * 43,
                                  "A" * 43 + "." + "!" * 43])
def test_a_malformed_pinned_receipt_is_a_usage_error(cli, fake, frag):
    r = cli("receipt", fake.url + "/r#" + frag, check=False)
    assert r.returncode == 64 and fake.requests == []


@pytest.mark.parametrize("text, shown", [
    ("which one?\nsecond line", "which one?"),
    ("\x1b[2Jtitle\u200b ✓\rmore", "?[2Jtitle? ✓?more"),
    ("é" * 61 + "\n", "é" * 60),
    ("", ""),
])
def test_reply_shows_what_it_answers_before_sending(cli, fake, text, shown):
    """The server picks the message behind an id, and with it the reply
    key: the owner sees its first line, escaped and cut, before sending."""
    registered(cli, fake, fetch_token="T" * 64)
    bound_challenges(fake)
    key = envelope.reply_keypair(R)[0]
    fake.reply("POST", "/fetch", 200, page(message(cli, envelope.envelope(text, key), id=7)))
    fake.reply("POST", "/reply", 201, {"message": "ok", "id": 3})
    r = cli("reply", "7", "yes")
    assert r.stdout == b"replied (id 3)\n"
    assert r.stderr.decode() == "replying to #7: %s\n" % shown


def test_padded_only_that_the_server_ignores_fails_and_says_the_inbox_exists(cli, fake):
    """A server that skips capability names it does not know registers
    without them: --padded-only then fails, saying the inbox was made."""
    cheap_init(cli)

    def register(path, body):
        return 201, {}, {"link_token": TOKEN, "box_public_key": body["box_public_key"],
                         "capabilities": ["bound-signatures"]}
    fake.route("POST", "/register", register)
    r = cli("register", "--server", fake.url, "--padded-only", check=False)
    assert r.returncode == 70
    assert r.stdout.decode().startswith(fake.url + "/l/" + TOKEN + "#")
    assert b"padded-only nor envelope-v1" in r.stderr and b"WAS created" in r.stderr
    assert b"unregister" in r.stderr
    assert_one_clean_line(r.stderr)
    assert cli.doc()["inbox"]["link_token"] == TOKEN  # kept, so it can be unregistered
    # Without --padded-only: the inbox works, a warning says it has no receipts.
    r = cli("register", "--server", fake.url, "--force")
    assert b"did not record envelope-v1" in r.stderr


@pytest.mark.parametrize("echo", [None, "padded-only", [], ["envelope-v1"]])
def test_padded_only_needs_the_echo(cli, fake, echo):
    cheap_init(cli)

    def register(path, body):
        reply = {"link_token": TOKEN, "box_public_key": body["box_public_key"]}
        if echo is not None:
            reply["capabilities"] = echo
        return 201, {}, reply
    fake.route("POST", "/register", register)
    r = cli("register", "--server", fake.url, "--padded-only", check=False)
    assert r.returncode == 70 and b"WAS created" in r.stderr


def test_capabilities_echoed_register_quietly(cli, fake):
    cheap_init(cli)

    def register(path, body):
        return 201, {}, {"link_token": TOKEN, "box_public_key": body["box_public_key"],
                         "capabilities": body["capabilities"]}
    fake.route("POST", "/register", register)
    r = cli("register", "--server", fake.url, "--padded-only")
    assert r.stderr == b""


def envelope_key(fake, caps=("envelope-v1",)):
    box = PrivateKey.generate()
    fake.reply("GET", "/key/", 200, dict(key_reply(bytes(box.public_key)), capabilities=list(caps)))
    return box


def test_send_to_an_inbox_without_envelopes_says_so(cli, fake):
    envelope_key(fake, caps=())
    fake.reply("POST", "/send", 201, {"message": "ok", "id": 1})
    r = cli("send", fake.url + "/l/" + TOKEN, "hi")
    assert r.stdout == b"sent (id 1)\n"
    assert r.stderr == (b"sealdrop: note: this inbox does not take envelopes: sent unpadded, "
                        b"without a receipt\n")
    envelope_key(fake)
    assert cli("send", fake.url + "/l/" + TOKEN, "hi").stderr == b""


def sent_receipt_id(fake):
    return [b for m, p, b in fake.requests if p == "/send"][-1]["receipt_id"]


def receipt_r(text):
    m = re.match(r"^(?:receipt: )?\S+/r#([A-Za-z0-9_-]{43})\.[A-Za-z0-9_-]{43}$", text.strip())
    assert m, text
    return envelope.unb64url(m.group(1))


def test_the_receipt_file_is_written_before_the_message_goes(cli, fake, tmp_path):
    envelope_key(fake)
    path = tmp_path / "rf"
    seen = []

    def send(p, body):
        seen.append(path.exists() and path.read_text())
        return 201, {}, {"message": "ok", "id": 4}
    fake.route("POST", "/send", send)
    r = cli("send", "--receipt-file", str(path), fake.url + "/l/" + TOKEN, "hi")
    assert r.stdout == b"sent (id 4)\nreceipt saved to %s\n" % str(path).encode()
    assert seen == [path.read_text()]
    assert envelope.b64url(envelope.receipt_id(receipt_r(seen[0]))) == sent_receipt_id(fake)


def test_a_refused_send_removes_the_receipt_file(cli, fake, tmp_path):
    envelope_key(fake)
    path = tmp_path / "rf"
    fake.reply("POST", "/send", 429, {"error": "full", "code": "inbox_full"})
    r = cli("send", "--receipt-file", str(path), fake.url + "/l/" + TOKEN, "hi", check=False)
    assert r.returncode == 70 and not path.exists() and r.stdout == b""


def test_an_unknown_outcome_keeps_the_receipt(cli, fake, tmp_path):
    """A 500 (or no answer) may have stored the message: the receipt stays,
    in the file or printed, and it is the one whose id was sent."""
    envelope_key(fake)
    fake.reply("POST", "/send", 500, {"error": "oops"})
    path = tmp_path / "rf"
    r = cli("send", "--receipt-file", str(path), fake.url + "/l/" + TOKEN, "hi", check=False)
    assert r.returncode == 70 and b"kept in " + str(path).encode() in r.stderr
    assert envelope.b64url(envelope.receipt_id(receipt_r(path.read_text()))) == \
        sent_receipt_id(fake)
    r = cli("send", fake.url + "/l/" + TOKEN, "hi", check=False)
    assert r.returncode == 70 and b"may have been stored" in r.stderr
    assert envelope.b64url(envelope.receipt_id(receipt_r(r.stdout.decode()))) == \
        sent_receipt_id(fake)
    # A 201 without a valid id: stored, so the receipt is shown too.
    fake.reply("POST", "/send", 201, {"message": "ok"})
    r = cli("send", fake.url + "/l/" + TOKEN, "hi", check=False)
    assert r.returncode == 70 and r.stdout.startswith(b"receipt: ")


def test_a_receipt_file_that_cannot_be_written_sends_nothing(cli, fake, tmp_path):
    envelope_key(fake)
    fake.reply("POST", "/send", 201, {"message": "ok", "id": 4})
    (tmp_path / "plain").write_text("x")
    r = cli("send", "--receipt-file", str(tmp_path / "plain" / "rf"), fake.url + "/l/" + TOKEN,
            "hi", check=False)
    assert r.returncode == 74 and "/send" not in fake.paths() and r.stdout == b""
    r = cli("send", "--receipt-file", str(tmp_path / "plain"), fake.url + "/l/" + TOKEN, "hi",
            check=False)
    assert r.returncode == 74 and "/send" not in fake.paths()
    assert b"exists" in r.stderr and b"--force" not in r.stderr
