"""The whole PyCrypt client flow, end to end, with PyNaCl."""

import base64
import re

import requests
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey

from sdclient import Recipient, b64

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_register_send_challenge_fetch_decrypt_ack(url):
    sk = SigningKey.generate()
    r = requests.post(url + "/register", json={"public_key": b64(sk.verify_key),
                                               "display_name": "Alice"})
    assert r.status_code == 201
    reg = r.json()
    assert reg["message"] == "Client registered successfully"
    assert isinstance(reg["client_id"], int)
    assert re.fullmatch(r"link_[A-Za-z0-9_-]{32}", reg["link_token"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", reg["fetch_token"])
    assert reg["link"] == url + "/l/" + reg["link_token"]
    assert reg["key_type"] == "ed25519"
    link = reg["link_token"]

    # A sender knows only the link.
    key = requests.get(url + "/key/" + link).json()
    assert key["display_name"] == "Alice"
    box_pk = base64.b64decode(key["box_public_key"])
    assert box_pk == bytes(sk.verify_key.to_curve25519_public_key())
    from nacl.public import PublicKey
    ct = SealedBox(PublicKey(box_pk)).encrypt("grüße, Alice".encode())
    r = requests.post(url + "/send", json={"link_token": link,
                                           "encrypted_message": b64(ct),
                                           "metadata": {"sender_nick": "Bob"}})
    assert r.status_code == 201
    assert r.json()["message"] == "Message sent successfully"
    mid = r.json()["id"]

    # The recipient signs a challenge.
    ch = requests.post(url + "/challenge_request", json={"link_token": link}).json()
    assert len(base64.b64decode(ch["challenge"])) == 32
    assert ch["expires_in"] == 300
    sig = sk.sign(ch["challenge"].encode("utf-8")).signature
    r = requests.post(url + "/fetch", json={"link_token": link, "challenge": ch["challenge"],
                                            "challenge_signature": b64(sig)})
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == "Messages retrieved successfully"
    assert body["count"] == 1 and body["has_more"] is False
    m = body["data"][0]
    assert body["next_cursor"] == m["id"]  # the last id of any non-empty page
    assert m["id"] == mid and m["seen"] is False
    assert m["metadata"] == {"sender_nick": "Bob"}
    assert ISO_Z.match(m["created_at"])
    plain = SealedBox(sk.to_curve25519_private_key()).decrypt(base64.b64decode(m["encrypted_message"]))
    assert plain.decode() == "grüße, Alice"

    # Ack with the fetch token; then nothing is unseen.
    r = requests.post(url + "/ack", json={"link_token": link, "message_ids": [mid]},
                      headers={"Authorization": "Bearer " + reg["fetch_token"]})
    assert r.status_code == 200
    assert r.json() == {"message": "Messages marked as seen", "count": 1}
    r = requests.post(url + "/fetch", json={"link_token": link},
                      headers={"Authorization": "Bearer " + reg["fetch_token"]})
    assert r.json()["count"] == 0 and r.json()["data"] == [] and r.json()["next_cursor"] is None
    r = requests.post(url + "/fetch", json={"link_token": link, "include_seen": True},
                      headers={"Authorization": "Bearer " + reg["fetch_token"]})
    assert [x["seen"] for x in r.json()["data"]] == [True]


def test_separate_box_key_is_what_senders_seal_to(url):
    """PyCrypt-style clients that keep a separate X25519 key."""
    box = PrivateKey.generate()
    r = Recipient(url, box_key=box.public_key, key_type="ed25519")
    assert r.reg["box_public_key"] == b64(box.public_key)
    key = requests.get(url + "/key/" + r.link).json()
    assert key["box_public_key"] == b64(box.public_key)
    assert r.send(b"x").status_code == 201  # sealed to the Ed25519 conversion: still stored
    ct = SealedBox(box.public_key).encrypt(b"to the box key")
    assert requests.post(url + "/send", json={"link_token": r.link,
                                              "encrypted_message": b64(ct)}).status_code == 201
    data = r.fetch().json()["data"]
    assert r.open(data[0]["encrypted_message"], box) == b"to the box key"


def test_unpadded_base64_message_is_stored_and_opens(url, rcpt):
    ct = rcpt.seal(b"no padding").rstrip("=")
    r = requests.post(url + "/send", json={"link_token": rcpt.link, "encrypted_message": ct})
    assert r.status_code == 201
    got = rcpt.fetch().json()["data"][0]["encrypted_message"]
    assert rcpt.open(got) == b"no padding"


def test_rotated_fetch_token_replaces_the_old_one(url, rcpt):
    r = requests.post(url + "/rotate_token", json=dict({"link_token": rcpt.link}, **rcpt.signed()))
    assert r.status_code == 200 and r.json()["message"] == "Fetch token rotated"
    new = r.json()["fetch_token"]
    assert new != rcpt.token
    assert requests.post(url + "/fetch", json={"link_token": rcpt.link},
                         headers={"Authorization": "Bearer " + rcpt.token}).status_code == 401
    assert requests.post(url + "/fetch", json={"link_token": rcpt.link},
                         headers={"Authorization": "Bearer " + new}).status_code == 200


def test_unregister_removes_the_inbox_its_key_and_its_link(url, rcpt):
    assert rcpt.send(b"doomed").status_code == 201
    r = requests.post(url + "/unregister", json=dict({"link_token": rcpt.link}, **rcpt.signed()))
    assert r.status_code == 200
    assert requests.get(url + "/key/" + rcpt.link).status_code == 404
    assert rcpt.send(b"x").status_code == 404
    assert requests.post(url + "/challenge_request",
                         json={"link_token": rcpt.link}).status_code == 404
    assert requests.post(url + "/fetch", json={"link_token": rcpt.link},
                         headers={"Authorization": "Bearer " + rcpt.token}).status_code == 404
