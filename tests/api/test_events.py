"""Live events (docs/API.md "Live events"): GET /events through the real
nginx + nchan in front of sealdropd. Subscribers, as EventSource and as
long-poll, hear of each stored message within a second and learn nothing
but its id; a subscription without the owner's credential is refused at
once and nginx holds nothing for it."""

import base64
import json
import os
import queue
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

import stack
from sdclient import Recipient, b64, expect_error
from sdevents import (EventStream, auth, channel_id, publisher_request, subscribers,
                      wait_subscribers)


def send_and_hear(rcpt, es, **send_kw):
    """Send; the event that follows, and how long it took."""
    t0 = time.monotonic()
    r = rcpt.send(**send_kw)
    assert r.status_code == 201, r.text
    at, event = es.next_event(timeout=5)
    return r.json()["id"], event, at - t0


def test_eventsource_subscriber_hears_each_send_within_a_second(srv, rcpt):
    with EventStream(srv.url, rcpt.link, rcpt.token) as es:
        assert es.status == 200
        assert es.headers["Content-Type"].startswith("text/event-stream")
        wait_subscribers(srv, rcpt.link, 1)
        for _ in range(3):
            msg_id, event, took = send_and_hear(rcpt, es)
            # Content-free: the kind and the new id, nothing of the message.
            assert event == {"type": "message", "id": msg_id}
            assert took < 1.0, "event came %.3fs after the send" % took


def test_long_poll_subscriber_hears_a_send_within_a_second(srv, rcpt):
    got = {}

    def poll():
        r = requests.get(srv.url + "/events", params={"link_token": rcpt.link},
                         headers=auth(rcpt.token), timeout=90)
        got["at"], got["r"] = time.monotonic(), r

    t = threading.Thread(target=poll)
    t.start()
    wait_subscribers(srv, rcpt.link, 1)
    t0 = time.monotonic()
    r = rcpt.send()
    assert r.status_code == 201
    t.join(10)
    assert not t.is_alive(), "the long-poll did not return"
    assert got["r"].status_code == 200, got["r"].text
    assert got["r"].json() == {"type": "message", "id": r.json()["id"]}
    assert got["at"] - t0 < 1.0
    # The next poll resumes after that event (nchan's Last-Modified/Etag):
    # a message stored between two polls is not missed.
    resume = {"If-Modified-Since": got["r"].headers["Last-Modified"],
              "If-None-Match": got["r"].headers["Etag"]}
    r2 = rcpt.send()
    nxt = requests.get(srv.url + "/events", params={"link_token": rcpt.link},
                       headers=dict(auth(rcpt.token), **resume), timeout=10)
    assert nxt.status_code == 200
    assert nxt.json() == {"type": "message", "id": r2.json()["id"]}


def test_no_event_for_the_repeat_of_an_idempotent_send(srv, rcpt):
    with EventStream(srv.url, rcpt.link, rcpt.token) as es:
        wait_subscribers(srv, rcpt.link, 1)
        key = "events-test-key-0001"
        first, event, _ = send_and_hear(rcpt, es, idempotency_key=key)
        assert event["id"] == first
        again = rcpt.send(idempotency_key=key)
        assert again.status_code == 201 and again.json()["id"] == first
        # Events arrive in order: the next one is the next message's.
        other, event, _ = send_and_hear(rcpt, es)
        assert event == {"type": "message", "id": other}
        with pytest.raises(queue.Empty):
            es.next_event(timeout=0.3)


def test_a_send_naming_the_link_in_another_case_reaches_the_owners_channel(srv, rcpt):
    """MariaDB matches link tokens case-insensitively (PyCrypt's collation):
    a send spelling the link in another case lands in the inbox, and its
    event must reach the channel the owner subscribed to. SQLite compares
    exactly: there it finds no inbox and stores nothing."""
    other = "link_" + rcpt.link[5:].swapcase()
    assert other != rcpt.link
    with EventStream(srv.url, rcpt.link, rcpt.token) as es:
        wait_subscribers(srv, rcpt.link, 1)
        r = rcpt.send(link_token=other)
        if r.status_code == 404:
            assert rcpt.fetch().json()["data"] == []
            return
        assert r.status_code == 201, r.text
        _, event = es.next_event(timeout=5)
        assert event == {"type": "message", "id": r.json()["id"]}
    # And a subscription naming it in another case hears the owner's sends.
    with EventStream(srv.url, other, rcpt.token) as es:
        assert es.status == 200
        wait_subscribers(srv, rcpt.link, 1)
        r = rcpt.send()
        _, event = es.next_event(timeout=5)
        assert event == {"type": "message", "id": r.json()["id"]}


def test_inboxes_whose_links_differ_only_in_case_have_their_own_channels_on_sqlite(srv, rcpt):
    """SQLite compares link tokens exactly, so two inboxes may differ only in
    the case of their links: neither may hear the other's messages. The
    second inbox is written into the database directly (the server never
    hands out such a pair), as a copy of the first with its link's case
    swapped, so the owner's fetch token opens both."""
    path = srv.sqlite_path()
    if path is None:
        pytest.skip("SQLite only: MariaDB's collation makes the two links one inbox")
    twin = "link_" + rcpt.link[5:].swapcase()
    assert twin != rcpt.link
    con = sqlite3.connect(path, timeout=10)
    try:
        cols = [c[1] for c in con.execute("PRAGMA table_info(clients)")
                if c[1] not in ("id", "link_token", "msg_count", "msg_bytes")]
        with con:
            con.execute("INSERT INTO clients (link_token, %s) SELECT ?, %s FROM clients "
                        "WHERE link_token = ?" % (", ".join(cols), ", ".join(cols)),
                        (twin, rcpt.link))
    finally:
        con.close()
    assert channel_id(srv, twin) != channel_id(srv, rcpt.link)
    with EventStream(srv.url, rcpt.link, rcpt.token) as own, \
            EventStream(srv.url, twin, rcpt.token) as other:
        assert own.status == 200 and other.status == 200
        wait_subscribers(srv, rcpt.link, 1)
        wait_subscribers(srv, twin, 1)
        to_own = rcpt.send()
        assert to_own.status_code == 201, to_own.text
        to_twin = rcpt.send(link_token=twin)
        assert to_twin.status_code == 201, to_twin.text
        _, event = own.next_event(timeout=5)
        assert event == {"type": "message", "id": to_own.json()["id"]}
        _, event = other.next_event(timeout=5)
        assert event == {"type": "message", "id": to_twin.json()["id"]}
        # Each heard its own message and nothing of the other's.
        for es in (own, other):
            with pytest.raises(queue.Empty):
                es.next_event(timeout=0.5)


def refused_at_once(srv, link, params=None, headers=None, status=401, code="unauthorized"):
    """A subscription that must be answered at once, with a JSON error, and
    leave nothing held on the inbox's channel."""
    p = {"link_token": link}
    p.update(params or {})
    h = {"Accept": "text/event-stream"}
    h.update(headers or {})
    held = link.startswith("link_") and len(link) == 37
    before = subscribers(srv, link) if held else 0
    t0 = time.monotonic()
    r = requests.get(srv.url + "/events", params=p, headers=h, timeout=10)
    assert time.monotonic() - t0 < 2.0, "nginx held the refused subscription"
    expect_error(r, status, code)
    if held:
        assert subscribers(srv, link) == before
    return r


def test_without_credentials_refused(srv, rcpt):
    refused_at_once(srv, rcpt.link)


def test_wrong_fetch_token_refused(srv, rcpt):
    refused_at_once(srv, rcpt.link, headers=auth(rcpt.token[:-2] + "AA"))
    refused_at_once(srv, rcpt.link, headers={"Authorization": "Basic " + rcpt.token})


def test_another_inboxs_token_refused(srv, rcpt):
    other = Recipient(srv.url)
    refused_at_once(srv, rcpt.link, headers=auth(other.token))


def test_link_holder_cannot_subscribe(srv, rcpt):
    """All a sender has is the link: neither /events nor the channel itself
    lets them listen, and the channel is not the link token."""
    refused_at_once(srv, rcpt.link)
    channel = channel_id(srv, rcpt.link)
    assert rcpt.link not in channel
    with EventStream(srv.url, rcpt.link, rcpt.token):
        wait_subscribers(srv, rcpt.link, 1)
        for path in ("/_sealdrop_events/" + channel, "/_sealdrop_events/" + rcpt.link):
            t0 = time.monotonic()
            r = requests.get(srv.url + path, headers={"Accept": "text/event-stream"}, timeout=10)
            assert time.monotonic() - t0 < 2.0
            assert r.status_code == 404
        assert subscribers(srv, rcpt.link) == 1
    # Nor can anyone publish from outside: the publisher is on its own socket.
    r = requests.post(srv.url + "/_sealdrop_publish/" + channel, data="{}", timeout=10)
    assert r.status_code in (404, 405)


def test_unknown_and_malformed_link(srv):
    refused_at_once(srv, "link_" + "A" * 32, headers=auth("x" * 64), status=404,
                    code="unknown_link")
    for bad in ("", "nolink", "link_" + "!" * 32, "link_" + "A" * 300):
        refused_at_once(srv, bad, status=400, code="invalid_link_token")
    r = requests.get(srv.url + "/events", timeout=10)
    expect_error(r, 400, "invalid_link_token")


def bound_signature(srv, rcpt, purpose="events"):
    r = requests.post(srv.url + "/challenge_request",
                      json={"link_token": rcpt.link, "purpose": purpose})
    assert r.status_code == 200, r.text
    ch = r.json()["challenge"]
    assert r.json()["origin"] == srv.url
    msg = "sealdrop-v1\n%s\n%s\n%s\n%s" % (purpose, srv.url, rcpt.link, ch)
    return {"challenge": ch, "challenge_signature": b64(rcpt.sk.sign(msg.encode()).signature),
            "challenge_form": "sealdrop-v1"}


def test_purpose_bound_signature_in_the_query_subscribes_once(srv, rcpt):
    proof = bound_signature(srv, rcpt)
    with EventStream(srv.url, rcpt.link, params=proof) as es:
        assert es.status == 200
        wait_subscribers(srv, rcpt.link, 1)
        msg_id, event, took = send_and_hear(rcpt, es)
        assert event == {"type": "message", "id": msg_id} and took < 1.0
    # The challenge was used: the same URL again is refused.
    refused_at_once(srv, rcpt.link, params=proof)


def test_signatures_for_another_purpose_or_unbound_refused(srv, rcpt):
    refused_at_once(srv, rcpt.link, params=bound_signature(srv, rcpt, "fetch"))
    plain = rcpt.signed()  # PyCrypt's bare signed challenge
    refused_at_once(srv, rcpt.link, params=plain)
    bad = bound_signature(srv, rcpt)
    bad["challenge_signature"] = base64.b64encode(b"\0" * 64).decode()
    refused_at_once(srv, rcpt.link, params=bad)
    # A failed signature burns nothing: the challenge still subscribes.
    good = bound_signature(srv, rcpt)
    with EventStream(srv.url, rcpt.link, params=good) as es:
        assert es.status == 200


def test_publisher_is_content_free_and_logs_hold_no_secrets(srv, rcpt):
    with EventStream(srv.url, rcpt.link, rcpt.token) as es:
        wait_subscribers(srv, rcpt.link, 1)
        send_and_hear(rcpt, es, metadata={"secret": "do-not-leak"})
    log = srv.log() + srv.nginx_log()
    for secret in (rcpt.link, rcpt.token, channel_id(srv, rcpt.link), "do-not-leak"):
        assert secret not in log
    # The channel's stored message is that event and nothing more.
    status, text = publisher_request(srv, "GET", channel_id(srv, rcpt.link))
    assert status == 200 and json.loads(text)["messages"] == 1


def test_publisher_takes_no_body_beyond_an_event(srv, rcpt):
    """Anyone who reaches the publisher socket could post; nginx takes no
    more than an event needs (1 KiB) into nchan's shared memory."""
    channel = channel_id(srv, rcpt.link)
    status, _ = publisher_request(srv, "POST", channel, body=b"x" * 2048)
    assert status == 413
    status, _ = publisher_request(srv, "POST", channel, body=b'{"type":"message","id":1}')
    assert status in (201, 202)


@pytest.fixture(scope="module")
def tight():
    """A stack whose nginx lets one caller hold 2 subscriptions, and all
    callers 3."""
    s = stack.Stack(events_per_address=2, events_total=3).start()
    yield s
    s.stop()


def test_one_address_holds_a_bounded_number_of_subscriptions(tight):
    rcpt = Recipient(tight.url)
    with EventStream(tight.url, rcpt.link, rcpt.token), \
            EventStream(tight.url, rcpt.link, rcpt.token):
        wait_subscribers(tight, rcpt.link, 2)
        t0 = time.monotonic()
        r = requests.get(tight.url + "/events", params={"link_token": rcpt.link},
                         headers=auth(rcpt.token), timeout=10)
        assert time.monotonic() - t0 < 2.0
        expect_error(r, 429, "rate_limited")
        # Another address is another caller, with its own budget.
        with EventStream(tight.url, rcpt.link, rcpt.token, source="127.0.0.2") as es:
            assert es.status == 200
            wait_subscribers(tight, rcpt.link, 3)
            # The server-wide cap: a fresh caller finds no room either.
            with EventStream(tight.url, rcpt.link, rcpt.token, source="127.0.0.3") as full:
                assert full.status == 429


def test_without_a_publisher_events_are_unavailable():
    with stack.Stack(env={"SEALDROP_EVENTS_PUBLISH": ""}) as s:
        rcpt = Recipient(s.url)
        r = requests.get(s.url + "/events", params={"link_token": rcpt.link},
                         headers=auth(rcpt.token), timeout=10)
        expect_error(r, 501, "events_unavailable")
        assert rcpt.send().status_code == 201  # sends work as before


@pytest.mark.parametrize("target", ["https://127.0.0.1:8443", "http://", "http://h:123456789",
                                    "http://[::1:80"])
def test_a_publisher_it_cannot_reach_refuses_to_start(tmp_path, target):
    """No TLS client and no malformed address: sealdropd says so and exits
    before it serves, rather than running without live events."""
    sock = tmp_path / "s.sock"
    env = dict(os.environ, SEALDROP_DB="sqlite:" + str(tmp_path / "db"),
               SEALDROP_EVENTS_PUBLISH=target,
               SEALDROP_EVENTS_KEY_FILE=str(tmp_path / "events.key"))
    r = subprocess.run([stack.sealdropd_path(), "--listen", "unix:" + str(sock)],
                       env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=20)
    assert r.returncode != 0, r.stderr
    assert "SEALDROP_EVENTS_PUBLISH" in r.stderr, r.stderr
    assert "ready" not in r.stderr and not sock.exists()


def test_sends_do_not_wait_for_a_publisher_that_is_down():
    """nginx's publisher unreachable: every send is still answered at once
    (the notice is queued, the post fails on the publisher thread)."""
    with stack.Stack(env={"SEALDROP_EVENTS_PUBLISH": "unix:/nonexistent/events.sock"}) as s:
        rcpt = Recipient(s.url)
        for _ in range(20):
            t0 = time.monotonic()
            assert rcpt.send().status_code == 201
            assert time.monotonic() - t0 < 0.5
        with EventStream(s.url, rcpt.link, rcpt.token) as es:
            assert es.status == 200  # subscribing still works; it just stays quiet
            rcpt.send()
            with pytest.raises(queue.Empty):
                es.next_event(timeout=0.5)


def test_head_holds_nothing_and_other_methods_are_405(srv, rcpt):
    t0 = time.monotonic()
    r = requests.head(srv.url + "/events", params={"link_token": rcpt.link},
                      headers=auth(rcpt.token), timeout=10)
    assert r.status_code == 200 and time.monotonic() - t0 < 2.0
    assert subscribers(srv, rcpt.link) == 0
    r = requests.head(srv.url + "/events", params={"link_token": rcpt.link}, timeout=10)
    assert r.status_code == 401
    for method in ("POST", "PUT", "DELETE"):
        r = requests.request(method, srv.url + "/events", params={"link_token": rcpt.link},
                             headers=auth(rcpt.token), timeout=10)
        expect_error(r, 405, "method_not_allowed")
        assert r.headers["Allow"] == "GET, OPTIONS"


class FakePublisher:
    """An HTTP/1.1 publisher on loopback that records each post, answers
    201 with a body, and, to test the kept connection, drops it silently
    after every third post on it (as nginx does at its keepalive_timeout)
    or says "Connection: close" on every fifth post overall."""

    def __init__(self):
        import socket
        self.posts, self.connections = [], 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf, on_this = b"", 0
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:])
                length = int(headers["Content-Length"])
                while len(buf) < length:
                    buf += conn.recv(4096)
                body, buf = buf[:length], buf[length:]
                with self.lock:
                    self.posts.append((lines[0], headers, body))
                    n = len(self.posts)
                on_this += 1
                reply = b"queued messages: 1\n"
                close = n % 5 == 0
                conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\n%s\r\n%s" % (
                                 len(reply), b"Connection: close\r\n" if close else b"",
                                 reply))
                if close or on_this == 3:
                    return

    def close(self):
        self.sock.close()


def test_http_publisher_gets_one_post_per_message_on_a_kept_connection():
    """SEALDROP_EVENTS_PUBLISH=http://...: sealdropd's own HTTP/1.1 client
    posts each event (path, headers, body as nginx's nchan expects), reuses
    the connection, and comes back on a new one after the publisher closed
    it, with or without saying so, losing no event."""
    pub = FakePublisher()
    try:
        # One sealdropd, so one publisher connection to count (a cluster
        # run would start one per node).
        with stack.Stack(env={"SEALDROP_EVENTS_PUBLISH": "http://127.0.0.1:%d" % pub.port},
                         own_sqlite=True) as s:
            rcpt = Recipient(s.url)
            ids = []
            for _ in range(12):
                r = rcpt.send()
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
                time.sleep(0.05)  # one post at a time, so each lands on the kept connection
            deadline = time.monotonic() + 5
            while len(pub.posts) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.05)
            channel = channel_id(s, rcpt.link)
            assert [json.loads(body) for _, _, body in pub.posts] == \
                [{"type": "message", "id": i} for i in ids]
            for line, headers, _ in pub.posts:
                assert line == "POST /_sealdrop_publish/%s HTTP/1.1" % channel
                assert headers["Content-Type"] == "application/json"
                assert headers["Host"] == "127.0.0.1:%d" % pub.port
            # 12 posts: a new connection after each third on one, and after
            # each fifth overall: 5 connections, not 12.
            assert pub.connections == 5
    finally:
        pub.close()
