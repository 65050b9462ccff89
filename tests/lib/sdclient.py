"""A PyNaCl client of the sealdrop/PyCrypt API, written the way PyCrypt's
clients behave: Ed25519 signing key, sealed boxes to the X25519 key, base64
standard encoding, challenge strings signed as UTF-8 bytes. Also the
encodings and the HTTP session every suite shares."""

import base64

import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey
from requests.adapters import HTTPAdapter


def b64(b):
    """Standard base64 with padding, as PyCrypt's clients send keys,
    signatures and ciphertexts."""
    return base64.b64encode(bytes(b)).decode()


def b64url(b):
    """Unpadded base64url, as a sealdrop link's #fragment carries a key."""
    return base64.urlsafe_b64encode(bytes(b)).decode().rstrip("=")


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def expect_error(r, status, code=None):
    """Assert that r is one of sealdrop's JSON error answers, with this
    status (and code, when given): {"error": text, "code": text}, not
    cached, open to any origin. Returns the parsed body."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    if code is not None:
        assert body["code"] == code, body
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    return body


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
    """A requests session whose connections come from addr (in 127/8)."""
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(addr))
    return s


class Recipient:
    def __init__(self, url, http=None, display_name=None, box_key=None, **extra):
        self.url = url
        self.http = http or requests.Session()
        self.sk = SigningKey.generate()
        body = {"public_key": b64(self.sk.verify_key)}
        if display_name is not None:
            body["display_name"] = display_name
        if box_key is not None:
            body["box_public_key"] = b64(box_key)
        body.update(extra)
        r = self.http.post(url + "/register", json=body)
        assert r.status_code == 201, r.text
        self.reg = r.json()
        self.link = self.reg["link_token"]
        self.token = self.reg["fetch_token"]

    def seal(self, text, key=None):
        key = key or self.sk.verify_key.to_curve25519_public_key()
        return b64(SealedBox(key).encrypt(text))

    def open(self, ct_b64, private=None):
        private = private or self.sk.to_curve25519_private_key()
        return SealedBox(private).decrypt(base64.b64decode(ct_b64))

    def send(self, text=b"hello", http=None, **extra):
        body = {"link_token": self.link, "encrypted_message": self.seal(text)}
        body.update(extra)
        return (http or self.http).post(self.url + "/send", json=body)

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

    def fetch_signed(self, **kw):
        body = {"link_token": self.link}
        body.update(self.signed())
        body.update(kw)
        return self.http.post(self.url + "/fetch", json=body)

    def ack(self, ids, **kw):
        body = {"link_token": self.link, "message_ids": ids}
        body.update(kw)
        return self.http.post(self.url + "/ack", json=body,
                              headers={"Authorization": "Bearer " + self.token})
