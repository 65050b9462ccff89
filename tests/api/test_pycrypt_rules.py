"""PyCrypt's answers where a stricter server would say 400: how credentials
are judged, the lenient fetch options, the paging cursor and any-JSON
metadata. Each rule is a fact of PyCrypt's behaviour on the wire."""

import json

import pytest
import requests
from nacl.signing import SigningKey

from sdclient import Recipient, b64, expect_error


def short(v):
    """A readable test id for a long parameter."""
    return repr(v) if len(repr(v)) <= 24 else repr(v)[:16] + "..%d" % len(repr(v))


def post(url, path, body, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.post(url + path, json=body, headers=headers)


def base(rcpt, path):
    body = {"link_token": rcpt.link}
    if path == "/ack":
        body["message_ids"] = [1]
    return body


def unauthorized(r):
    expect_error(r, 401, "unauthorized")


def still_usable(url, rcpt, ch):
    """A challenge that a refused request must not have consumed."""
    r = post(url, "/fetch", dict({"link_token": rcpt.link}, **ch))
    assert r.status_code == 200, r.text


# Rule 1: credentials.

@pytest.mark.parametrize("path", ["/fetch", "/ack"])
@pytest.mark.parametrize("lone", ["challenge", "challenge_signature"])
def test_lone_challenge_field_without_bearer_is_401(url, rcpt, path, lone):
    ch = rcpt.signed()
    unauthorized(post(url, path, dict(base(rcpt, path), **{lone: ch[lone]})))
    still_usable(url, rcpt, ch)


@pytest.mark.parametrize("path", ["/fetch", "/ack"])
@pytest.mark.parametrize("lone", ["challenge", "challenge_signature"])
def test_lone_challenge_field_with_bearer_uses_the_bearer(url, rcpt, path, lone):
    ch = rcpt.signed()
    body = dict(base(rcpt, path), **{lone: ch[lone]})
    assert post(url, path, body, rcpt.token).status_code == 200
    unauthorized(post(url, path, body, "not-the-token"))
    still_usable(url, rcpt, ch)


@pytest.mark.parametrize("path", ["/fetch", "/ack"])
def test_null_challenge_fields_count_as_absent(url, rcpt, path):
    ch = rcpt.signed()
    body = dict(base(rcpt, path), challenge=None, challenge_signature=ch["challenge_signature"])
    assert post(url, path, body, rcpt.token).status_code == 200
    unauthorized(post(url, path, body))
    body = dict(base(rcpt, path), challenge=ch["challenge"], challenge_signature=None)
    assert post(url, path, body, rcpt.token).status_code == 200


@pytest.mark.parametrize("path", ["/fetch", "/ack"])
def test_both_challenge_fields_win_over_the_bearer(url, rcpt, path):
    ch = rcpt.signed()
    wrong = b64(SigningKey.generate().sign(ch["challenge"].encode()).signature)
    body = dict(base(rcpt, path), challenge=ch["challenge"], challenge_signature=wrong)
    unauthorized(post(url, path, body, rcpt.token))  # a valid token does not rescue it
    still_usable(url, rcpt, ch)
    ch = rcpt.signed()
    assert post(url, path, dict(base(rcpt, path), **ch), "not-the-token").status_code == 200


@pytest.mark.parametrize("path", ["/fetch", "/ack"])
@pytest.mark.parametrize("sig", ["%%%not base64%%%", "", b64(b"\1" * 63), b64(b"\1" * 65),
                                 b64(b"\1" * 96), "A" * 1000, 5, True, [], {}], ids=short)
def test_malformed_signature_is_401_and_burns_nothing(url, rcpt, path, sig):
    ch = rcpt.signed()
    body = dict(base(rcpt, path), challenge=ch["challenge"], challenge_signature=sig)
    unauthorized(post(url, path, body))
    unauthorized(post(url, path, body, rcpt.token))  # both present: the signature path
    still_usable(url, rcpt, ch)


@pytest.mark.parametrize("path", ["/fetch", "/ack"])
@pytest.mark.parametrize("challenge", [5, True, [], {}, "", "c" * 1000], ids=short)
def test_malformed_challenge_is_401(url, rcpt, path, challenge):
    sig = rcpt.signed()["challenge_signature"]
    unauthorized(post(url, path, dict(base(rcpt, path), challenge=challenge,
                                      challenge_signature=sig)))


def test_bad_fetch_option_is_400_before_the_challenge_is_looked_at(url, rcpt):
    ch = rcpt.signed()
    r = post(url, "/fetch", dict({"link_token": rcpt.link, "before_id": -1}, **ch))
    assert r.status_code == 400 and r.json()["code"] == "invalid_before_id"
    r = post(url, "/fetch", dict({"link_token": rcpt.link, "include_seen": "yes"}, **ch))
    assert r.status_code == 400 and r.json()["code"] == "invalid_include_seen"
    still_usable(url, rcpt, ch)


def test_ack_ids_are_checked_before_the_challenge(url, rcpt):
    ch = rcpt.signed()
    r = post(url, "/ack", dict({"link_token": rcpt.link, "message_ids": ["x"]}, **ch))
    assert r.status_code == 400 and r.json()["code"] == "invalid_message_ids"
    still_usable(url, rcpt, ch)


# Rule 2: next_cursor.

def test_next_cursor_is_the_last_id_of_every_non_empty_page(url, rcpt):
    ids = [rcpt.send(b"c%d" % i).json()["id"] for i in range(5)]
    r = rcpt.fetch(limit=2).json()
    assert r["has_more"] is True and r["next_cursor"] == ids[3]
    r = rcpt.fetch().json()  # the whole inbox on one page
    assert r["has_more"] is False and r["next_cursor"] == ids[0]
    r = rcpt.fetch(order="ASC", limit=2).json()
    assert r["has_more"] is True and r["next_cursor"] == ids[1]
    r = rcpt.fetch(order="ASC").json()
    assert r["has_more"] is False and r["next_cursor"] == ids[4]
    r = rcpt.fetch(order="ASC", since_id=ids[3]).json()
    assert [m["id"] for m in r["data"]] == [ids[4]] and r["next_cursor"] == ids[4]
    for empty in (rcpt.fetch(order="ASC", since_id=ids[4]), rcpt.fetch(before_id=ids[0]),
                  rcpt.fetch(include_seen=False, since_id=ids[4])):
        e = empty.json()
        assert e["data"] == [] and e["count"] == 0 and e["has_more"] is False
        assert e["next_cursor"] is None


# Rule 3: limit.

@pytest.fixture(scope="module")
def full(srv):
    """An inbox of 205 messages, to see limits above 200."""
    r = Recipient(srv.url)
    ids = [r.send(b"p%d" % i).json()["id"] for i in range(205)]
    return r, ids


@pytest.mark.parametrize("limit,count", [
    (500, 200), (201, 200), (200, 200), (10**30, 200), ("500", 200), ("99999999999999999999999", 200),
    (20, 20), ("20", 20), (1, 1), (0, 1), ("0", 1), (-5, 1), (-(10**30), 1),
    (5.0, 50), (1.5, 50), (True, 50), (False, 50), (None, 50), ("", 50), ("abc", 50),
    ("2.5", 50), ({}, 50), ([], 50), ([20], 50),
])
def test_limit_is_clamped_or_defaults_never_400(full, limit, count):
    r, ids = full
    got = r.fetch(limit=limit)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["count"] == count == len(body["data"])
    assert [m["id"] for m in body["data"]] == ids[::-1][:count]
    assert body["has_more"] is True
    assert body["next_cursor"] == ids[::-1][count - 1]


def test_limit_above_200_has_a_correct_has_more(full):
    r, ids = full
    body = r.fetch(limit=500, before_id=ids[200]).json()  # 200 older messages exactly
    assert body["count"] == 200 and body["has_more"] is False
    body = r.fetch(limit=500, before_id=ids[201]).json()  # 201 older
    assert body["count"] == 200 and body["has_more"] is True
    body = r.fetch(limit=500, order="ASC", since_id=ids[4]).json()  # 200 newer
    assert body["count"] == 200 and body["has_more"] is False
    assert body["next_cursor"] == ids[-1]


def test_limit_as_a_string_works_with_a_signed_challenge(full):
    r, ids = full
    got = r.fetch_signed(limit="3")
    assert got.status_code == 200 and got.json()["count"] == 3


# Rule 4: order.

@pytest.mark.parametrize("order,ascending", [
    ("ASC", True), ("asc", True), ("Asc", True),
    ("DESC", False), ("desc", False), ("sideways", False), ("", False), ("ASCENDING", False),
    (" ASC", False), (1, False), (None, False), (True, False), (["ASC"], False), ({}, False),
])
def test_order_falls_back_to_desc_never_400(url, rcpt, order, ascending):
    ids = [rcpt.send(b"o%d" % i).json()["id"] for i in range(3)]
    got = rcpt.fetch(order=order)
    assert got.status_code == 200, got.text
    assert [m["id"] for m in got.json()["data"]] == (ids if ascending else ids[::-1])


# Rule 5: since_id wins over before_id.

def test_since_id_wins_over_before_id(url, rcpt):
    ids = [rcpt.send(b"s%d" % i).json()["id"] for i in range(6)]
    got = rcpt.fetch(since_id=ids[1], before_id=ids[3]).json()
    assert [m["id"] for m in got["data"]] == ids[:1:-1]  # DESC, all above ids[1]
    got = rcpt.fetch(order="ASC", since_id=ids[1], before_id=ids[3]).json()
    assert [m["id"] for m in got["data"]] == ids[2:]
    got = rcpt.fetch(since_id=0, before_id=ids[3]).json()  # 0 is given, too
    assert [m["id"] for m in got["data"]] == ids[::-1]
    # before_id is not looked at at all then.
    got = rcpt.fetch(since_id=ids[4], before_id="junk")
    assert got.status_code == 200 and [m["id"] for m in got.json()["data"]] == [ids[5]]
    got = rcpt.fetch(before_id=ids[3]).json()  # alone, it still bounds
    assert [m["id"] for m in got["data"]] == ids[2::-1]


# Rule 6: metadata.

@pytest.mark.parametrize("meta", [
    {"sender_nick": "Bob"}, ["item1", "item2"], "a string", "", 42, 0, -1.5, 2.5e-7, True, False,
    [], {}, {"a": [1, {"b": None}], "c": "grüße ☃ \u2028 \"q\" \\"},
    123456789012345678901234567890, -98765432109876543210,
])
def test_any_json_metadata_comes_back_as_sent(url, rcpt, meta):
    r = rcpt.send(b"m", metadata=meta)
    assert r.status_code == 201, r.text
    got = rcpt.fetch().json()["data"]
    assert len(got) == 1
    assert got[0]["metadata"] == meta and type(got[0]["metadata"]) is type(meta)


def test_null_or_absent_metadata_comes_back_null(url, rcpt):
    assert rcpt.send(b"a", metadata=None).status_code == 201
    assert rcpt.send(b"b").status_code == 201
    assert [m["metadata"] for m in rcpt.fetch().json()["data"]] == [None, None]


def raw_send(url, rcpt, meta_text):
    body = '{"link_token": "%s", "encrypted_message": "%s", "metadata": %s}' % (
        rcpt.link, rcpt.seal(b"raw"), meta_text)
    return requests.post(url + "/send", data=body.encode("utf-8"),
                         headers={"Content-Type": "application/json"})


def test_metadata_cap_is_4_kib_serialized(url, rcpt):
    at_cap = json.dumps("x" * 4094)  # 4096 bytes with its quotes
    assert raw_send(url, rcpt, at_cap).status_code == 201
    r = raw_send(url, rcpt, json.dumps("x" * 4095))
    assert r.status_code == 413 and r.json()["code"] == "metadata_too_large"
    # Blanks between tokens are not part of it; blanks in strings are.
    spaced = "[ " + " ,  ".join(["1"] * 1000) + " ]"  # 2001 bytes without the blanks
    assert raw_send(url, rcpt, spaced).status_code == 201
    r = raw_send(url, rcpt, json.dumps([" " * 4093]))  # 4097 bytes
    assert r.status_code == 413 and r.json()["code"] == "metadata_too_large"
    got = [m["metadata"] for m in rcpt.fetch(order="ASC").json()["data"]]
    assert got == ["x" * 4094, [1] * 1000]


def test_metadata_is_the_last_member_of_that_name(url, rcpt):
    assert raw_send(url, rcpt, '1, "metadata": ["last"]').status_code == 201
    assert raw_send(url, rcpt, '1, "m\\u0065tadata": {"escaped": "name"}').status_code == 201
    assert raw_send(url, rcpt, '{"x": 1}, "metadata": null').status_code == 201
    got = [m["metadata"] for m in rcpt.fetch(order="ASC").json()["data"]]
    assert got == [["last"], {"escaped": "name"}, None]


def test_metadata_text_is_kept_exactly(url, rcpt):
    """The stored text is the sender's, minus blanks: numbers keep their
    spelling (1.50, 1E2), strings their escapes."""
    assert raw_send(url, rcpt, '{ "n" : 1.50 , "e": 1E2, "s": "\\u00e9\\/" }').status_code == 201
    r = rcpt.fetch()
    assert '"metadata":{"n":1.50,"e":1E2,"s":"\\u00e9\\/"}' in r.text
    assert r.json()["data"][0]["metadata"] == {"n": 1.5, "e": 100.0, "s": "é/"}
    # Raw UTF-8, four-byte characters too, stays raw UTF-8.
    assert raw_send(url, rcpt, '["grüße 🎉"]').status_code == 201
    r = rcpt.fetch()
    assert '"metadata":["grüße 🎉"]' in r.content.decode("utf-8")
    assert r.json()["data"][0]["metadata"] == ["grüße 🎉"]
