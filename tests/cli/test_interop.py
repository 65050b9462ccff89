"""Interoperability with an independent libsodium implementation (PyNaCl)."""

import base64
import json
import os

import requests
from nacl import pwhash
from nacl.public import PrivateKey, SealedBox
from nacl.secret import SecretBox
from nacl.signing import SigningKey

from conftest import PASS, Cli
from sdclient import Recipient, b64


def test_pynacl_sealed_message_is_read_by_cli(cli, inbox, srv):
    token, key = inbox.split("/l/")[1].split("#")
    served = base64.b64decode(requests.get(srv.url + "/key/" + token).json()["box_public_key"])
    from nacl.public import PublicKey
    ct = SealedBox(PublicKey(served)).encrypt("sealed by PyNaCl ✓".encode())
    assert requests.post(srv.url + "/send", json={"link_token": token,
                                                  "encrypted_message": b64(ct)}).status_code == 201
    msgs = json.loads(cli("fetch", "--json").stdout)
    assert msgs[0]["text"] == "sealed by PyNaCl ✓"


def test_cli_sent_message_is_opened_by_pynacl(cli, srv):
    rcpt = Recipient(srv.url)
    key = base64.urlsafe_b64encode(bytes(rcpt.sk.verify_key.to_curve25519_public_key()))
    link = srv.url + "/l/" + rcpt.link + "#" + key.decode().rstrip("=")
    cli("send", link, "from the C client")
    data = rcpt.fetch().json()["data"]
    assert rcpt.open(data[0]["encrypted_message"]) == b"from the C client"
    # And without a fragment: sealed to what the server serves.
    cli("send", srv.url + "/l/" + rcpt.link, "no fragment")
    assert rcpt.open(rcpt.fetch().json()["data"][0]["encrypted_message"]) == b"no fragment"


def test_pycrypt_style_separate_box_key(cli, srv):
    box = PrivateKey.generate()
    rcpt = Recipient(srv.url, box_key=box.public_key)
    cli("send", srv.url + "/l/" + rcpt.link, "to the separate X25519 key")
    data = rcpt.fetch().json()["data"]
    assert SealedBox(box).decrypt(base64.b64decode(data[0]["encrypted_message"])) == \
        b"to the separate X25519 key"


def test_cli_identity_file_opens_with_pynacl(cli):
    cli("init")
    doc = json.load(open(cli.identity))
    key = pwhash.argon2id.kdf(32, PASS.encode(), base64.b64decode(doc["salt"]),
                              opslimit=doc["opslimit"], memlimit=doc["memlimit"])
    seed = SecretBox(key).decrypt(base64.b64decode(doc["sealed_seed"]),
                                  base64.b64decode(doc["nonce"]))
    assert len(seed) == 32
    assert bytes(SigningKey(seed).verify_key) == base64.b64decode(doc["public_key"])


def test_pynacl_written_identity_is_used_by_cli(cli_path, srv, tmp_path):
    seed = os.urandom(32)
    salt = os.urandom(16)
    nonce = os.urandom(24)
    key = pwhash.argon2id.kdf(32, PASS.encode(), salt, opslimit=2, memlimit=16 * 1024 * 1024)
    sealed = SecretBox(key).encrypt(seed, nonce).ciphertext
    sk = SigningKey(seed)
    path = tmp_path / "py-identity"
    path.write_text(json.dumps({
        "sealdrop_identity": 1, "kdf": "argon2id13", "opslimit": 2, "memlimit": 16 * 1024 * 1024,
        "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
        "sealed_seed": base64.b64encode(sealed).decode(),
        "public_key": base64.b64encode(bytes(sk.verify_key)).decode()}))
    c = Cli(cli_path, str(path))
    link = c("register", "--server", srv.url).stdout.decode().strip()
    token = link.split("/l/")[1].split("#")[0]
    assert requests.get(srv.url + "/key/" + token).json()["public_key"] == \
        base64.b64encode(bytes(sk.verify_key)).decode()
    c("send", link, "round trip")
    assert "round trip" in c("fetch").stdout.decode()


def test_hostile_identity_settings_are_refused(cli):
    cli("init")
    doc = json.load(open(cli.identity))
    doc["memlimit"] = 1 << 40  # would make a reader allocate a terabyte
    json.dump(doc, open(cli.identity, "w"))
    r = cli("fetch", check=False)
    assert r.returncode == 65
    assert "invalid" in r.stderr.decode()
