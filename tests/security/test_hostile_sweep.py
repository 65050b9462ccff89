"""A malformed-input sweep: hostile bodies and headers against every
endpoint. Each hostile request gets the one exact status and JSON error code
the tables below name, whatever its Content-Type; it leaves one line in the
request log and none of its own text; and nothing stored changes."""

import json
import re
import socket
import sqlite3

import pytest
import requests

import stack
from sdclient import Recipient, b64

ENDPOINTS = ["/register", "/send", "/challenge_request", "/fetch", "/ack", "/rotate_token",
             "/unregister", "/request_message_permission", "/get_message_requests",
             "/respond_message_request"]
# The receipt endpoints' answers follow from the others' (receipt_answers).
RECEIPT_ENDPOINTS = ["/receipt", "/receipt/answer", "/reply"]
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded")

# LINK stands for a real inbox's link token, so that hostile fields next to a
# valid link are refused before anything is stored or consumed. On
# /challenge_request, where a valid link with a stray field is a fine
# request, it stands for a link token that names no inbox. KEY stands for
# that inbox's public key.
UNKNOWN_LINK = "link_" + "Z" * 32
B64_48 = b64(b"\0" * 48).encode()


def every(status, code):
    """The same answer from every endpoint."""
    return {p: (status, code) for p in ENDPOINTS}


def but(base, **answers):
    """base, with the answers of some endpoints (named without their "/")."""
    out = dict(base)
    for name, answer in answers.items():
        out["/" + name] = answer
    return out


NOT_JSON = every(400, "invalid_json")
NOT_AN_OBJECT = every(400, "invalid_body")
# No usable link_token: each endpoint stops at the first field it reads.
NO_LINK = but(every(400, "invalid_link_token"), register=(400, "invalid_public_key"),
              request_message_permission=(400, "invalid_from_link_token"))
# LINK and nothing else of use: each endpoint stops at its next field, or at
# the credentials it needs and does not get.
LINK_ONLY = {
    "/register": (400, "invalid_public_key"),
    "/send": (400, "invalid_encrypted_message"),
    "/challenge_request": (404, "unknown_link"),
    "/fetch": (401, "unauthorized"),
    "/ack": (400, "invalid_message_ids"),
    "/rotate_token": (401, "unauthorized"),
    "/unregister": (401, "unauthorized"),
    "/request_message_permission": (400, "invalid_from_link_token"),
    "/get_message_requests": (401, "unauthorized"),
    "/respond_message_request": (400, "invalid_request_id"),
}
# More than the 4 KiB body of the endpoints without a payload: refused
# unread. /send (64 KiB) and /ack (32 KiB) read it.
OVER_4K = every(413, "payload_too_large")


def case(id_, body, want):
    return pytest.param(body, want, id=id_)


CASES = [
    case("empty", b"", NOT_JSON),
    case("null", b"null", NOT_AN_OBJECT),
    case("array", b"[]", NOT_AN_OBJECT),
    case("string", b'"a string"', NOT_AN_OBJECT),
    case("number", b"123", NOT_AN_OBJECT),
    case("unclosed-object", b"{", NOT_JSON),
    case("link-number", b'{"link_token": 0}', NO_LINK),
    case("link-false", b'{"link_token": false}', NO_LINK),
    case("link-null", b'{"link_token": null}', NO_LINK),
    case("link-array", b'{"link_token": []}', NO_LINK),
    case("link-object", b'{"link_token": {}}', NO_LINK),
    case("link-too-long", b'{"link_token": "link_' + b"A" * 200 + b'"}', NO_LINK),
    case("link-path", b'{"link_token": "../../etc/passwd"}', NO_LINK),
    case("link-sql", b'{"link_token": "link_\' OR 1=1 --"}', NO_LINK),
    case("link-escaped-nul", b'{"link_token": "link_abc\\u0000def"}', NO_LINK),
    case("link-bad-utf8", b'{"link_token": "\xff\xfe"}', NOT_JSON),
    # Overlong forms, surrogates and code points above U+10FFFF: json-c's
    # own UTF-8 check lets them through; the JSON gate refuses the body.
    case("link-overlong-utf8", b'{"link_token": "\xc0\xaf"}', NOT_JSON),
    case("metadata-surrogate", b'{"link_token": "LINK", "metadata": "\xed\xa0\x80"}', NOT_JSON),
    case("name-above-10ffff", b'{"display_name": "\xf4\x90\x80\x80"}', NOT_JSON),
    case("nesting-10000-deep", b'{"a":' + b"[" * 10000 + b"]" * 10000 + b"}",
         but(OVER_4K, send=(400, "invalid_json"), ack=(400, "invalid_json"))),
    case("duplicate-link-last-wins", b'{"link_token": "LINK", "link_token": 0}', NO_LINK),
    case("limit-1e400", b'{"link_token": "LINK", "limit": 1e400}', LINK_ONLY),
    case("limit-huge", b'{"link_token": "LINK", "limit": 99999999999999999999999}', LINK_ONLY),
    case("limit-negative", b'{"link_token": "LINK", "limit": -1}', LINK_ONLY),
    case("limit-zero", b'{"link_token": "LINK", "limit": 0}', LINK_ONLY),
    case("limit-201", b'{"link_token": "LINK", "limit": 201}', LINK_ONLY),
    case("before-id-negative", b'{"link_token": "LINK", "before_id": -5}',
         but(LINK_ONLY, fetch=(400, "invalid_before_id"))),
    case("since-id-2**63", b'{"link_token": "LINK", "since_id": 9223372036854775808}',
         but(LINK_ONLY, fetch=(400, "invalid_since_id"))),
    case("ids-negative", b'{"link_token": "LINK", "message_ids": [-1]}', LINK_ONLY),
    case("ids-2**63", b'{"link_token": "LINK", "message_ids": [9223372036854775808]}', LINK_ONLY),
    case("ids-fraction", b'{"link_token": "LINK", "message_ids": [1.5]}', LINK_ONLY),
    case("ids-string-item", b'{"link_token": "LINK", "message_ids": ["1"]}', LINK_ONLY),
    case("ids-string", b'{"link_token": "LINK", "message_ids": "1,2"}', LINK_ONLY),
    case("ids-1001", b'{"link_token": "LINK", "message_ids": [' +
         b",".join(b"1" for _ in range(1001)) + b"]}", LINK_ONLY),
    case("message-not-base64", b'{"link_token": "LINK", "encrypted_message": "!!!not base64!!!"}',
         LINK_ONLY),
    case("message-3-bytes", b'{"link_token": "LINK", "encrypted_message": "AAAA"}', LINK_ONLY),
    case("message-newline", b'{"link_token": "LINK", "encrypted_message": "AAAA\\nAAAA"}',
         LINK_ONLY),
    case("message-17000-bytes", b'{"link_token": "LINK", "encrypted_message": ' +
         json.dumps(b64(b"\0" * 17000)).encode() + b"}",
         but(OVER_4K, ack=(400, "invalid_message_ids"))),
    # metadata may be any JSON value (PyCrypt stores lists too); only its size is refused.
    case("metadata-list-5000", b'{"link_token": "LINK", "encrypted_message": "' + B64_48 +
         b'", "metadata": ["' + b"x" * 5000 + b'"]}',
         but(OVER_4K, send=(413, "metadata_too_large"), ack=(400, "invalid_message_ids"))),
    case("metadata-object-5000", b'{"link_token": "LINK", "encrypted_message": "' + B64_48 +
         b'", "metadata": {"k": "' + b"x" * 5000 + b'"}}',
         but(OVER_4K, send=(413, "metadata_too_large"), ack=(400, "invalid_message_ids"))),
    case("message-number", b'{"link_token": "LINK", "encrypted_message": 12345}', LINK_ONLY),
    case("key-31-bytes", b'{"public_key": "' + b64(b"\1" * 31).encode() + b'"}', NO_LINK),
    case("key-all-zero", b'{"public_key": "' + b64(b"\0" * 32).encode() + b'"}', NO_LINK),
    case("key-not-base64", b'{"public_key": "not base64 at all"}', NO_LINK),
    case("key-number", b'{"public_key": 42}', NO_LINK),
    case("name-bell", b'{"public_key": "KEY", "display_name": "bad\\u0007name"}',
         but(NO_LINK, register=(400, "invalid_display_name"))),
    case("name-65", b'{"public_key": "KEY", "display_name": "' + b"n" * 65 + b'"}',
         but(NO_LINK, register=(400, "invalid_display_name"))),
    case("name-bidi", b'{"public_key": "KEY", "display_name": "abc\\u202edef"}',
         but(NO_LINK, register=(400, "invalid_display_name"))),
    case("key-type-rsa", b'{"public_key": "KEY", "key_type": "rsa"}',
         but(NO_LINK, register=(400, "invalid_key_type"))),
    case("box-key-33-bytes", b'{"public_key": "KEY", "box_public_key": "' +
         b64(b"\1" * 33).encode() + b'"}',
         but(NO_LINK, register=(400, "invalid_box_public_key"))),
    case("challenge-5000", b'{"link_token": "LINK", "challenge": "' + b"c" * 5000 +
         b'", "challenge_signature": "AA"}',
         but(OVER_4K, send=(400, "invalid_encrypted_message"), ack=(400, "invalid_message_ids"))),
    case("challenge-never-issued",
         b'{"link_token": "LINK", "challenge": "abc", "challenge_signature": "AAAA"}', LINK_ONLY),
    case("challenge-number",
         b'{"link_token": "LINK", "challenge": 5, "challenge_signature": "AAAA"}', LINK_ONLY),
    case("order-sideways", b'{"link_token": "LINK", "order": "SIDEWAYS"}', LINK_ONLY),
    case("include-seen-string", b'{"link_token": "LINK", "include_seen": "yes"}',
         but(LINK_ONLY, fetch=(400, "invalid_include_seen"))),
    case("delete-string", b'{"link_token": "LINK", "delete": "true", "message_ids": [1]}',
         but(LINK_ONLY, ack=(400, "invalid_delete"))),
    case("single-quotes", b"{'link_token': 'LINK'}", NOT_JSON),
    case("nan", b'{"link_token": NaN}', NOT_JSON),
    case("infinity", b'{"link_token": Infinity}', NOT_JSON),
    case("trailing-text", b'{"link_token": "LINK"} trailing', NOT_JSON),
    case("trailing-comment", b'{"link_token": "LINK"} /* comment */', NOT_JSON),
    case("byte-order-mark", b'\xef\xbb\xbf{"link_token": "LINK"}', NOT_JSON),
    case("raw-nul-in-string", b'{"link_token": "LI\x00NK"}', NOT_JSON),
    case("from-number", b'{"from_link_token": 0, "to_link_token": "LINK"}', NO_LINK),
    case("to-array", b'{"from_link_token": "LINK", "to_link_token": ["LINK"]}',
         but(NO_LINK, request_message_permission=(400, "invalid_to_link_token"))),
    case("nickname-bidi", b'{"from_link_token": "LINK", "to_link_token": "LINK", '
         b'"from_nickname": "\\u202eevil"}',
         but(NO_LINK, request_message_permission=(400, "invalid_from_nickname"))),
    case("nickname-number", b'{"from_link_token": "LINK", "to_link_token": "LINK", '
         b'"from_nickname": 7}',
         but(NO_LINK, request_message_permission=(400, "invalid_from_nickname"))),
    case("proof-without-signature", b'{"from_link_token": "LINK", "to_link_token": "LINK", '
         b'"from_challenge": "abc"}',
         but(NO_LINK, request_message_permission=(401, "unauthorized"))),
    case("proof-never-issued", b'{"from_link_token": "LINK", "to_link_token": "LINK", '
         b'"from_challenge": "abc", "from_challenge_signature": "AAAA"}',
         but(NO_LINK, request_message_permission=(401, "unauthorized"))),
    case("request-id-fraction", b'{"link_token": "LINK", "request_id": 1.5, "action": "accept"}',
         LINK_ONLY),
    case("request-id-negative", b'{"link_token": "LINK", "request_id": -1, "action": "accept"}',
         LINK_ONLY),
    case("request-id-2**63",
         b'{"link_token": "LINK", "request_id": 9223372036854775808, "action": "reject"}',
         LINK_ONLY),
    case("action-upper-case", b'{"link_token": "LINK", "request_id": 1, "action": "ACCEPT"}',
         but(LINK_ONLY, respond_message_request=(400, "invalid_action"))),
    case("request-id-string", b'{"link_token": "LINK", "request_id": "1", "action": "accept"}',
         LINK_ONLY),
    case("sender-unknown", b'{"link_token": "LINK", "encrypted_message": "' + B64_48 +
         b'", "from_link_token": "' + UNKNOWN_LINK.encode() + b'"}',
         but(LINK_ONLY, send=(404, "unknown_from_link"),
             request_message_permission=(400, "invalid_to_link_token"))),
    case("sender-without-permission", b'{"link_token": "LINK", "encrypted_message": "' + B64_48 +
         b'", "from_link_token": "LINK"}',
         but(LINK_ONLY, send=(403, "permission_required"),
             request_message_permission=(400, "invalid_to_link_token"))),
    case("sender-number", b'{"link_token": "LINK", "encrypted_message": "' + B64_48 +
         b'", "from_link_token": 0}',
         but(LINK_ONLY, send=(400, "invalid_from_link_token"))),
]


def receipt_answers(want):
    """What /receipt, /receipt/answer and /reply answer a case, from what
    the others do: no receipt_auth in any case (the first field of both
    receipt endpoints), and no message_id for /reply, which reads link_token
    first and, like /send, bodies of up to 64 KiB."""
    first = want["/fetch"]
    if first[1] in ("invalid_json", "invalid_body"):
        return {p: first for p in RECEIPT_ENDPOINTS}
    if first == (413, "payload_too_large"):
        if want["/send"] == (400, "invalid_json"):
            return {"/receipt": first, "/receipt/answer": want["/send"], "/reply": want["/send"]}
        return {"/receipt": first, "/receipt/answer": (400, "invalid_receipt_auth"),
                "/reply": (400, "invalid_message_id")}
    return {"/receipt": (400, "invalid_receipt_auth"),
            "/receipt/answer": (400, "invalid_receipt_auth"),
            "/reply": (400, "invalid_link_token") if first == (400, "invalid_link_token")
            else (400, "invalid_message_id")}


CASES = [pytest.param(p.values[0], {**p.values[1], **receipt_answers(p.values[1])}, id=p.id)
         for p in CASES]
ENDPOINTS += RECEIPT_ENDPOINTS

# The request log's one line per request (src/core/log.c).
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?P<method>[A-Z]+|-) "
                      r"(?P<route>/[a-z_]*(?:/answer)?|/key/:link_token|-) (?P<status>\d{3}) \d+us$")


def snapshot(srv):
    """Every stored row of the stack's SQLite database (the security suite's
    stack always has one: conftest.py)."""
    path = srv.sqlite_path()
    assert path, "the security suite's stack stores into its own SQLite file"
    db = sqlite3.connect(path)
    try:
        return {t: db.execute("SELECT * FROM %s ORDER BY id" % t).fetchall()
                for t in ("clients", "messages", "challenges", "message_requests", "receipts",
                          "receipt_statuses", "receipt_replies")}
    finally:
        db.close()


@pytest.fixture(scope="module")
def victim(srv):
    """An inbox holding a message and a pending request, for hostile
    requests to miss."""
    v = Recipient(srv.url)
    assert v.send(b"keep me").status_code == 201
    r = requests.post(srv.url + "/request_message_permission",
                      json={"from_link_token": Recipient(srv.url).link,
                            "to_link_token": v.link})
    assert r.status_code == 201, r.text
    return v


def fill(raw, path, victim):
    link = UNKNOWN_LINK if path == "/challenge_request" else victim.link
    return raw.replace(b"LINK", link.encode()).replace(b"KEY", b64(victim.sk.verify_key).encode())


def answer(r):
    """(status, code) of a JSON error answer; anything else is a failure."""
    assert r.headers.get("Content-Type", "").startswith("application/json"), \
        (r.status_code, r.headers.get("Content-Type"), r.text[:200])
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    return r.status_code, body.get("code")


def request_lines(log):
    return [line for line in log.splitlines()
            if line and not re.match(r"^\S+ (info|error) ", line)]


@pytest.mark.parametrize("raw,want", CASES)
def test_hostile_body_gets_its_exact_refusal_and_changes_nothing(srv, victim, raw, want):
    before = snapshot(srv)
    wrong = []
    for path in ENDPOINTS:
        body = fill(raw, path, victim)
        for ctype in CONTENT_TYPES:
            r = requests.post(srv.url + path, data=body, headers={"Content-Type": ctype})
            got = answer(r)
            if got != want[path]:
                wrong.append((path, ctype, "got", got, "want", want[path]))
    assert wrong == []
    assert snapshot(srv) == before


def test_hostile_requests_are_logged_one_line_each_without_their_text(srv, victim):
    """Every hostile body on every endpoint: the log gains exactly one line
    per request, with its method, route and the status the client got, and
    nothing of what was sent (no link token, no path, no SQL, no control
    character)."""
    start = len(srv.log())
    sent = []
    for param in CASES:
        raw = param.values[0]
        for path in ENDPOINTS:
            r = requests.post(srv.url + path, data=fill(raw, path, victim),
                              headers={"Content-Type": "application/json"})
            sent.append(("POST", path, r.status_code))
    def all_logged():
        got = request_lines(srv.log()[start:])
        return got if len(got) >= len(sent) else None

    # Each line is written just after its answer: wait for the last ones.
    lines = stack.wait_until(all_logged, timeout=10, what="%d request log lines" % len(sent))
    for line in lines:
        assert LOG_LINE.match(line), repr(line)
    logged = [(m["method"], m["route"], int(m["status"]))
              for m in map(LOG_LINE.match, lines)]
    assert sorted(logged) == sorted(sent)
    text = srv.log()[start:]
    for needle in (victim.link, UNKNOWN_LINK, "passwd", "OR 1=1", "SIDEWAYS", "<script>",
                   "\u202e", "\x00", "\x07", "nnnnnnnn", "xxxxxxxx", "cccccccc"):
        assert needle not in text, "hostile text %r in the log" % needle
    assert not any(ord(c) < 0x20 and c != "\n" for c in text)


@pytest.mark.parametrize("path", ["/fetch", "/ack"])
@pytest.mark.parametrize("auth", [
    pytest.param(lambda v: "Bearer " + "A" * 5000, id="bearer-5000"),
    pytest.param(lambda v: "Basic " + b64(b"u:p"), id="basic"),
    pytest.param(lambda v: "Bearer", id="bearer-without-token"),
    pytest.param(lambda v: "Bearer ", id="bearer-empty"),
    pytest.param(lambda v: "bearer " + v.token[:-1], id="token-cut-short"),
    pytest.param(lambda v: "Bearer " + v.token + "x", id="token-with-extra"),
    pytest.param(lambda v: "Bearer  " + v.token.upper(), id="token-upper-case"),
])
def test_bad_authorization_header_is_401_unauthorized(srv, victim, path, auth):
    before = snapshot(srv)
    body = {"link_token": victim.link}
    if path == "/ack":
        body["message_ids"] = [1]
    r = requests.post(srv.url + path, json=body, headers={"Authorization": auth(victim)})
    assert answer(r) == (401, "unauthorized"), r.text
    assert snapshot(srv) == before


def test_oversized_header_is_431_json_from_nginx(srv, victim):
    r = requests.post(srv.url + "/send", json={"link_token": victim.link},
                      headers={"X-Big": "x" * 20000})
    assert answer(r) == (431, "headers_too_large")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path,allow", [(p, "POST, OPTIONS") for p in ENDPOINTS] +
                         [("/check_contact", "POST, OPTIONS"), ("/health", "GET, OPTIONS"),
                          ("/key/" + UNKNOWN_LINK, "GET, OPTIONS")])
def test_method_no_endpoint_has_is_405_with_allow(srv, victim, method, path, allow):
    r = requests.request(method, srv.url + path, json={"link_token": victim.link})
    assert answer(r) == (405, "method_not_allowed"), (method, path)
    assert r.headers["Allow"] == allow


@pytest.mark.parametrize("path,want", [
    ("/key/../health", (200, None)),  # nginx resolves it to /health, and nothing else
    ("/key/%00", (400, "bad_request")),
    ("/key/<script>", (404, "unknown_link")),
    ("/key/" + "A" * 3000, (404, "unknown_link")),
    ("/key/link_%2e%2e", (404, "unknown_link")),
    ("/fetch/../../etc/passwd", (404, "not_found")),
    ("/%2e%2e/sealdrop.db", (400, "bad_request")),
], ids=lambda v: v[:24] if isinstance(v, str) else None)
def test_path_that_tries_to_escape_gets_json_and_no_file(srv, path, want):
    r = requests.get(srv.url + path)
    assert r.headers["Content-Type"].startswith("application/json"), (path, r.text[:100])
    body = r.json()
    assert (r.status_code, body.get("code")) == want, (path, r.status_code, body)
    if r.status_code == 200:
        assert body["status"] == "healthy"
    assert b"SQLite format" not in r.content and b"root:" not in r.content


def test_chunked_body_is_read_like_any_other(srv):
    r = requests.post(srv.url + "/send", data=iter([b'{"link_token": 0}']),
                      headers={"Content-Type": "application/json"})
    assert answer(r) == (400, "invalid_link_token")


def test_content_length_over_the_cap_is_413_unread(srv):
    before = snapshot(srv)
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(b"POST /send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 999999999\r\nConnection: close\r\n\r\n{}")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert b'"code":"payload_too_large"' in reply, reply
    assert snapshot(srv) == before
