"""A malformed-input sweep: hostile bodies and headers against every
endpoint. Every answer is a 4xx with a JSON {"error","code"} (never a 5xx),
and nothing stored changes."""

import base64
import json
import os
import socket
import sqlite3

import pytest
import requests

from conftest import Recipient

ENDPOINTS = ["/register", "/send", "/challenge_request", "/fetch", "/ack", "/rotate_token",
             "/unregister", "/request_message_permission", "/get_message_requests",
             "/respond_message_request"]

# LINK is replaced by a real inbox's link token, so that hostile fields next
# to a valid link are refused before anything is stored or consumed.
B64_48 = base64.b64encode(b"\0" * 48).decode()
HOSTILE_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"a string"',
    b"123",
    b"{",
    b'{"link_token": 0}',
    b'{"link_token": false}',
    b'{"link_token": null}',
    b'{"link_token": []}',
    b'{"link_token": {}}',
    b'{"link_token": "link_' + b"A" * 200 + b'"}',
    b'{"link_token": "../../etc/passwd"}',
    b'{"link_token": "link_\' OR 1=1 --"}',
    b'{"link_token": "link_abc\\u0000def"}',
    b'{"link_token": "\xff\xfe"}',
    b'{"link_token": "\xc0\xaf"}',
    b'{"a":' + b"[" * 10000 + b"]" * 10000 + b"}",
    b'{"link_token": "LINK", "link_token": 0}',
    b'{"link_token": "LINK", "limit": 1e400}',
    b'{"link_token": "LINK", "limit": 99999999999999999999999}',
    b'{"link_token": "LINK", "limit": -1}',
    b'{"link_token": "LINK", "limit": 0}',
    b'{"link_token": "LINK", "limit": 201}',
    b'{"link_token": "LINK", "before_id": -5}',
    b'{"link_token": "LINK", "since_id": 9223372036854775808}',
    b'{"link_token": "LINK", "message_ids": [-1]}',
    b'{"link_token": "LINK", "message_ids": [9223372036854775808]}',
    b'{"link_token": "LINK", "message_ids": [1.5]}',
    b'{"link_token": "LINK", "message_ids": ["1"]}',
    b'{"link_token": "LINK", "message_ids": "1,2"}',
    b'{"link_token": "LINK", "message_ids": [' + b",".join(b"1" for _ in range(1001)) + b"]}",
    b'{"link_token": "LINK", "encrypted_message": "!!!not base64!!!"}',
    b'{"link_token": "LINK", "encrypted_message": "AAAA"}',
    b'{"link_token": "LINK", "encrypted_message": "AAAA\\nAAAA"}',
    b'{"link_token": "LINK", "encrypted_message": ' + json.dumps(
        base64.b64encode(b"\0" * 17000).decode()).encode() + b"}",
    # metadata may be any JSON value (PyCrypt stores lists too); only its size is refused.
    b'{"link_token": "LINK", "encrypted_message": "' + B64_48.encode() +
    b'", "metadata": ["' + b"x" * 5000 + b'"]}',
    b'{"link_token": "LINK", "encrypted_message": "' + B64_48.encode() +
    b'", "metadata": {"k": "' + b"x" * 5000 + b'"}}',
    b'{"link_token": "LINK", "encrypted_message": 12345}',
    b'{"public_key": "' + base64.b64encode(b"\1" * 31) + b'"}',
    b'{"public_key": "' + base64.b64encode(b"\0" * 32) + b'"}',
    b'{"public_key": "not base64 at all"}',
    b'{"public_key": 42}',
    b'{"public_key": "KEY", "display_name": "bad\\u0007name"}',
    b'{"public_key": "KEY", "display_name": "' + b"n" * 65 + b'"}',
    b'{"public_key": "KEY", "display_name": "abc\\u202edef"}',
    b'{"public_key": "KEY", "key_type": "rsa"}',
    b'{"public_key": "KEY", "box_public_key": "' + base64.b64encode(b"\1" * 33) + b'"}',
    b'{"link_token": "LINK", "challenge": "' + b"c" * 5000 + b'", "challenge_signature": "AA"}',
    b'{"link_token": "LINK", "challenge": "abc", "challenge_signature": "AAAA"}',
    b'{"link_token": "LINK", "challenge": 5, "challenge_signature": "AAAA"}',
    b'{"link_token": "LINK", "order": "SIDEWAYS"}',
    b'{"link_token": "LINK", "include_seen": "yes"}',
    b'{"link_token": "LINK", "delete": "true", "message_ids": [1]}',
    b"{'link_token': 'LINK'}",
    b'{"link_token": NaN}',
    b'{"link_token": Infinity}',
    b'{"link_token": "LINK"} trailing',
    b'{"link_token": "LINK"} /* comment */',
    b'\xef\xbb\xbf{"link_token": "LINK"}',
    b'{"link_token": "LI\x00NK"}',
    b'{"from_link_token": 0, "to_link_token": "LINK"}',
    b'{"from_link_token": "LINK", "to_link_token": ["LINK"]}',
    b'{"from_link_token": "LINK", "to_link_token": "LINK", "from_nickname": "\\u202eevil"}',
    b'{"from_link_token": "LINK", "to_link_token": "LINK", "from_nickname": 7}',
    b'{"from_link_token": "LINK", "to_link_token": "LINK", "from_challenge": "abc"}',
    b'{"from_link_token": "LINK", "to_link_token": "LINK", "from_challenge": "abc", '
    b'"from_challenge_signature": "AAAA"}',
    b'{"link_token": "LINK", "request_id": 1.5, "action": "accept"}',
    b'{"link_token": "LINK", "request_id": -1, "action": "accept"}',
    b'{"link_token": "LINK", "request_id": 9223372036854775808, "action": "reject"}',
    b'{"link_token": "LINK", "request_id": 1, "action": "ACCEPT"}',
    b'{"link_token": "LINK", "request_id": "1", "action": "accept"}',
    b'{"link_token": "LINK", "encrypted_message": "' + B64_48.encode() +
    b'", "from_link_token": "link_' + b"Z" * 32 + b'"}',
    b'{"link_token": "LINK", "encrypted_message": "' + B64_48.encode() +
    b'", "from_link_token": "LINK"}',
    b'{"link_token": "LINK", "encrypted_message": "' + B64_48.encode() +
    b'", "from_link_token": 0}',
]


def snapshot(srv):
    """Every stored row of the stack's SQLite database."""
    path = srv.daemon_env()["SEALDROP_DB"]
    if not path.startswith("sqlite:"):
        pytest.skip("state snapshot reads the SQLite file")
    db = sqlite3.connect(path[len("sqlite:"):])
    try:
        return {t: db.execute("SELECT * FROM %s ORDER BY id" % t).fetchall()
                for t in ("clients", "messages", "challenges", "message_requests")}
    finally:
        db.close()


def assert_json_4xx(r, what):
    assert 400 <= r.status_code < 500, "%s -> %d %s" % (what, r.status_code, r.text[:200])
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], what
    assert isinstance(body.get("code"), str) and body["code"], what


def test_at_least_forty_hostile_bodies():
    assert len(HOSTILE_BODIES) >= 40


def test_hostile_bodies_against_every_endpoint(srv):
    victim = Recipient(srv.url)
    victim.send(b"keep me")
    # A pending message request, for hostile answers to miss.
    r = requests.post(srv.url + "/request_message_permission",
                      json={"from_link_token": Recipient(srv.url).link,
                            "to_link_token": victim.link})
    assert r.status_code == 201, r.text
    # Every valid credential is spent before the sweep starts, so that only
    # hostile input is in flight.
    key = base64.b64encode(bytes(victim.sk.verify_key)).decode()
    before = snapshot(srv)
    count = 0
    for raw in HOSTILE_BODIES:
        for path in ENDPOINTS:
            # A valid link with a stray field is a fine challenge request;
            # there the sweep uses a link token that names no inbox.
            link = b"link_" + b"Z" * 32 if path == "/challenge_request" else victim.link.encode()
            body = raw.replace(b"LINK", link).replace(b"KEY", key.encode())
            for ctype in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
                r = requests.post(srv.url + path, data=body, headers={"Content-Type": ctype})
                if path == "/register" and r.status_code == 201:
                    raise AssertionError("hostile register accepted: %r" % body[:80])
                assert_json_4xx(r, "%s %r" % (path, body[:60]))
                count += 1
    assert count >= 40 * len(ENDPOINTS)
    assert snapshot(srv) == before


def test_hostile_headers(srv):
    victim = Recipient(srv.url)
    victim.send(b"keep me")
    before = snapshot(srv)
    body = {"link_token": victim.link}
    cases = [
        ("Bearer " + "A" * 5000, 401),
        ("Basic " + base64.b64encode(b"u:p").decode(), 401),
        ("Bearer", 401),
        ("Bearer ", 401),
        ("bearer " + victim.token[:-1], 401),
        ("Bearer " + victim.token + "x", 401),
        ("Bearer  " + victim.token.upper(), 401),
    ]
    for auth, want in cases:
        for path in ("/fetch", "/ack"):
            b = dict(body, message_ids=[1]) if path == "/ack" else body
            r = requests.post(srv.url + path, json=b, headers={"Authorization": auth})
            assert r.status_code == want, (auth[:20], r.status_code, r.text)
            assert_json_4xx(r, auth[:20])
    # Oversized headers: nginx answers, as JSON.
    r = requests.post(srv.url + "/send", json=body, headers={"X-Big": "x" * 20000})
    assert_json_4xx(r, "oversized header")
    # Methods that no endpoint has.
    for method in ("PUT", "DELETE", "PATCH"):
        for path in ENDPOINTS + ["/health"]:
            r = requests.request(method, srv.url + path, json=body)
            assert r.status_code == 405, (method, path, r.status_code)
            assert "POST" in r.headers["Allow"] or "GET" in r.headers["Allow"]
            assert_json_4xx(r, method + path)
    # Paths that try to escape.
    for path in ("/key/../health", "/key/%00", "/key/<script>", "/key/" + "A" * 3000,
                 "/key/link_%2e%2e", "/fetch/../../etc/passwd", "/%2e%2e/sealdrop.db"):
        r = requests.get(srv.url + path)
        assert r.status_code < 500, (path, r.status_code)
        if r.status_code >= 400:
            assert r.headers["Content-Type"].startswith("application/json"), path
    # A chunked body (no Content-Length) is read like any other.
    r = requests.post(srv.url + "/send", data=iter([b'{"link_token": 0}']),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_link_token"
    # A Content-Length larger than the cap is refused unread.
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(b"POST /send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 999999999\r\nConnection: close\r\n\r\n{}")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert snapshot(srv) == before
