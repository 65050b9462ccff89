"""Fixtures for the security suite: one private stack (nginx + sealdropd on
SQLite, or $SEALDROP_DB), clients that can speak from other loopback
addresses, and a PyNaCl recipient."""

import base64
import os
import sys

import pytest
import requests
from requests.adapters import HTTPAdapter
from nacl.public import SealedBox
from nacl.signing import SigningKey

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import stack  # noqa: E402


@pytest.fixture(scope="session")
def srv():
    s = stack.Stack(threads=8, env={"SEALDROP_INBOX_MAX_MESSAGES": "20"}).start()
    yield s
    s.stop()


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a chosen loopback address: nginx then sees it as
    $remote_addr, like a different client on the internet."""

    def __init__(self, addr, **kw):
        self.addr = addr
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.addr, 0)
        return super().init_poolmanager(*a, **kw)


def session_from(addr):
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(addr))
    return s


def b64(b):
    return base64.b64encode(bytes(b)).decode()


class Recipient:
    def __init__(self, url, http=None):
        self.url = url
        self.http = http or requests.Session()
        self.sk = SigningKey.generate()
        r = self.http.post(url + "/register", json={"public_key": b64(self.sk.verify_key)})
        assert r.status_code == 201, r.text
        self.reg = r.json()
        self.link = self.reg["link_token"]
        self.token = self.reg["fetch_token"]

    def seal(self, text):
        return b64(SealedBox(self.sk.verify_key.to_curve25519_public_key()).encrypt(text))

    def send(self, text=b"hello", http=None):
        return (http or self.http).post(self.url + "/send", json={
            "link_token": self.link, "encrypted_message": self.seal(text)})

    def signed(self, http=None):
        """A fresh challenge and its signature, as body fields."""
        r = (http or self.http).post(self.url + "/challenge_request",
                                     json={"link_token": self.link})
        assert r.status_code == 200, r.text
        ch = r.json()["challenge"]
        return {"challenge": ch, "challenge_signature": b64(self.sk.sign(ch.encode()).signature)}

    def fetch(self, **kw):
        body = {"link_token": self.link, "include_seen": True}
        body.update(kw)
        return self.http.post(self.url + "/fetch", json=body,
                              headers={"Authorization": "Bearer " + self.token})


@pytest.fixture
def recipient(srv):
    return Recipient(srv.url)
