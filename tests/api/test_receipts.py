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
        body = {"link_token": self.rc.link, "encrypted_message": self.sealed(text),
                "receipt_id": self.receipt_id}
        body.update(extra)
        return requests.post(self.rc.url + "/send", json=body)

    def receipt(self):
        return requests.post(self.rc.url + "/receipt", json={"receipt_auth": self.auth})

    def answer(self, text, **extra):
        body = {"receipt_auth": self.auth, "encrypted_message": self.sealed(text)}
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


def test_plain_messages_have_no_thread_fields(inbox):
    assert inbox.send(b"plain").status_code == 201
    (m,) = by_id(inbox).values()
    assert "thread_id" not in m and "replies" not in m
