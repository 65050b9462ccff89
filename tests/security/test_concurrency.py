"""Races and isolation: single-use challenges, cross-inbox isolation,
rotated tokens, the inbox cap."""

import threading

import requests

from conftest import INBOX_MAX_MESSAGES
from sdclient import Recipient


def test_one_challenge_logs_in_once_among_50_concurrent_fetches(srv, rcpt):
    rcpt.send()
    auth = rcpt.signed()
    body = dict({"link_token": rcpt.link}, **auth)
    results, go = [], threading.Barrier(50)

    def attempt():
        s = requests.Session()
        go.wait()
        results.append(s.post(srv.url + "/fetch", json=body).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 50
    assert results.count(200) == 1, results
    assert results.count(401) == 49, results


def test_fetch_and_ack_never_reach_another_inbox(srv):
    alice, bob = Recipient(srv.url), Recipient(srv.url)
    bob_id = bob.send(b"for bob").json()["id"]
    alice.send(b"for alice")
    # Alice's credentials with Bob's link: 401, not Bob's mail.
    r = requests.post(srv.url + "/fetch", json={"link_token": bob.link},
                      headers={"Authorization": "Bearer " + alice.token})
    assert r.status_code == 401
    # Alice's signed challenge against Bob's link: 401.
    auth = alice.signed()
    r = requests.post(srv.url + "/fetch", json=dict({"link_token": bob.link}, **auth))
    assert r.status_code == 401
    # Alice acks and deletes Bob's message id through her own inbox: nothing.
    r = requests.post(srv.url + "/ack", json={"link_token": alice.link, "message_ids": [bob_id],
                                              "delete": True},
                      headers={"Authorization": "Bearer " + alice.token})
    assert r.status_code == 200 and r.json()["count"] == 0
    data = bob.fetch().json()["data"]
    assert [m["id"] for m in data] == [bob_id]
    assert data[0]["seen"] is False
    # Alice's own fetch never shows Bob's message.
    assert bob_id not in [m["id"] for m in alice.fetch().json()["data"]]


def test_rotated_token_is_dead_at_once(srv, rcpt):
    old = rcpt.token
    assert rcpt.fetch().status_code == 200
    r = requests.post(srv.url + "/rotate_token", json=dict({"link_token": rcpt.link},
                                                           **rcpt.signed()))
    assert r.status_code == 200
    new = r.json()["fetch_token"]
    assert new != old
    r = requests.post(srv.url + "/fetch", json={"link_token": rcpt.link},
                      headers={"Authorization": "Bearer " + old})
    assert r.status_code == 401
    rcpt.token = new
    assert rcpt.fetch().status_code == 200
    # A fetch token alone cannot rotate or unregister.
    for path in ("/rotate_token", "/unregister"):
        r = requests.post(srv.url + path, json={"link_token": rcpt.link},
                          headers={"Authorization": "Bearer " + new})
        assert r.status_code == 401


def test_inbox_cap_is_exact_and_deleting_frees_exactly_what_it_deleted(srv, rcpt):
    """The cap (20 here, conftest.py) holds the 20th message and refuses the
    21st; deleting 5 makes room for exactly 5."""
    codes = [rcpt.send(b"x").status_code for _ in range(INBOX_MAX_MESSAGES)]
    assert codes == [201] * INBOX_MAX_MESSAGES
    r = rcpt.send(b"one too many")
    assert r.status_code == 429
    assert r.json()["code"] == "inbox_full"
    assert int(r.headers["Retry-After"]) > 0
    ids = [m["id"] for m in rcpt.fetch(limit=5).json()["data"]]
    r = requests.post(srv.url + "/ack", json={"link_token": rcpt.link, "message_ids": ids,
                                              "delete": True},
                      headers={"Authorization": "Bearer " + rcpt.token})
    assert r.json()["count"] == 5
    codes = [rcpt.send(b"room again").status_code for _ in range(6)]
    assert codes == [201] * 5 + [429]
    assert rcpt.fetch(limit=200).json()["count"] == INBOX_MAX_MESSAGES
