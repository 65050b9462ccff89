"""Abuse resistance, round 2, on the wire: signatures bound to their
purpose, origin and inbox; capabilities an owner's client declares;
"everything up to id N" acknowledgements; idempotent sends; the global
storage bounds. Each test here failed on the code before these changes."""

import concurrent.futures

import pytest
import requests

import stack
from sdclient import Recipient, b64
from sdclient import expect_error as err

BOUND = ["bound-signatures"]


def bound(rc, purpose, origin=None, link=None, http=None):
    """A challenge issued for purpose, signed in sealdrop's bound form:
    "sealdrop-v1\\n" purpose "\\n" origin "\\n" link_token "\\n" challenge."""
    r = (http or rc.http).post(rc.url + "/challenge_request",
                               json={"link_token": rc.link, "purpose": purpose})
    assert r.status_code == 200, r.text
    j = r.json()
    signed = "\n".join(["sealdrop-v1", purpose, origin or j["origin"], link or rc.link,
                        j["challenge"]])
    return {"challenge": j["challenge"], "challenge_form": "sealdrop-v1",
            "challenge_signature": b64(rc.sk.sign(signed.encode()).signature)}


def post(rc, path, creds, **body):
    body.setdefault("link_token", rc.link)
    body.update(creds)
    return rc.http.post(rc.url + path, json=body)


def exists(rc):
    return requests.get(rc.url + "/key/" + rc.link).status_code == 200


@pytest.fixture
def owner(url):
    """An inbox whose owner's client declared bound signatures."""
    return Recipient(url, capabilities=BOUND)


# ---- challenges for a purpose ---------------------------------------------

def test_challenge_for_a_purpose_names_it_and_the_origin(rcpt, url):
    r = rcpt.http.post(url + "/challenge_request",
                       json={"link_token": rcpt.link, "purpose": "unregister"})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["purpose"] == "unregister" and j["form"] == "sealdrop-v1"
    assert j["origin"] == url  # BASE_URL's origin
    assert len(j["challenge"]) == 44
    plain = rcpt.http.post(url + "/challenge_request", json={"link_token": rcpt.link}).json()
    assert set(plain) == {"challenge", "expires_in"}  # PyCrypt's reply, unchanged


@pytest.mark.parametrize("purpose", ["UNREGISTER", "erase", "", 7, ["fetch"]])
def test_unknown_purpose_is_a_400(rcpt, url, purpose):
    r = rcpt.http.post(url + "/challenge_request",
                       json={"link_token": rcpt.link, "purpose": purpose})
    err(r, 400, "invalid_purpose")


def test_bound_signature_reads_and_marks_read(rcpt):
    rcpt.send(b"one")
    r = post(rcpt, "/fetch", bound(rcpt, "fetch"))
    assert r.status_code == 200, r.text
    mid = r.json()["data"][0]["id"]
    r = post(rcpt, "/ack", bound(rcpt, "ack"), message_ids=[mid])
    assert r.status_code == 200 and r.json()["count"] == 1


def test_signature_for_one_purpose_does_not_serve_another(owner):
    creds = bound(owner, "fetch")
    # The same bytes presented to unregister: verified against "unregister".
    err(post(owner, "/unregister", creds), 401, "unauthorized")
    assert exists(owner)
    # Signed as if for unregister, over a challenge issued for fetch: the
    # signature verifies, the challenge was not issued for that purpose.
    r = owner.http.post(owner.url + "/challenge_request",
                        json={"link_token": owner.link, "purpose": "fetch"}).json()
    text = "\n".join(["sealdrop-v1", "unregister", owner.url, owner.link, r["challenge"]])
    forged = {"challenge": r["challenge"], "challenge_form": "sealdrop-v1",
              "challenge_signature": b64(owner.sk.sign(text.encode()).signature)}
    err(post(owner, "/unregister", forged), 401, "unauthorized")
    assert exists(owner)
    # The fetch signature still does what it was made for.
    assert post(owner, "/fetch", creds).status_code == 200


def test_challenge_relayed_from_another_server_is_refused(owner):
    """A malicious server A hands its user B's challenge: the user's client
    signs naming A's origin, so B refuses it (and burns nothing)."""
    r = owner.http.post(owner.url + "/challenge_request",
                        json={"link_token": owner.link, "purpose": "unregister"}).json()
    for origin in ("https://evil.example", owner.url + "/", owner.url.replace("http:", "https:")):
        text = "\n".join(["sealdrop-v1", "unregister", origin, owner.link, r["challenge"]])
        creds = {"challenge": r["challenge"], "challenge_form": "sealdrop-v1",
                 "challenge_signature": b64(owner.sk.sign(text.encode()).signature)}
        err(post(owner, "/unregister", creds), 401, "unauthorized")
        assert exists(owner)
    text = "\n".join(["sealdrop-v1", "unregister", owner.url, owner.link, r["challenge"]])
    creds = {"challenge": r["challenge"], "challenge_form": "sealdrop-v1",
             "challenge_signature": b64(owner.sk.sign(text.encode()).signature)}
    assert post(owner, "/unregister", creds).status_code == 200
    assert not exists(owner)


def test_signature_names_the_inbox(url):
    """One key, two inboxes: a bound signature for one cannot act on the other."""
    a = Recipient(url, capabilities=BOUND)
    r = requests.post(url + "/register", json={"public_key": b64(a.sk.verify_key),
                                               "capabilities": BOUND})
    assert r.status_code == 201
    b = Recipient.__new__(Recipient)
    b.url, b.http, b.sk, b.link = url, requests.Session(), a.sk, r.json()["link_token"]
    err(post(b, "/unregister", bound(b, "unregister", link=a.link)), 401, "unauthorized")
    assert exists(b) and exists(a)
    assert post(b, "/unregister", bound(b, "unregister")).status_code == 200


def test_plain_challenge_cannot_pose_as_a_bound_one(rcpt):
    r = rcpt.http.post(rcpt.url + "/challenge_request", json={"link_token": rcpt.link}).json()
    text = "\n".join(["sealdrop-v1", "fetch", rcpt.url, rcpt.link, r["challenge"]])
    creds = {"challenge": r["challenge"], "challenge_form": "sealdrop-v1",
             "challenge_signature": b64(rcpt.sk.sign(text.encode()).signature)}
    err(post(rcpt, "/fetch", creds), 401, "unauthorized")


@pytest.mark.parametrize("form", ["sealdrop-v2", "", 1, True])
def test_unknown_form_is_refused(rcpt, form):
    creds = bound(rcpt, "fetch")
    creds["challenge_form"] = form
    err(post(rcpt, "/fetch", creds), 401, "unauthorized")


# ---- an inbox whose owner declared bound signatures -----------------------

def test_register_and_key_show_capabilities(url):
    a = Recipient(url, capabilities=BOUND + ["from-the-future"])
    assert a.reg["capabilities"] == BOUND
    assert requests.get(url + "/key/" + a.link).json()["capabilities"] == BOUND
    b = Recipient(url)
    assert b.reg["capabilities"] == []
    assert requests.get(url + "/key/" + b.link).json()["capabilities"] == []


@pytest.mark.parametrize("caps", ["bound-signatures", [1], [""], ["x" * 33], ["a"] * 17,
                                  {"bound-signatures": True}])
def test_malformed_capabilities_are_a_400(url, caps):
    from nacl.signing import SigningKey
    r = requests.post(url + "/register", json={"public_key": b64(SigningKey.generate().verify_key),
                                               "capabilities": caps})
    err(r, 400, "invalid_capabilities")


def test_pycrypt_form_cannot_erase_or_take_over_a_bound_inbox(owner):
    mid = owner.send(b"keep me").json()["id"]
    err(post(owner, "/unregister", owner.signed()), 401, "bound_signature_required")
    err(post(owner, "/rotate_token", owner.signed()), 401, "bound_signature_required")
    err(post(owner, "/ack", owner.signed(), message_ids=[mid], delete=True), 401,
        "bound_signature_required")
    # The fetch token reads and marks read, but does not delete here.
    err(owner.ack([mid], delete=True), 401, "bound_signature_required")
    assert owner.ack([mid]).json()["count"] == 1
    data = owner.fetch().json()["data"]
    assert [m["id"] for m in data] == [mid] and data[0]["seen"] is True
    # The bound form does each.
    r = post(owner, "/rotate_token", bound(owner, "rotate_token"))
    assert r.status_code == 200
    owner.token = r.json()["fetch_token"]
    r = post(owner, "/ack", bound(owner, "delete"), message_ids=[mid], delete=True)
    assert r.status_code == 200 and r.json()["count"] == 1
    assert post(owner, "/unregister", bound(owner, "unregister")).status_code == 200
    assert not exists(owner)


def test_bound_delete_needs_the_delete_purpose(owner):
    mid = owner.send(b"x").json()["id"]
    err(post(owner, "/ack", bound(owner, "ack"), message_ids=[mid], delete=True), 401)
    assert len(owner.fetch().json()["data"]) == 1


def test_inbox_without_the_capability_keeps_pycrypt_rules(rcpt):
    mid = rcpt.send(b"x").json()["id"]
    assert rcpt.ack([mid], delete=True).json()["count"] == 1  # the token deletes, as PyCrypt
    assert post(rcpt, "/rotate_token", rcpt.signed()).status_code == 200
    assert post(rcpt, "/unregister", bound(rcpt, "unregister")).status_code == 200


# ---- /ack up_to_id ---------------------------------------------------------

def test_ack_up_to_id_marks_then_deletes_exactly_those(rcpt, url):
    other = Recipient(url)
    other_id = other.send(b"theirs").json()["id"]
    ids = [rcpt.send(b"m%d" % i).json()["id"] for i in range(6)]
    r = rcpt.ack(None, up_to_id=ids[3])
    assert r.status_code == 200 and r.json()["count"] == 4
    seen = {m["id"]: m["seen"] for m in rcpt.fetch().json()["data"]}
    assert seen == {i: i <= ids[3] for i in ids}
    r = rcpt.ack(None, up_to_id=ids[3], delete=True)
    assert r.status_code == 200 and r.json()["count"] == 4
    assert sorted(m["id"] for m in rcpt.fetch().json()["data"]) == ids[4:]
    # Room came back: the counters followed the deletes.
    assert [m["id"] for m in other.fetch().json()["data"]] == [other_id]


@pytest.mark.parametrize("extra,code", [
    ({"message_ids": None}, "invalid_message_ids"),
    ({"message_ids": [1], "up_to_id": 5}, "invalid_ack"),
    ({"message_ids": None, "up_to_id": 0}, "invalid_up_to_id"),
    ({"message_ids": None, "up_to_id": "5"}, "invalid_up_to_id"),
    ({"message_ids": None, "up_to_id": -3}, "invalid_up_to_id"),
])
def test_ack_selection_errors(rcpt, extra, code):
    rcpt.send(b"x")
    body = {"link_token": rcpt.link}
    body.update({k: v for k, v in extra.items() if v is not None})
    r = rcpt.http.post(rcpt.url + "/ack", json=body,
                       headers={"Authorization": "Bearer " + rcpt.token})
    err(r, 400, code)
    assert rcpt.fetch().json()["data"][0]["seen"] is False


# ---- idempotent sends ------------------------------------------------------

KEY = "retry-me-0123456789AB"


def test_send_retried_with_its_key_is_stored_once(rcpt, url):
    first = rcpt.send(b"once", idempotency_key=KEY)
    again = rcpt.send(b"once", idempotency_key=KEY)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(rcpt.fetch().json()["data"]) == 1
    # Keys are the sender's, per inbox; case matters.
    other = Recipient(url)
    assert other.send(b"x", idempotency_key=KEY).json()["id"] != first.json()["id"]
    assert rcpt.send(b"y", idempotency_key=KEY.lower()).json()["id"] != first.json()["id"]
    assert len(rcpt.fetch().json()["data"]) == 2


def test_concurrent_retries_store_once(rcpt):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        rs = list(pool.map(lambda _: rcpt.send(b"race", http=requests.Session(),
                                               idempotency_key="raced-" + KEY), range(16)))
    assert {r.status_code for r in rs} == {201}, [r.text for r in rs]
    assert len({r.json()["id"] for r in rs}) == 1
    assert len(rcpt.fetch().json()["data"]) == 1


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space-0123456789", "é" * 16, 12345678901234567,
                                 ["k" * 16]])
def test_malformed_idempotency_key_is_a_400(rcpt, key):
    err(rcpt.send(b"x", idempotency_key=key), 400, "invalid_idempotency_key")
    assert rcpt.fetch().json()["data"] == []


# ---- global storage bounds -------------------------------------------------

@pytest.fixture
def bounded(request):
    """A stack of its own (own SQLite file) with the bounds given."""
    s = stack.Stack(own_sqlite=True, env=request.param).start()
    yield s
    rc = s.stop_daemon()
    s.stop()
    assert rc == 0


@pytest.mark.parametrize("bounded", [{"SEALDROP_MAX_INBOXES": "3"}], indirect=True)
def test_inbox_bound(bounded):
    owners = [Recipient(bounded.url) for _ in range(3)]
    from nacl.signing import SigningKey
    r = requests.post(bounded.url + "/register",
                      json={"public_key": b64(SigningKey.generate().verify_key)})
    err(r, 503, "capacity_reached")
    assert int(r.headers["Retry-After"]) > 0
    # Existing inboxes work on.
    assert owners[0].send(b"still here").status_code == 201
    assert len(owners[0].fetch().json()["data"]) == 1
    # Erasing one makes room again (after the next look at the totals).
    assert post(owners[1], "/unregister", owners[1].signed()).status_code == 200
    stack.wait_until(lambda: requests.post(
        bounded.url + "/register",
        json={"public_key": b64(SigningKey.generate().verify_key)}).status_code == 201,
        timeout=10, what="a registration to succeed after an unregister")


@pytest.mark.parametrize("bounded", [{"SEALDROP_MAX_STORED_BYTES": "2000"}], indirect=True)
def test_stored_bytes_bound(bounded):
    rc = Recipient(bounded.url)
    ids, r = [], None
    for _ in range(20):
        r = rc.send(b"p" * 200)
        if r.status_code != 201:
            break
        ids.append(r.json()["id"])
    err(r, 507, "storage_full")
    assert 3 <= len(ids) <= 6  # ~330 charged bytes each
    # Reading, marking and deleting still work when full.
    assert len(rc.fetch().json()["data"]) == len(ids)
    assert rc.ack(ids[:1]).json()["count"] == 1
    assert rc.ack(None, up_to_id=ids[-1], delete=True).json()["count"] == len(ids)
    stack.wait_until(lambda: rc.send(b"again").status_code == 201, timeout=10,
                     what="a send to succeed once the space was given back")


@pytest.mark.parametrize("bounded", [{"SEALDROP_MIN_FREE_BYTES": str(1 << 60)}], indirect=True)
def test_free_disk_watermark(bounded):
    from nacl.signing import SigningKey
    r = requests.post(bounded.url + "/register",
                      json={"public_key": b64(SigningKey.generate().verify_key)})
    err(r, 507, "storage_full")
    assert int(r.headers["Retry-After"]) > 0


@pytest.mark.parametrize("bounded", [{"SEALDROP_MIN_FREE_BYTES": "0"}], indirect=True)
def test_watermark_reached_while_serving(bounded):
    """Inboxes made before the disk filled are still read and emptied."""
    rc = Recipient(bounded.url)
    mid = rc.send(b"before").json()["id"]
    bounded.extra_env["SEALDROP_MIN_FREE_BYTES"] = str(1 << 60)
    bounded.restart_daemon()
    err(rc.send(b"after"), 507, "storage_full")
    assert [m["id"] for m in rc.fetch().json()["data"]] == [mid]
    assert rc.ack([mid], delete=True).json()["count"] == 1
    assert post(rc, "/unregister", rc.signed()).status_code == 200


def test_retry_after_a_lost_reply_keeps_order_of_arrival(rcpt):
    """The id a retry answers is the first send's, even after later sends."""
    a = rcpt.send(b"a", idempotency_key="aaaaaaaaaaaaaaaa").json()["id"]
    b = rcpt.send(b"b", idempotency_key="bbbbbbbbbbbbbbbb").json()["id"]
    assert rcpt.send(b"a", idempotency_key="aaaaaaaaaaaaaaaa").json()["id"] == a
    assert b > a
