"""A PyNaCl client of the sealdrop/PyCrypt API, written the way PyCrypt's
clients behave: Ed25519 signing key, sealed boxes to the X25519 key, base64
standard encoding, challenge strings signed as UTF-8 bytes."""

import base64

import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey


def b64(b):
    return base64.b64encode(bytes(b)).decode()


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
