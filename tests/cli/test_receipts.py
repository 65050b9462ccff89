"""Receipts, replies and padded envelopes (docs/RECEIPTS.md) through the
CLI against the real stack, each step checked with the PyNaCl reference
(tests/lib/envelope.py): what `send` stores, what `receipt` shows, the
owner's `reply`, the sender's `answer`, and plain inboxes as before."""

import json
import re
import time

import requests

import envelope
from conftest import Cli, b64, link_parts
from sdclient import Recipient

RECEIPT = re.compile(r"^receipt: (\S+)/r#([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$")


def envelope_inbox(srv, *caps):
    """A PyNaCl recipient whose inbox takes envelopes."""
    return Recipient(srv.url, capabilities=["envelope-v1"] + list(caps))


def send(cli, link, text):
    """CLI send; (message id, R bytes, the receipt link) - R None when the
    output has no receipt line."""
    out = cli("send", link, text).stdout.decode().splitlines()
    m = re.match(r"^sent \(id (\d+)\)$", out[0])
    assert m, out
    if len(out) == 1:
        return int(m.group(1)), None, None
    assert len(out) == 2, out
    r = RECEIPT.match(out[1])
    assert r, out
    return int(m.group(1)), envelope.unb64url(r.group(2)), out[1].split(" ", 1)[1]


def stored(rcpt, mid):
    data = rcpt.fetch().json()["data"]
    return next(m for m in data if m["id"] == mid)


def receipt_json(cli, receipt, check=True):
    r = cli("receipt", receipt, "--json", check=check)
    return json.loads(r.stdout) if r.returncode == 0 else r


def wait_status(cli, receipt, status, timeout=15):
    """The receipt's JSON once its first message shows status; statuses
    are released every second or so (SEALDROP_STATUS_INTERVAL=1)."""
    end = time.time() + timeout
    while True:
        doc = receipt_json(cli, receipt)
        if doc["status"] == status or time.time() > end:
            return doc
        time.sleep(0.3)


def owner_reply(srv, rcpt, mid, sealed):
    """POST /reply as the PyNaCl owner: a purpose-bound "reply" signature."""
    ch = requests.post(srv.url + "/challenge_request",
                       json={"link_token": rcpt.link, "purpose": "reply"}).json()["challenge"]
    signed = "\n".join(["sealdrop-v1", "reply", srv.url, rcpt.link, ch]).encode()
    return requests.post(srv.url + "/reply", json={
        "link_token": rcpt.link, "message_id": mid, "encrypted_reply": b64(sealed),
        "challenge": ch, "challenge_signature": b64(rcpt.sk.sign(signed).signature),
        "challenge_form": "sealdrop-v1"})


def test_send_to_an_envelope_inbox_pads_and_prints_a_receipt(cli, srv):
    rcpt = envelope_inbox(srv)
    for text, size in (("hi ✓", 1024), ("x" * 2000, 4096), ("y" * 16300, 16384)):
        mid, r, link = send(cli, srv.url + "/l/" + rcpt.link, text)
        assert link.startswith(srv.url + "/r#")
        # K pins the key the message was sealed to: the inbox's.
        assert link.endswith("." + envelope.b64url(bytes(rcpt.sk.verify_key.to_curve25519_public_key())))
        m = stored(rcpt, mid)
        raw = envelope.unb64url(m["encrypted_message"].replace("+", "-").replace("/", "_")
                                .rstrip("="))
        assert len(raw) == size
        got, key = envelope.open_envelope(rcpt.open(m["encrypted_message"]))
        assert got == text
        assert key == envelope.reply_keypair(r)[0]
        assert m["thread_id"] == mid and m["replies"] == 0
    # 16301 bytes do not fit an envelope with a reply key: nothing is sent.
    r = cli("send", srv.url + "/l/" + rcpt.link, "z" * 16301, check=False)
    assert r.returncode == 64 and b"16300" in r.stderr
    assert len(rcpt.fetch().json()["data"]) == 3


def test_a_plain_inbox_gets_the_exact_bytes_and_no_receipt(cli, srv):
    rcpt = Recipient(srv.url)  # PyCrypt style: no capabilities
    mid, r, _ = send(cli, srv.url + "/l/" + rcpt.link, "plain ✓ \x01")
    assert r is None
    m = stored(rcpt, mid)
    assert rcpt.open(m["encrypted_message"]) == "plain ✓ \x01".encode()
    assert "thread_id" not in m
    bad = cli("send", "--receipt-file", str(cli.home) + "/rf", srv.url + "/l/" + rcpt.link, "x",
              check=False)
    assert bad.returncode == 64 and len(rcpt.fetch().json()["data"]) == 1


def test_receipt_shows_stored_then_read_after_the_release(cli, srv):
    rcpt = envelope_inbox(srv, "padded-only")
    mid, _, receipt = send(cli, srv.url + "/l/" + rcpt.link, "status please")
    doc = receipt_json(cli, receipt)
    assert doc["link_token"] == rcpt.link and doc["thread_id"] == mid
    assert doc["status"] == "stored" and doc["replies"] == []
    assert [(m["id"], m["status"]) for m in doc["messages"]] == [(mid, "stored")]
    text = cli("receipt", receipt).stdout.decode()
    assert text.startswith("thread #%d: stored" % mid), text
    assert rcpt.ack([mid]).status_code == 200
    doc = wait_status(cli, receipt, "read")
    assert doc["status"] == "read" and doc["messages"][0]["status"] == "read"


def test_reply_and_answer_make_a_thread(cli, inbox, srv):
    """The CLI on both sides: sender sends, owner replies, sender reads the
    reply and answers, owner sees the thread."""
    sender = Cli(cli.binary, cli.identity + "-sender", home=cli.home)
    mid, r, receipt = send(sender, inbox, "question ✓")
    shown = json.loads(cli("fetch", "--json").stdout)
    assert len(shown) == 1 and shown[0]["id"] == mid and shown[0]["text"] == "question ✓"
    assert shown[0]["thread_id"] == mid and shown[0]["replies"] == 0
    assert shown[0]["reply_key"] is True
    text = cli("fetch").stdout.decode()
    assert text.startswith("--- #%d " % mid) and "[thread #%d, 0 replies]" % mid in text
    assert "(can reply)" in text and "question ✓\n" in text
    out = cli("reply", str(mid), "answer \x1b[2J ✓").stdout.decode()
    assert re.match(r"^replied \(id \d+\)\n$", out), out
    doc = receipt_json(sender, receipt)
    assert [x["text"] for x in doc["replies"]] == ["answer \x1b[2J ✓"]
    text = sender("receipt", receipt).stdout.decode()
    assert "answer ?[2J ✓" in text and "\x1b" not in text
    # PyNaCl opens the stored reply with the key derived from R alone.
    got = requests.post(srv.url + "/receipt",
                        json={"receipt_auth": envelope.b64url(envelope.receipt_auth(r))}).json()
    sealed = envelope.unb64url(got["replies"][0]["encrypted_reply"].replace("+", "-")
                               .replace("/", "_").rstrip("="))
    assert len(sealed) == 1024
    assert envelope.open_envelope(envelope.unseal(sealed, envelope.reply_keypair(r)[1])) == \
        ("answer \x1b[2J ✓", None)
    # The sender answers; the owner sees it in the same thread.
    out = sender("answer", receipt, "follow-up").stdout.decode()
    aid = int(re.match(r"^sent \(id (\d+)\)\n$", out).group(1))
    shown = {m["id"]: m for m in json.loads(cli("fetch", "--all", "--json").stdout)}
    assert shown[aid]["thread_id"] == mid and shown[aid]["text"] == "follow-up"
    assert shown[aid]["reply_key"] is True and shown[mid]["replies"] == 1
    text = cli("fetch", "--all").stdout.decode()
    assert "[thread #%d, 1 reply]" % mid in text
    doc = receipt_json(sender, receipt)
    assert [m["id"] for m in doc["messages"]] == [mid, aid]
    # The owner replies to the answer too: the same receipt shows both.
    cli("reply", str(aid), "second")
    assert [x["text"] for x in receipt_json(sender, receipt)["replies"]] == \
        ["answer \x1b[2J ✓", "second"]


def test_reply_to_a_message_without_receipt_is_refused(cli, inbox, srv):
    _, token, _ = link_parts(inbox)
    key = requests.get(srv.url + "/key/" + token).json()["box_public_key"]
    from nacl.public import PublicKey, SealedBox
    import base64
    ct = SealedBox(PublicKey(base64.b64decode(key))).encrypt(b"no envelope")
    mid = requests.post(srv.url + "/send", json={"link_token": token,
                                                 "encrypted_message": b64(ct)}).json()["id"]
    r = cli("reply", str(mid), "hello?", check=False)
    assert r.returncode == 65 and b"no reply key" in r.stderr
    r = cli("reply", str(mid + 1000), "hello?", check=False)
    assert r.returncode == 64 and b"no message" in r.stderr
    # A plaintext without the envelope's first byte shows as before.
    assert json.loads(cli("fetch", "--json").stdout)[0]["text"] == "no envelope"


def test_receipt_shows_a_malformed_reply_as_unreadable(cli, srv):
    rcpt = envelope_inbox(srv)
    mid, r, receipt = send(cli, srv.url + "/l/" + rcpt.link, "hi")
    pk = envelope.reply_keypair(r)[0]
    good = envelope.envelope("fine")
    bad = bytearray(envelope.envelope("\x1b]0;evil\x07"))
    bad[-1] = 1  # padding not zero: refused, never shown
    for plain in (good, bytes(bad)):
        assert owner_reply(srv, rcpt, mid, envelope.seal(plain, pk)).status_code == 201
    res = cli("receipt", receipt, check=False)
    assert res.returncode == 65
    out = res.stdout.decode()
    assert "fine" in out and "evil" not in out and out.count(": unreadable") == 1
    res = cli("receipt", receipt, "--json", check=False)
    replies = json.loads(res.stdout)["replies"]
    assert replies[0]["text"] == "fine" and replies[1] == {
        "id": replies[1]["id"], "created_at": replies[1]["created_at"], "error": "unreadable"}


def test_receipt_file_is_private_and_never_overwritten(cli, srv, tmp_path):
    rcpt = envelope_inbox(srv)
    path = tmp_path / "receipt"
    out = cli("send", "--receipt-file", str(path), srv.url + "/l/" + rcpt.link, "kept").stdout
    assert b"r#" not in out and b"saved" in out
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    receipt = path.read_text().strip()
    assert receipt_json(cli, receipt)["status"] == "stored"
    r = cli("send", "--receipt-file", str(path), srv.url + "/l/" + rcpt.link, "again",
            check=False)
    assert r.returncode != 0 and len(rcpt.fetch().json()["data"]) == 1


def test_register_declares_envelopes_and_padded_only(cli, srv):
    cli("init")
    link = cli("register", "--server", srv.url, "--padded-only").stdout.decode().strip()
    _, token, _ = link_parts(link)
    caps = requests.get(srv.url + "/key/" + token).json()["capabilities"]
    assert set(caps) >= {"bound-signatures", "envelope-v1", "padded-only"}


def test_unknown_and_wrong_receipts(cli, srv):
    r = cli("receipt", srv.url + "/r#" + "A" * 43, check=False)
    assert r.returncode == 70 and b"404" in r.stderr
    for bad in ("nothing", srv.url + "/r#short", srv.url + "/r#" + "!" * 43):
        r = cli("receipt", bad, check=False)
        assert r.returncode == 64, bad
