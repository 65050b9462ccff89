"""Every failure row of the API table, and the rules beside it."""

import base64
import threading

import pytest
import requests
from nacl.signing import SigningKey

from sdclient import Recipient, b64


def err(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str)
    if code:
        assert body["code"] == code, body
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_health(url):
    r = requests.get(url + "/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy" and body["database"] == "ok"
    assert body["timestamp"].endswith("Z")
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("pk", [
    None, 0, False, [], "", "not base64!", b64(b"\1" * 31), b64(b"\1" * 33), b64(b"\0" * 32),
])
def test_register_refuses_bad_keys(url, pk):
    body = {} if pk is None else {"public_key": pk}
    err(requests.post(url + "/register", json=body), 400, "invalid_public_key")


@pytest.mark.parametrize("field,value,code", [
    ("display_name", "x" * 65, "invalid_display_name"),
    ("display_name", "tab\there", "invalid_display_name"),
    ("display_name", "\u202egnp.exe", "invalid_display_name"),
    ("display_name", 7, "invalid_display_name"),
    ("key_type", "x25519", "invalid_key_type"),
    ("key_type", 1, "invalid_key_type"),
    ("box_public_key", b64(b"\1" * 16), "invalid_box_public_key"),
    ("box_public_key", True, "invalid_box_public_key"),
])
def test_register_refuses_bad_fields(url, field, value, code):
    body = {"public_key": b64(SigningKey.generate().verify_key), field: value}
    err(requests.post(url + "/register", json=body), 400, code)


def test_display_name_of_64_characters_is_fine(url):
    r = Recipient(url, display_name="é" * 64)
    assert requests.get(url + "/key/" + r.link).json()["display_name"] == "é" * 64


def test_key_unknown_link_is_404(url):
    err(requests.get(url + "/key/link_" + "A" * 32), 404, "unknown_link")
    err(requests.get(url + "/key/nonsense"), 404, "unknown_link")


def test_send_failures(url, rcpt):
    link = rcpt.link
    err(requests.post(url + "/send", json={"link_token": link, "encrypted_message": "%%%"}), 400,
        "invalid_encrypted_message")
    err(requests.post(url + "/send", json={"link_token": link,
                                           "encrypted_message": b64(b"\0" * 47)}), 400,
        "invalid_encrypted_message")
    err(requests.post(url + "/send", json={"link_token": link,
                                           "encrypted_message": b64(b"\0" * 16385)}), 413,
        "payload_too_large")
    err(requests.post(url + "/send", json={"link_token": link,
                                           "encrypted_message": "A" * 30000}), 413,
        "payload_too_large")
    assert requests.post(url + "/send", json={"link_token": link, "encrypted_message":
                                              b64(b"\0" * 16384)}).status_code == 201
    err(requests.post(url + "/send", json={"link_token": "link_" + "Q" * 32,
                                           "encrypted_message": b64(b"\0" * 48)}), 404,
        "unknown_link")
    err(requests.post(url + "/send", json={"link_token": link, "encrypted_message": b64(b"\0" * 48),
                                           "metadata": {"k": "v" * 5000}}), 413,
        "metadata_too_large")
    assert requests.post(url + "/send", json={"link_token": link, "encrypted_message":
                                              b64(b"\0" * 48), "metadata": None}).status_code == 201


@pytest.mark.parametrize("value", [0, False, None, [], {}, 1.5, "", "link_", "nolink",
                                   "link_" + "A" * 124, "link_bad*chars"])
def test_link_token_has_one_type_and_shape(url, value):
    for path in ("/send", "/challenge_request", "/fetch", "/ack"):
        r = requests.post(url + path, json={"link_token": value, "encrypted_message": "AAAA",
                                            "message_ids": [1]})
        err(r, 400, "invalid_link_token")


def test_challenge_request_failures(url, rcpt):
    err(requests.post(url + "/challenge_request", json={"link_token": "link_" + "Z" * 32}), 404,
        "unknown_link")
    codes = [requests.post(url + "/challenge_request", json={"link_token": rcpt.link}).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_fetch_auth_failures(url, rcpt):
    other = Recipient(url)
    link = rcpt.link
    err(requests.post(url + "/fetch", json={"link_token": link}), 401, "unauthorized")
    err(requests.post(url + "/fetch", json={"link_token": link},
                      headers={"Authorization": "Bearer " + other.token}), 401, "unauthorized")
    ch = rcpt.signed()
    bad = dict(ch, challenge_signature=b64(SigningKey.generate().sign(ch["challenge"].encode()).signature))
    err(requests.post(url + "/fetch", json=dict({"link_token": link}, **bad)), 401)
    # The bad signature did not burn the challenge: the good one still works once.
    assert requests.post(url + "/fetch", json=dict({"link_token": link}, **ch)).status_code == 200
    err(requests.post(url + "/fetch", json=dict({"link_token": link}, **ch)), 401)  # reused
    other_ch = other.signed()
    err(requests.post(url + "/fetch", json=dict({"link_token": link}, **other_ch)), 401)
    fake = {"challenge": b64(b"\7" * 32)}
    fake["challenge_signature"] = b64(rcpt.sk.sign(fake["challenge"].encode()).signature)
    err(requests.post(url + "/fetch", json=dict({"link_token": link}, **fake)), 401)  # never issued
    err(requests.post(url + "/fetch", json={"link_token": "link_" + "N" * 32},
                      headers={"Authorization": "Bearer " + rcpt.token}), 404, "unknown_link")


@pytest.mark.parametrize("field,value", [
    ("before_id", -1), ("before_id", 0), ("before_id", "1"), ("before_id", 1.5),
    ("since_id", "1"), ("since_id", -1), ("include_seen", "true"),
])
def test_fetch_option_failures(url, rcpt, field, value):
    """limit and order never fail (test_pycrypt_rules.py); these do."""
    err(rcpt.fetch(**{field: value}), 400, "invalid_" + field)


def test_pagination(url, rcpt):
    ids = [rcpt.send(b"m%d" % i).json()["id"] for i in range(7)]
    r = rcpt.fetch(limit=3).json()
    assert [m["id"] for m in r["data"]] == ids[::-1][:3]
    assert r["count"] == 3 and r["has_more"] is True and r["next_cursor"] == ids[4]
    r = rcpt.fetch(limit=3, before_id=r["next_cursor"]).json()
    assert [m["id"] for m in r["data"]] == ids[::-1][3:6]
    r = rcpt.fetch(limit=3, before_id=r["next_cursor"]).json()
    assert [m["id"] for m in r["data"]] == [ids[0]]
    assert r["has_more"] is False and r["next_cursor"] == ids[0]
    r = rcpt.fetch(limit=3, before_id=r["next_cursor"]).json()
    assert r["data"] == [] and r["has_more"] is False and r["next_cursor"] is None
    # Exactly a full last page: has_more is still false.
    r = rcpt.fetch(limit=7).json()
    assert r["count"] == 7 and r["has_more"] is False and r["next_cursor"] == ids[0]
    r = rcpt.fetch(order="ASC", limit=4).json()
    assert [m["id"] for m in r["data"]] == ids[:4] and r["next_cursor"] == ids[3]
    r = rcpt.fetch(order="asc", since_id=ids[3]).json()
    assert [m["id"] for m in r["data"]] == ids[4:]
    r = rcpt.fetch(limit=200).json()
    assert r["count"] == 7


def test_ack_failures_and_isolation(url, rcpt):
    other = Recipient(url)
    mine = rcpt.send(b"mine").json()["id"]
    theirs = other.send(b"theirs").json()["id"]
    err(rcpt.ack(list(range(1, 1002))), 400, "invalid_message_ids")
    err(rcpt.ack(["1"]), 400, "invalid_message_ids")
    err(rcpt.ack([1.5]), 400, "invalid_message_ids")
    err(rcpt.ack([0]), 400, "invalid_message_ids")
    err(rcpt.ack("1"), 400, "invalid_message_ids")
    err(rcpt.ack([mine], delete="yes"), 400, "invalid_delete")
    r = requests.post(url + "/ack", json={"link_token": rcpt.link})
    err(r, 400, "invalid_message_ids")
    err(requests.post(url + "/ack", json={"link_token": rcpt.link, "message_ids": [mine]}), 401)
    r = rcpt.ack([mine, theirs, mine])
    assert r.status_code == 200 and r.json()["count"] == 1
    assert other.fetch().json()["data"][0]["seen"] is False
    assert rcpt.ack(list(range(1, 1001))).status_code == 200  # 1000 is the limit
    r = rcpt.ack([mine], delete=True)
    assert r.json() == {"message": "Messages deleted", "count": 1}
    assert rcpt.fetch().json()["count"] == 0


def test_ack_with_signed_challenge(url, rcpt):
    mid = rcpt.send(b"x").json()["id"]
    r = requests.post(url + "/ack", json=dict({"link_token": rcpt.link, "message_ids": [mid]},
                                              **rcpt.signed()))
    assert r.status_code == 200 and r.json()["count"] == 1


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"null", b'"s"', b"\xff\xfe",
                                  b'{"a":' + b"[" * 1000 + b"]" * 1000 + b"}",
                                  b'{"link_token":"\xc3\x28"}'])
def test_malformed_bodies_are_400_json(url, body):
    for path in ("/register", "/send", "/challenge_request", "/fetch", "/ack"):
        r = requests.post(url + path, data=body, headers={"Content-Type": "application/json"})
        err(r, 400)
        assert r.json()["code"] in ("invalid_json", "invalid_body")


def test_body_over_64k_is_413_json_from_nginx(url):
    r = requests.post(url + "/send", data=b"{" + b" " * 70000 + b"}",
                      headers={"Content-Type": "application/json"})
    err(r, 413, "payload_too_large")


def test_unknown_path_and_wrong_method(url):
    err(requests.get(url + "/nope"), 404, "not_found")
    err(requests.post(url + "/l"), 404, "not_found")
    r = requests.get(url + "/send")
    err(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST, OPTIONS"
    r = requests.post(url + "/health")
    err(r, 405)
    assert "GET" in r.headers["Allow"]


def test_cors_preflight(url):
    r = requests.options(url + "/fetch", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]


def test_twenty_concurrent_fetches_with_one_challenge(url, rcpt):
    rcpt.send(b"x")
    body = dict({"link_token": rcpt.link}, **rcpt.signed())
    results, go = [], threading.Barrier(20)

    def one():
        s = requests.Session()
        go.wait()
        results.append(s.post(url + "/fetch", json=body).status_code)

    ts = [threading.Thread(target=one) for _ in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert sorted(results) == [200] + [401] * 19


def test_failed_requests_change_nothing(url, rcpt):
    ids = [rcpt.send(b"keep %d" % i).json()["id"] for i in range(3)]
    before = rcpt.fetch().json()["data"]
    requests.post(url + "/send", json={"link_token": rcpt.link, "encrypted_message": "AAAA"})
    requests.post(url + "/send", json={"link_token": rcpt.link, "encrypted_message": b64(b"\0" * 48),
                                       "metadata": ["x" * 5000]})
    rcpt.ack([ids[0]], delete="yes")
    rcpt.ack(["x"])
    requests.post(url + "/ack", json={"link_token": rcpt.link, "message_ids": ids})  # no auth
    requests.post(url + "/ack", json={"link_token": rcpt.link, "message_ids": ids, "delete": True},
                  headers={"Authorization": "Bearer nope"})
    rcpt.fetch(before_id=0)
    requests.post(url + "/fetch", json=dict({"link_token": rcpt.link}, challenge="x"))
    assert rcpt.fetch().json()["data"] == before
