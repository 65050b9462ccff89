"""Receipts, replies and padded-only inboxes on the wire (docs/RECEIPTS.md,
docs/API.md). The sender and the recipient are PyNaCl clients built on
tests/lib/envelope.py, the reference implementation written from
RECEIPTS.md alone: the server's part is only to store and hand back."""

import base64
import concurrent.futures
import json
import os
import sqlite3
import time

import pytest
import requests

import envelope as ev
import stack
from sdclient import Recipient, b64
from sdclient import expect_error as err

CAPS = ["bound-signatures", "envelope-v1"]
PADDED = CAPS + ["padded-only"]


def bound(rc, purpose, http=None):
    """A challenge issued for purpose, signed in sealdrop's bound form."""
    r = (http or rc.http).post(rc.url + "/challenge_request",
                               json={"link_token": rc.link, "purpose": purpose})
    assert r.status_code == 200, r.text
    j = r.json()
    signed = "\n".join(["sealdrop-v1", purpose, j["origin"], rc.link, j["challenge"]])
    return {"challenge": j["challenge"], "challenge_form": "sealdrop-v1",
            "challenge_signature": b64(rc.sk.sign(signed.encode()).signature)}


class Sender:
    """An anonymous sender: a fresh receipt secret R per message, what RECEIPTS.md
    derives from it, and the envelope sealed to the inbox's key."""

    def __init__(self, rc, secret=None):
        self.rc = rc
        self.R = secret or os.urandom(32)
        self.auth = ev.b64url(ev.receipt_auth(self.R))
        self.receipt_id = ev.b64url(ev.receipt_id(self.R))
        self.reply_pk, self.reply_sk = ev.reply_keypair(self.R)

    def sealed(self, text):
        key = self.rc.sk.verify_key.to_curve25519_public_key().encode()
        return b64(ev.seal(ev.envelope(text, self.reply_pk), key))

    def send(self, text="hello", **extra):
        body = {"link_token": self.rc.link, "receipt_id": self.receipt_id}
        if "encrypted_message" not in extra:
            body["encrypted_message"] = self.sealed(text)
        body.update(extra)
        return requests.post(self.rc.url + "/send", json=body)

    def receipt(self):
        return requests.post(self.rc.url + "/receipt", json={"receipt_auth": self.auth})

    def answer(self, text, **extra):
        body = {"receipt_auth": self.auth}
        if "encrypted_message" not in extra:
            body["encrypted_message"] = self.sealed(text)
        body.update(extra)
        return requests.post(self.rc.url + "/receipt/answer", json=body)

    def open_reply(self, ct_b64):
        text, key = ev.open_envelope(ev.unseal(base64.b64decode(ct_b64), self.reply_sk))
        assert key is None
        return text


def read_envelope(rc, ct_b64):
    """The recipient's side: (text, reply key) of a stored message."""
    return ev.open_envelope(rc.open(ct_b64))


def reply(rc, msg_id, text=None, reply_key=None, ct=None, creds=None, **extra):
    if ct is None:
        ct = b64(ev.seal(ev.envelope(text), reply_key))
    body = {"link_token": rc.link, "message_id": msg_id, "encrypted_reply": ct}
    body.update(creds if creds is not None else bound(rc, "reply"))
    body.update(extra)
    return rc.http.post(rc.url + "/reply", json=body)


def delete(rc, ids):
    """The owner deletes: a bound-signatures inbox signs for "delete"."""
    body = {"link_token": rc.link, "message_ids": ids, "delete": True}
    body.update(bound(rc, "delete"))
    return rc.http.post(rc.url + "/ack", json=body)


def by_id(rc):
    r = rc.fetch(limit=200)
    assert r.status_code == 200, r.text
    return {m["id"]: m for m in r.json()["data"]}


@pytest.fixture
def inbox(url):
    return Recipient(url, capabilities=CAPS)


# ---- the whole conversation -------------------------------------------------

def test_receipt_reply_and_answer(inbox):
    s = Sender(inbox)
    r = s.send("hi, it is me")
    assert r.status_code == 201, r.text
    mid = r.json()["id"]

    got = s.receipt()
    assert got.status_code == 200, got.text
    j = got.json()
    assert j["link_token"] == inbox.link and j["thread_id"] == mid
    assert j["status"] == "stored"
    assert [(m["id"], m["status"]) for m in j["messages"]] == [(mid, "stored")]
    assert j["replies"] == []

    # The recipient reads the envelope and finds the reply key in it.
    m = by_id(inbox)[mid]
    assert m["thread_id"] == mid and m["replies"] == 0
    text, key = read_envelope(inbox, m["encrypted_message"])
    assert text == "hi, it is me" and key == s.reply_pk

    r = reply(inbox, mid, "got it", key)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert by_id(inbox)[mid]["replies"] == 1

    j = s.receipt().json()
    assert [x["id"] for x in j["replies"]] == [rid]
    assert s.open_reply(j["replies"][0]["encrypted_reply"]) == "got it"
    assert len(base64.b64decode(j["replies"][0]["encrypted_reply"])) == 1024

    # The sender answers through the receipt: same inbox, same thread.
    r = s.answer("thanks!")
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    m = by_id(inbox)[aid]
    assert m["thread_id"] == mid
    assert read_envelope(inbox, m["encrypted_message"]) == ("thanks!", s.reply_pk)
    j = s.receipt().json()
    assert [(x["id"], x["status"]) for x in j["messages"]] == [(mid, "stored"), (aid, "stored")]


def test_read_is_released_on_every_backend(inbox):
    """On the session's stack (SQLite, MariaDB, or a cluster with one
    instance per node, all releasing on one schedule): read shows, at a
    release after the acknowledgement."""
    s = Sender(inbox)
    mid = s.send().json()["id"]
    acked = int(time.time())
    assert inbox.ack([mid]).status_code == 200
    got = stack.wait_until(lambda: s.receipt().json()["status"] == "read" and s.receipt().json(),
                           timeout=30, what="the read to be released")
    assert got["messages"] == [{"id": mid, "status": "read", "created_at": got["messages"][0][
        "created_at"]}]
    assert got["status_released_at"] >= acked


def test_plain_messages_have_no_thread_fields(inbox):
    assert inbox.send(b"plain").status_code == 201
    (m,) = by_id(inbox).values()
    assert "thread_id" not in m and "replies" not in m


def test_answer_keeps_the_idempotency_rules(inbox):
    s = Sender(inbox)
    assert s.send().status_code == 201
    key = "answer-key-0123456789"
    first = s.answer("once", idempotency_key=key)
    assert first.status_code == 201, first.text
    again = s.answer("once", idempotency_key=key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert len(s.receipt().json()["messages"]) == 2


def test_receipt_id_is_blake2b_of_auth_as_the_vectors_say(url):
    """The server finds a receipt by the hash of receipt_auth: sent under
    the vector's receipt_id, it is found with the vector's auth."""
    with open(os.path.join(stack.ROOT, "tests", "api", "vectors", "receipts.json")) as f:
        vectors = json.load(f)
    rc = Recipient(url, capabilities=CAPS)
    try:
        for v in vectors["receipts"]:
            assert ev.b64url(ev.receipt_auth(ev.unb64url(v["R"]))) == v["auth"]
            r = rc.send(b"vector", receipt_id=v["receipt_id"])
            assert r.status_code == 201, r.text
            got = requests.post(url + "/receipt", json={"receipt_auth": v["auth"]})
            assert got.status_code == 200, got.text
            assert got.json()["thread_id"] == r.json()["id"]
            # The id itself is no auth: it hashes to something else.
            err(requests.post(url + "/receipt", json={"receipt_auth": v["receipt_id"]}),
                404, "receipt_not_found")
    finally:
        creds = bound(rc, "unregister")
        creds["link_token"] = rc.link
        assert rc.http.post(url + "/unregister", json=creds).status_code == 200
    for v in vectors["receipts"]:
        err(requests.post(url + "/receipt", json={"receipt_auth": v["auth"]}),
            404, "receipt_not_found")


def test_pycrypt_inbox_gets_exactly_what_was_sent(rcpt):
    """An inbox registered without capabilities (PyCrypt's clients): plain
    sealed text in, the same bytes out, no thread fields."""
    assert rcpt.reg["capabilities"] == []
    ct = rcpt.seal("plain, as PyCrypt sends it".encode())
    assert rcpt.http.post(rcpt.url + "/send", json={"link_token": rcpt.link,
                                                    "encrypted_message": ct}).status_code == 201
    (m,) = by_id(rcpt).values()
    assert m["encrypted_message"] == ct
    assert rcpt.open(m["encrypted_message"]) == "plain, as PyCrypt sends it".encode()
    assert set(m) == {"id", "encrypted_message", "created_at", "seen", "metadata"}
    assert requests.get(rcpt.url + "/key/" + rcpt.link).json()["capabilities"] == []


def test_receipt_allowed_for_any_inbox(rcpt):
    s = Sender(rcpt)
    r = rcpt.send(b"no envelope", receipt_id=s.receipt_id)
    assert r.status_code == 201, r.text
    assert s.receipt().json()["thread_id"] == r.json()["id"]


def test_unregister_erases_receipts(inbox):
    s = Sender(inbox)
    mid = s.send().json()["id"]
    m = by_id(inbox)[mid]
    _, key = read_envelope(inbox, m["encrypted_message"])
    assert reply(inbox, mid, "bye", key).status_code == 201
    assert s.receipt().status_code == 200
    creds = bound(inbox, "unregister")
    creds["link_token"] = inbox.link
    assert inbox.http.post(inbox.url + "/unregister", json=creds).status_code == 200
    err(s.receipt(), 404, "receipt_not_found")
    err(s.answer("anyone there?"), 404, "receipt_not_found")
    # Its receipt id is free again, as if it never existed.
    other = Recipient(inbox.url, capabilities=CAPS)
    assert Sender(other, s.R).send().status_code == 201


# ---- padded-only ------------------------------------------------------------

def test_padded_only_needs_the_envelope(url):
    from nacl.signing import SigningKey
    r = requests.post(url + "/register", json={"public_key": b64(SigningKey.generate().verify_key),
                                               "capabilities": ["padded-only"]})
    err(r, 400, "invalid_capabilities")
    rc = Recipient(url, capabilities=PADDED)
    assert rc.reg["capabilities"] == PADDED
    assert requests.get(url + "/key/" + rc.link).json()["capabilities"] == PADDED


@pytest.mark.parametrize("size", [48, 1023, 1025, 2000, 4095, 4097, 16383])
def test_padded_only_refuses_other_sizes(url, size):
    rc = Recipient(url, capabilities=PADDED)
    s = Sender(rc)
    ct = b64(os.urandom(size))
    err(requests.post(url + "/send", json={"link_token": rc.link, "encrypted_message": ct}),
        400, "not_padded")
    err(s.send(encrypted_message=ct), 400, "not_padded")
    err(s.receipt(), 404, "receipt_not_found")  # nothing stored, no receipt either
    assert by_id(rc) == {}


def test_padded_only_takes_the_buckets(url):
    rc = Recipient(url, capabilities=PADDED)
    s = Sender(rc)
    first = s.send("short")
    assert first.status_code == 201, first.text
    for text in ("x" * 2000, "y" * 10000):
        assert s.answer(text).status_code == 201
    sizes = sorted(len(base64.b64decode(m["encrypted_message"])) for m in by_id(rc).values())
    assert sizes == [1024, 4096, 16384]
    err(s.answer(None, encrypted_message=b64(os.urandom(100))), 400, "not_padded")
    assert len(by_id(rc)) == 3


def test_other_inboxes_take_any_size(inbox):
    assert inbox.send(b"x" * 100).status_code == 201


# ---- owner authentication for /reply ----------------------------------------

def test_reply_needs_a_bound_signature(inbox):
    s = Sender(inbox)
    mid = s.send().json()["id"]
    ct = b64(ev.seal(ev.envelope("r"), s.reply_pk))
    body = {"link_token": inbox.link, "message_id": mid, "encrypted_reply": ct}
    r = inbox.http.post(inbox.url + "/reply", json=body,
                        headers={"Authorization": "Bearer " + inbox.token})
    err(r, 401, "bound_signature_required")
    err(reply(inbox, mid, ct=ct, creds=inbox.signed()), 401, "bound_signature_required")
    # A signature bound to another purpose is refused too.
    err(reply(inbox, mid, ct=ct, creds=bound(inbox, "fetch")), 401)
    assert s.receipt().json()["replies"] == []
    assert reply(inbox, mid, ct=ct).status_code == 201


# ---- a private stack: the release, row counts, logs --------------------------
# Its own SQLite file, so a test can hold the release back or let it come
# (receipt_release says when the next may run, for every instance) and count
# rows; an access log, to show that receipt secrets never reach one. Its
# interval is 20 s (it wakes every 5 s): a hold of 25 s is within what the
# interval allows, so sealdropd keeps to it.
INTERVAL = 20


@pytest.fixture(scope="module")
def private():
    s = stack.Stack(threads=4, own_sqlite=True,
                    env={"SEALDROP_STATUS_INTERVAL": str(INTERVAL)},
                    extra_nginx="access_log access.log combined;")  # in the stack's dir
    s.start()
    yield s
    rc = s.stop_daemon()
    s.stop()
    assert rc == 0


class Db:
    def __init__(self, srv):
        self.path = srv.sqlite_path()

    def q(self, sql, *args):
        con = sqlite3.connect(self.path, timeout=10)
        try:
            with con:
                return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def hold_release(self):
        """No release until allow_release(): sealdropd claims the schedule
        and releases (up to 500 rows) in one transaction, so none is half
        done when this commits."""
        self.q("UPDATE receipt_release SET next_at = ? WHERE id = 1",
               int(time.time()) + INTERVAL + 5)

    def allow_release(self):
        self.q("UPDATE receipt_release SET next_at = 0 WHERE id = 1")

    def counts(self):
        return {t: self.q("SELECT COUNT(*) FROM " + t)[0][0]
                for t in ("messages", "receipts", "receipt_statuses", "receipt_replies")} | {
            "statuses": self.q("SELECT message_id, status, released FROM receipt_statuses "
                               "ORDER BY message_id"),
            "clients": self.q("SELECT link_token, msg_count, msg_bytes, capabilities "
                              "FROM clients ORDER BY id")}


@pytest.fixture
def db(private):
    return Db(private)


def statuses(s):
    j = s.receipt().json()
    return j["status"], [m["status"] for m in j["messages"]], j["status_released_at"]


def test_status_is_shown_only_at_the_release(private, db):
    rc = Recipient(private.url, capabilities=CAPS)
    s = Sender(rc)
    first = s.send("one").json()["id"]
    second = s.answer("two").json()["id"]
    created = s.receipt().json()["status_released_at"]
    db.hold_release()
    assert rc.ack([first]).status_code == 200
    assert delete(rc, [second]).status_code == 200
    # Recorded at once, shown not yet: the release is held.
    assert db.q("SELECT status, released FROM receipt_statuses WHERE message_id IN (?, ?) "
                "ORDER BY message_id", first, second) == [(1, 0), (2, 0)]
    for _ in range(3):
        assert statuses(s) == ("stored", ["stored", "stored"], created)
        time.sleep(0.5)
    before = int(time.time())
    db.allow_release()
    got = stack.wait_until(lambda: statuses(s)[0] == "read" and statuses(s),
                           what="the release to show the read")
    assert got[:2] == ("read", ["read", "deleted"])
    assert got[2] >= before
    # The next release is at least the interval away; one with nothing new
    # changes nothing for this receipt.
    assert db.q("SELECT next_at FROM receipt_release")[0][0] >= before + INTERVAL
    db.allow_release()
    stack.wait_until(lambda: db.q("SELECT next_at FROM receipt_release")[0][0] > 0,
                     what="another release")
    assert statuses(s) == got


def test_deleted_is_released_as_deleted(private, db):
    """Deleting a message keeps its status row: the receipt says deleted
    (expired, by the retention purge, is in the store contract tests)."""
    rc = Recipient(private.url, capabilities=CAPS)
    s = Sender(rc)
    mid = s.send().json()["id"]
    assert delete(rc, [mid]).status_code == 200
    assert by_id(rc) == {}
    db.allow_release()
    stack.wait_until(lambda: statuses(s)[0] == "deleted", what="deleted to be released")
    assert db.q("SELECT status, released FROM receipt_statuses WHERE message_id = ?",
                mid) == [(2, 2)]


def test_hostile_inputs_change_nothing(private, db):
    url = private.url
    rc = Recipient(url, capabilities=CAPS)
    other = Recipient(url, capabilities=CAPS)
    s = Sender(rc)
    mid = s.send().json()["id"]
    plain = rc.send(b"no receipt").json()["id"]
    theirs = Sender(other)
    their_mid = theirs.send().json()["id"]
    ct = b64(ev.seal(ev.envelope("r"), s.reply_pk))
    before = db.counts()

    cases = []
    for bad in ["", "a" * 42, "a" * 44, "a" * 42 + "+", "a" * 42 + "=", "A" * 42 + "B",
                "ä" * 43, 12, None, True, ["x"], {"a": 1}]:
        if bad is not None:  # null is no receipt_id
            cases.append(("/send", {"link_token": rc.link, "encrypted_message": rc.seal(b"x"),
                                    "receipt_id": bad}, 400, "invalid_receipt_id"))
        cases.append(("/receipt", {"receipt_auth": bad}, 400, "invalid_receipt_auth"))
        cases.append(("/receipt/answer", {"receipt_auth": bad,
                                          "encrypted_message": rc.seal(b"x")},
                      400, "invalid_receipt_auth"))
    cases += [
        ("/send", {"link_token": rc.link, "encrypted_message": rc.seal(b"x"),
                   "receipt_id": s.receipt_id}, 409, "receipt_exists"),
        ("/send", {"link_token": other.link, "encrypted_message": rc.seal(b"x"),
                   "receipt_id": s.receipt_id}, 409, "receipt_exists"),
        ("/receipt", {}, 400, "invalid_receipt_auth"),
        ("/receipt", {"receipt_auth": ev.b64url(os.urandom(32))}, 404, "receipt_not_found"),
        ("/receipt/answer", {"receipt_auth": ev.b64url(os.urandom(32)),
                             "encrypted_message": rc.seal(b"x")}, 404, "receipt_not_found"),
        ("/receipt/answer", {"receipt_auth": s.auth, "encrypted_message": "not base64!"},
         400, "invalid_encrypted_message"),
        ("/receipt/answer", {"receipt_auth": s.auth}, 400, "invalid_encrypted_message"),
        ("/receipt/answer", {"receipt_auth": s.auth, "encrypted_message": rc.seal(b"x"),
                             "idempotency_key": "short"}, 400, "invalid_idempotency_key"),
    ]
    for path, body, status, code in cases:
        err(requests.post(url + path, json=body), status, code)

    def owner(msg_id, ct=ct, **extra):
        return reply(rc, msg_id, ct=ct, **extra)

    err(owner(their_mid), 404, "message_not_found")  # never says it exists
    err(owner(10 ** 12), 404, "message_not_found")
    err(owner(plain), 409, "no_receipt")
    # Refused before the credentials are looked at (no challenge spent).
    unsigned = {"challenge": "c", "challenge_signature": "s", "challenge_form": "sealdrop-v1"}
    err(owner(mid, ct=b64(os.urandom(1000)), creds=unsigned), 400, "not_padded")
    err(owner(mid, ct=b64(os.urandom(16384 + 1)), creds=unsigned), 413)
    err(owner(mid, ct="not base64!", creds=unsigned), 400, "invalid_encrypted_reply")
    for bad in [0, -1, "1", 1.5, None, True]:
        err(owner(bad, creds=unsigned), 400, "invalid_message_id")
    err(reply(rc, mid, ct=ct, creds={}), 401, "bound_signature_required")
    assert db.counts() == before


def test_reply_flood_stops_at_the_cap(private, db):
    rc = Recipient(private.url, capabilities=CAPS)
    s = Sender(rc)
    mid = s.send().json()["id"]
    ct = b64(ev.seal(ev.envelope("again"), s.reply_pk))
    for _ in range(20):
        assert reply(rc, mid, ct=ct).status_code == 201
    before = db.counts()
    err(reply(rc, mid, ct=ct), 429, "reply_limit")
    assert db.counts() == before
    assert len(s.receipt().json()["replies"]) == 20
    assert by_id(rc)[mid]["replies"] == 20


def test_concurrent_replies_at_the_cap(url):
    """Twenty replies racing for the last few places: exactly the cap. On
    the session's stack, so with several instances on a cluster
    ($SEALDROP_DBS) the racers land on different nodes."""
    rc = Recipient(url, capabilities=CAPS)
    s = Sender(rc)
    mid = s.send().json()["id"]
    ct = b64(ev.seal(ev.envelope("race"), s.reply_pk))
    for _ in range(15):
        assert reply(rc, mid, ct=ct).status_code == 201
    creds = [bound(rc, "reply") for _ in range(5)] + \
            [bound(rc, "reply", http=stack_http(i)) for i in range(15)]
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda c: reply(rc, mid, ct=ct, creds=c).status_code, creds))
    # Exactly the places left are stored. The rest are refused: 429, or on a
    # cluster, where every racer writes the receipt's row from its own
    # node, a racer that lost certification ten times in a row gets 503
    # with Retry-After (docs/DEPLOY.md) and stored nothing either.
    assert codes.count(201) == 5, codes
    assert all(c in (429, 503) for c in codes if c != 201), codes
    if not os.environ.get("SEALDROP_DBS"):
        assert codes.count(429) == 15, codes
    assert len(s.receipt().json()["replies"]) == 20
    assert by_id(rc)[mid]["replies"] == 20


def stack_http(i):
    """A session from another loopback address: its own challenge budget."""
    from sdclient import session_from
    return session_from("127.0.%d.%d" % (i // 200 + 1, i % 200 + 2))


def test_secrets_never_reach_a_log(private, db):
    rc = Recipient(private.url, capabilities=CAPS)
    s = Sender(rc)
    mid = s.send().json()["id"]
    s.receipt()
    s.answer("x")
    _, key = read_envelope(rc, by_id(rc)[mid]["encrypted_message"])
    reply(rc, mid, "y", key)
    requests.post(private.url + "/receipt", json={"receipt_auth": s.auth[:-1] + "!"})
    err(s.send("again"), 409, "receipt_exists")  # a unique key's error quotes no value
    with open(os.path.join(private.dir, "access.log"), errors="replace") as f:
        access = f.read()
    assert "POST /receipt HTTP" in access and "POST /reply HTTP" in access  # it logs
    logs = access + private.log() + private.nginx_log()
    R = ev.b64url(s.R)
    for secret in (R, s.auth, s.receipt_id, ev.b64url(s.reply_pk), rc.link):
        assert secret not in logs


# ---- replies against the global storage bounds -------------------------------

@pytest.fixture
def watermarked():
    """A stack of its own whose disk watermark can be raised while serving."""
    s = stack.Stack(own_sqlite=True, env={"SEALDROP_MIN_FREE_BYTES": "0"}).start()
    yield s
    rc = s.stop_daemon()
    s.stop()
    assert rc == 0


def test_replies_are_refused_when_the_disk_is_full(watermarked):
    """Replies take disk like sends: the free-space watermark refuses them,
    or a flood of replies could fill what /send is kept from filling."""
    rc = Recipient(watermarked.url, capabilities=CAPS)
    s = Sender(rc)
    mid = s.send("before").json()["id"]
    watermarked.extra_env["SEALDROP_MIN_FREE_BYTES"] = str(1 << 60)
    watermarked.restart_daemon()
    r = reply(rc, mid, "a reply", s.reply_pk)
    err(r, 507, "storage_full")
    assert int(r.headers["Retry-After"]) > 0
    assert s.receipt().json()["replies"] == []
    assert by_id(rc)[mid]["replies"] == 0


def test_a_long_thread_lists_its_first_and_newest_messages(inbox):
    """Past 100 messages the receipt still shows the first (its status) and
    the newest, where statuses change, never only the oldest 100."""
    s = Sender(inbox)
    first = s.send("first").json()["id"]
    ids = [first]
    for i in range(104):
        r = s.answer("answer %d" % i)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    j = s.receipt().json()
    listed = [m["id"] for m in j["messages"]]
    assert listed == [first] + ids[-99:]
    assert j["thread_id"] == first and j["status"] == "stored"
