"""Every failure row of the API table, and the rules beside it."""

import threading

import pytest
import requests
from nacl.signing import SigningKey

from sdclient import Recipient, b64
from sdclient import expect_error as err


def test_health_answers_healthy_with_the_database_ok(url):
    r = requests.get(url + "/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy" and body["database"] == "ok"
    assert body["timestamp"].endswith("Z")
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("pk", [
    None, 0, False, [], "", "not base64!", b64(b"\1" * 31), b64(b"\1" * 33), b64(b"\0" * 32),
])
def test_register_with_a_bad_public_key_is_400(url, pk):
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
def test_register_with_a_bad_optional_field_is_400_naming_it(url, field, value, code):
    body = {"public_key": b64(SigningKey.generate().verify_key), field: value}
    err(requests.post(url + "/register", json=body), 400, code)


def test_display_name_of_64_characters_is_fine(url):
    r = Recipient(url, display_name="é" * 64)
    assert requests.get(url + "/key/" + r.link).json()["display_name"] == "é" * 64


@pytest.mark.parametrize("link", ["link_" + "A" * 32, "nonsense"])
def test_key_of_unknown_link_is_404(url, link):
    err(requests.get(url + "/key/" + link), 404, "unknown_link")


@pytest.mark.parametrize("fields,status,code", [
    ({"encrypted_message": "%%%"}, 400, "invalid_encrypted_message"),
    ({"encrypted_message": b64(b"\0" * 47)}, 400, "invalid_encrypted_message"),
    ({"encrypted_message": b64(b"\0" * 16385)}, 413, "payload_too_large"),
    ({"encrypted_message": "A" * 30000}, 413, "payload_too_large"),
    ({"encrypted_message": b64(b"\0" * 48), "metadata": {"k": "v" * 5000}}, 413,
     "metadata_too_large"),
], ids=["not-base64", "47-bytes", "16385-bytes", "30000-characters", "metadata-5000"])
def test_send_refuses_a_bad_message_and_stores_nothing(url, rcpt, fields, status, code):
    err(requests.post(url + "/send", json=dict({"link_token": rcpt.link}, **fields)), status, code)
    assert rcpt.fetch().json()["count"] == 0


@pytest.mark.parametrize("fields", [
    {"encrypted_message": b64(b"\0" * 16384)},
    {"encrypted_message": b64(b"\0" * 48)},
    {"encrypted_message": b64(b"\0" * 48), "metadata": None},
], ids=["16384-bytes", "48-bytes", "null-metadata"])
def test_send_takes_a_message_at_its_bounds(url, rcpt, fields):
    r = requests.post(url + "/send", json=dict({"link_token": rcpt.link}, **fields))
    assert r.status_code == 201, r.text
    [m] = rcpt.fetch().json()["data"]
    assert m["id"] == r.json()["id"] and m["encrypted_message"] == fields["encrypted_message"]


def test_send_to_unknown_link_is_404(url):
    err(requests.post(url + "/send", json={"link_token": "link_" + "Q" * 32,
                                           "encrypted_message": b64(b"\0" * 48)}), 404,
        "unknown_link")


@pytest.mark.parametrize("value", [0, False, None, [], {}, 1.5, "", "link_", "nolink",
                                   "link_" + "A" * 124, "link_bad*chars"])
def test_link_token_of_wrong_type_or_shape_is_400(url, value):
    for path in ("/send", "/challenge_request", "/fetch", "/ack"):
        r = requests.post(url + path, json={"link_token": value, "encrypted_message": "AAAA",
                                            "message_ids": [1]})
        err(r, 400, "invalid_link_token")


def test_challenge_request_for_unknown_link_is_404(url):
    err(requests.post(url + "/challenge_request", json={"link_token": "link_" + "Z" * 32}), 404,
        "unknown_link")


def test_sixth_unused_challenge_is_429_with_retry_after(url, rcpt):
    rs = [requests.post(url + "/challenge_request", json={"link_token": rcpt.link})
          for _ in range(6)]
    assert [r.status_code for r in rs] == [200] * 5 + [429]
    err(rs[-1], 429, "too_many_challenges")
    assert int(rs[-1].headers["Retry-After"]) > 0


def test_fetch_without_credentials_is_401(url, rcpt):
    err(requests.post(url + "/fetch", json={"link_token": rcpt.link}), 401, "unauthorized")


def test_fetch_with_another_inbox_token_is_401(url, rcpt):
    other = Recipient(url)
    err(requests.post(url + "/fetch", json={"link_token": rcpt.link},
                      headers={"Authorization": "Bearer " + other.token}), 401, "unauthorized")


def test_bad_signature_is_401_and_does_not_burn_the_challenge(url, rcpt):
    link = rcpt.link
    ch = rcpt.signed()
    bad = dict(ch, challenge_signature=b64(SigningKey.generate().sign(ch["challenge"].encode()).signature))
    err(requests.post(url + "/fetch", json=dict({"link_token": link}, **bad)), 401, "unauthorized")
    # The good one still works, once.
    assert requests.post(url + "/fetch", json=dict({"link_token": link}, **ch)).status_code == 200
    err(requests.post(url + "/fetch", json=dict({"link_token": link}, **ch)), 401, "unauthorized")


def test_challenge_of_another_inbox_is_401(url, rcpt):
    other_ch = Recipient(url).signed()
    err(requests.post(url + "/fetch", json=dict({"link_token": rcpt.link}, **other_ch)), 401,
        "unauthorized")


def test_well_signed_challenge_never_issued_is_401(url, rcpt):
    fake = {"challenge": b64(b"\7" * 32)}
    fake["challenge_signature"] = b64(rcpt.sk.sign(fake["challenge"].encode()).signature)
    err(requests.post(url + "/fetch", json=dict({"link_token": rcpt.link}, **fake)), 401,
        "unauthorized")


def test_fetch_of_unknown_link_is_404_whatever_the_token(url, rcpt):
    err(requests.post(url + "/fetch", json={"link_token": "link_" + "N" * 32},
                      headers={"Authorization": "Bearer " + rcpt.token}), 404, "unknown_link")


@pytest.mark.parametrize("field,value", [
    ("before_id", -1), ("before_id", 0), ("before_id", "1"), ("before_id", 1.5),
    ("since_id", "1"), ("since_id", -1), ("include_seen", "true"),
])
def test_bad_fetch_option_is_400_naming_it(url, rcpt, field, value):
    """limit and order never fail (test_pycrypt_rules.py); these do."""
    err(rcpt.fetch(**{field: value}), 400, "invalid_" + field)


def test_pages_follow_next_cursor_until_has_more_is_false(url, rcpt):
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


@pytest.mark.parametrize("ids,extra,code", [
    (list(range(1, 1002)), {}, "invalid_message_ids"),
    (["1"], {}, "invalid_message_ids"),
    ([1.5], {}, "invalid_message_ids"),
    ([0], {}, "invalid_message_ids"),
    ("1", {}, "invalid_message_ids"),
    (None, {}, "invalid_message_ids"),
    ("MINE", {"delete": "yes"}, "invalid_delete"),
], ids=["1001-ids", "string-id", "fraction", "zero", "string", "missing", "delete-string"])
def test_bad_ack_is_400_and_marks_nothing(url, rcpt, ids, extra, code):
    mine = rcpt.send(b"mine").json()["id"]
    body = {"link_token": rcpt.link}
    if ids is not None:
        body["message_ids"] = [mine] if ids == "MINE" else ids
    body.update(extra)
    err(requests.post(url + "/ack", json=body, headers={"Authorization": "Bearer " + rcpt.token}),
        400, code)
    assert [m["seen"] for m in rcpt.fetch().json()["data"]] == [False]


def test_ack_without_credentials_is_401(url, rcpt):
    mine = rcpt.send(b"mine").json()["id"]
    err(requests.post(url + "/ack", json={"link_token": rcpt.link, "message_ids": [mine]}), 401,
        "unauthorized")
    assert [m["seen"] for m in rcpt.fetch().json()["data"]] == [False]


def test_ack_counts_only_own_messages_once_and_deletes_them(url, rcpt):
    other = Recipient(url)
    mine = rcpt.send(b"mine").json()["id"]
    theirs = other.send(b"theirs").json()["id"]
    r = rcpt.ack([mine, theirs, mine])
    assert r.status_code == 200 and r.json()["count"] == 1
    assert other.fetch().json()["data"][0]["seen"] is False
    assert rcpt.ack(list(range(1, 1001))).status_code == 200  # 1000 is the limit
    r = rcpt.ack([mine], delete=True)
    assert r.json() == {"message": "Messages deleted", "count": 1}
    assert rcpt.fetch().json()["count"] == 0


def test_ack_takes_a_signed_challenge_instead_of_the_token(url, rcpt):
    mid = rcpt.send(b"x").json()["id"]
    r = requests.post(url + "/ack", json=dict({"link_token": rcpt.link, "message_ids": [mid]},
                                              **rcpt.signed()))
    assert r.status_code == 200 and r.json()["count"] == 1


@pytest.mark.parametrize("path", ["/register", "/send", "/challenge_request", "/fetch", "/ack"])
@pytest.mark.parametrize("body,code", [
    (b"", "invalid_json"), (b"{", "invalid_json"), (b"[]", "invalid_body"),
    (b"null", "invalid_body"), (b'"s"', "invalid_body"), (b"\xff\xfe", "invalid_json"),
    (b'{"a":' + b"[" * 1000 + b"]" * 1000 + b"}", "invalid_json"),
    (b'{"link_token":"\xc3\x28"}', "invalid_json"),
], ids=["empty", "unclosed", "array", "null", "string", "not-utf8", "nesting-1000-deep",
        "bad-utf8-in-string"])
def test_malformed_body_is_400_invalid_json_or_invalid_body(url, path, body, code):
    """invalid_json: not JSON at all; invalid_body: JSON, but not an object."""
    r = requests.post(url + path, data=body, headers={"Content-Type": "application/json"})
    err(r, 400, code)


def test_body_over_64k_is_413_json_from_nginx(url):
    r = requests.post(url + "/send", data=b"{" + b" " * 70000 + b"}",
                      headers={"Content-Type": "application/json"})
    err(r, 413, "payload_too_large")


@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("POST", "/l")])
def test_unknown_path_is_404_not_found(url, method, path):
    err(requests.request(method, url + path), 404, "not_found")


@pytest.mark.parametrize("method,path,allow", [("GET", "/send", "POST, OPTIONS"),
                                               ("POST", "/health", "GET, OPTIONS")])
def test_wrong_method_is_405_naming_the_right_one(url, method, path, allow):
    r = requests.request(method, url + path)
    err(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == allow


def test_cors_preflight_allows_post_with_authorization(url):
    r = requests.options(url + "/fetch", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]


def test_one_challenge_logs_in_once_among_twenty_concurrent_fetches(url, rcpt):
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
    err(requests.post(url + "/send", json={"link_token": rcpt.link, "encrypted_message": "AAAA"}),
        400, "invalid_encrypted_message")
    err(requests.post(url + "/send", json={"link_token": rcpt.link,
                                           "encrypted_message": b64(b"\0" * 48),
                                           "metadata": ["x" * 5000]}), 413, "metadata_too_large")
    err(rcpt.ack([ids[0]], delete="yes"), 400, "invalid_delete")
    err(rcpt.ack(["x"]), 400, "invalid_message_ids")
    err(requests.post(url + "/ack", json={"link_token": rcpt.link, "message_ids": ids}), 401,
        "unauthorized")
    err(requests.post(url + "/ack", json={"link_token": rcpt.link, "message_ids": ids,
                                          "delete": True},
                      headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    err(rcpt.fetch(before_id=0), 400, "invalid_before_id")
    err(requests.post(url + "/fetch", json=dict({"link_token": rcpt.link}, challenge="x")), 401,
        "unauthorized")
    assert rcpt.fetch().json()["data"] == before
