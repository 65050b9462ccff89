"""Interoperability with an independent libsodium implementation (PyNaCl):
messages both ways, PyCrypt-style recipients, and the identity file format
of docs/IDENTITY.md read and written by a Python reimplementation."""

import base64
import json
import os

import pytest
import requests
from nacl import pwhash
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox
from nacl.signing import SigningKey

from conftest import PASS, Cli, b64, b64url, link_parts
from sdclient import Recipient


# -- the identity file, reimplemented --------------------------------------

def unb64(s):
    """Standard base64, padded or not (the format allows both)."""
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def identity_open(doc, passphrase):
    """The seed of an identity file (docs/IDENTITY.md), as the browser
    opens it."""
    assert doc["sealdrop_identity"] == 1 and doc["kdf"] == "argon2id13"
    key = pwhash.argon2id.kdf(32, passphrase.encode(), unb64(doc["salt"]),
                              opslimit=doc["opslimit"], memlimit=doc["memlimit"])
    seed = SecretBox(key).decrypt(unb64(doc["sealed_seed"]), unb64(doc["nonce"]))
    assert bytes(SigningKey(seed).verify_key) == unb64(doc["public_key"])
    return seed


def identity_make(seed, passphrase, opslimit=3, memlimit=64 * 1024 * 1024, pad=True, **extra):
    """An identity file as the browser writes it."""
    salt, nonce = os.urandom(16), os.urandom(24)
    key = pwhash.argon2id.kdf(32, passphrase.encode(), salt, opslimit=opslimit,
                              memlimit=memlimit)
    enc = b64 if pad else (lambda b: b64(b).rstrip("="))
    doc = {"sealdrop_identity": 1, "kdf": "argon2id13", "opslimit": opslimit,
           "memlimit": memlimit, "salt": enc(salt), "nonce": enc(nonce),
           "sealed_seed": enc(SecretBox(key).encrypt(seed, nonce).ciphertext),
           "public_key": enc(SigningKey(seed).verify_key)}
    doc.update(extra)
    return doc


# -- messages ---------------------------------------------------------------

def test_pynacl_sealed_message_is_read_by_cli(cli, inbox, srv):
    server, token, _ = link_parts(inbox)
    served = base64.b64decode(requests.get(srv.url + "/key/" + token).json()["box_public_key"])
    ct = SealedBox(PublicKey(served)).encrypt("sealed by PyNaCl ✓ – ünïcödé".encode())
    r = requests.post(srv.url + "/send", json={"link_token": token, "encrypted_message": b64(ct),
                                               "metadata": {"client": "pynacl"}})
    assert r.status_code == 201
    msgs = json.loads(cli("fetch", "--json").stdout)
    assert msgs == [{"id": r.json()["id"], "created_at": msgs[0]["created_at"], "seen": False,
                     "reply_key": False, "text": "sealed by PyNaCl ✓ – ünïcödé",
                     "metadata": {"client": "pynacl"}}]
    assert "sealed by PyNaCl ✓ – ünïcödé" in cli("fetch").stdout.decode()


def test_cli_sent_message_is_opened_by_pynacl(cli, srv):
    rcpt = Recipient(srv.url)  # PyCrypt style: Ed25519 key only
    key = b64url(rcpt.sk.verify_key.to_curve25519_public_key())
    cli("send", srv.url + "/l/" + rcpt.link + "#" + key, "from the C client")
    data = rcpt.fetch().json()["data"]
    assert rcpt.open(data[0]["encrypted_message"]) == b"from the C client"
    # Without a fragment: sealed to what the server serves (the conversion).
    cli("send", srv.url + "/l/" + rcpt.link, "no fragment")
    assert rcpt.open(rcpt.fetch().json()["data"][0]["encrypted_message"]) == b"no fragment"


def test_pycrypt_style_separate_box_key(cli, srv):
    """A client that keeps its own X25519 key, registered as box_public_key:
    senders seal to that key, and the Ed25519 conversion cannot open it."""
    box = PrivateKey.generate()
    rcpt = Recipient(srv.url, box_key=box.public_key)
    out = cli("send", srv.url + "/l/" + rcpt.link, "to the separate X25519 key")
    assert out.returncode == 0
    ct = base64.b64decode(rcpt.fetch().json()["data"][0]["encrypted_message"])
    assert SealedBox(box).decrypt(ct) == b"to the separate X25519 key"
    with pytest.raises(CryptoError):
        SealedBox(rcpt.sk.to_curve25519_private_key()).decrypt(ct)
    # Its own self-authenticating link names that key, and is honoured.
    cli("send", srv.url + "/l/" + rcpt.link + "#" + b64url(box.public_key), "with fragment")
    ct = base64.b64decode(rcpt.fetch().json()["data"][0]["encrypted_message"])
    assert SealedBox(box).decrypt(ct) == b"with fragment"


def test_pycrypt_style_recipient_reads_cli_sends_end_to_end(cli, srv):
    """PyCrypt-style recipient with a separate box key: register, CLI sends
    several, the recipient signs a challenge, fetches and acks them."""
    box = PrivateKey.generate()
    rcpt = Recipient(srv.url, box_key=box.public_key, display_name="PyCrypt")
    for i in range(3):
        cli("send", srv.url + "/l/" + rcpt.link, "note %d" % i)
    data = rcpt.fetch_signed(order="ASC").json()["data"]
    assert [SealedBox(box).decrypt(base64.b64decode(m["encrypted_message"])) for m in data] == \
        [b"note 0", b"note 1", b"note 2"]


# -- the identity file --------------------------------------------------------

def test_cli_identity_file_opens_with_pynacl(cli, srv):
    cli("init")
    doc = cli.doc()
    seed = identity_open(doc, PASS)
    # And the key the CLI registers is the one derived from that seed.
    link = cli("register", "--server", srv.url).stdout.decode().strip()
    _, token, key = link_parts(link)
    served = requests.get(srv.url + "/key/" + token).json()
    sk = SigningKey(seed)
    assert served["public_key"] == b64(sk.verify_key)
    assert served["box_public_key"] == b64(sk.verify_key.to_curve25519_public_key())
    assert key == b64url(sk.verify_key.to_curve25519_public_key())
    with pytest.raises(CryptoError):
        identity_open(doc, PASS + "x")


def test_pynacl_written_identity_is_used_by_cli(cli_path, srv, tmp_path):
    """A browser-style file: cheaper KDF settings, unpadded base64 and keys
    this version does not know; the CLI uses it and keeps the unknown keys."""
    seed = os.urandom(32)
    doc = identity_make(seed, PASS, opslimit=2, memlimit=16 * 1024 * 1024, pad=False,
                        created_by="browser", future={"x": 1})
    path = tmp_path / "py-identity"
    path.write_text(json.dumps(doc))
    c = Cli(cli_path, str(path))
    link = c("register", "--server", srv.url).stdout.decode().strip()
    token = link_parts(link)[1]
    assert requests.get(srv.url + "/key/" + token).json()["public_key"] == \
        b64(SigningKey(seed).verify_key)
    c("send", link, "round trip")
    assert "round trip" in c("fetch").stdout.decode()
    kept = json.loads(path.read_text())
    assert kept["created_by"] == "browser" and kept["future"] == {"x": 1}
    assert kept["inbox"]["link_token"] == token
    assert identity_open(kept, PASS) == seed


def test_browser_backup_with_inbox_is_imported(cli, srv, tmp_path):
    """The browser registered the inbox and saved a backup; the CLI imports
    it and reads the inbox with no further setup."""
    seed = os.urandom(32)
    sk = SigningKey(seed)
    r = requests.post(srv.url + "/register", json={
        "public_key": b64(sk.verify_key),
        "box_public_key": b64(sk.verify_key.to_curve25519_public_key())})
    token = r.json()["link_token"]
    backup = tmp_path / "sealdrop-backup.json"
    backup.write_text(json.dumps(identity_make(seed, PASS, inbox={
        "server": srv.url, "link_token": token, "display_name": "Browser"})))
    os.chmod(backup, 0o644)  # as a browser download lands
    cli("import", str(backup))
    link = cli("link").stdout.decode().strip()
    assert link == "%s/l/%s#%s" % (srv.url, token, b64url(sk.verify_key.to_curve25519_public_key()))
    rcpt_box = SealedBox(sk.verify_key.to_curve25519_public_key())
    requests.post(srv.url + "/send", json={"link_token": token,
                                           "encrypted_message": b64(rcpt_box.encrypt(b"hi"))})
    assert json.loads(cli("fetch", "--json").stdout)[0]["text"] == "hi"


def test_identity_with_wrong_passphrase_made_by_pynacl(cli_path, tmp_path):
    path = tmp_path / "id"
    path.write_text(json.dumps(identity_make(os.urandom(32), "the real one",
                                             opslimit=1, memlimit=8 * 1024 * 1024)))
    c = Cli(cli_path, str(path))
    r = c("export", "-", passphrase="not the real one", check=False)
    assert r.returncode == 65 and r.stderr.decode() == "sealdrop: wrong passphrase\n"
    assert json.loads(c("export", "-", passphrase="the real one").stdout)["opslimit"] == 1


def test_message_not_utf8_is_given_as_base64(cli, inbox, srv):
    _, token, key = link_parts(inbox)
    from conftest import unb64url
    raw = b"\xff\xfe binary \x00 bytes"
    ct = SealedBox(PublicKey(unb64url(key))).encrypt(raw)
    requests.post(srv.url + "/send", json={"link_token": token, "encrypted_message": b64(ct)})
    m = json.loads(cli("fetch", "--json").stdout)[0]
    assert "text" not in m and base64.b64decode(m["data_base64"]) == raw
    assert b"??" in cli("fetch").stdout


def test_terminal_escapes_in_a_message_are_defused(cli, inbox, srv):
    """A sender must not be able to drive the recipient's terminal."""
    _, token, key = link_parts(inbox)
    evil = "\x1b]0;owned\x07\x1b[2J\x9b31m\rline\tend\nnext"
    ct = SealedBox(PublicKey(__import__("conftest").unb64url(key))).encrypt(evil.encode())
    requests.post(srv.url + "/send", json={"link_token": token, "encrypted_message": b64(ct)})
    out = cli("fetch").stdout.decode()
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\r" not in out
    assert "line\tend\nnext" in out
    assert json.loads(cli("fetch", "--json").stdout)[0]["text"] == evil  # exact in JSON
