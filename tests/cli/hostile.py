"""What the hostile-server tests share: an identity registered on the fake
server, and /challenge_request answered as the purpose-bound contract has
it (docs/API.md), or changed field by field."""

import base64
import json
import os

from nacl import pwhash
from nacl.secret import SecretBox
from nacl.signing import SigningKey, VerifyKey

from conftest import PASS, b64

TOKEN = "link_" + "A" * 32


def key_reply(box_key):
    return {"link_token": TOKEN, "display_name": None, "public_key": b64(os.urandom(32)),
            "box_public_key": b64(box_key)}


def cheap_init(cli):
    """An identity as 'init' writes it, with the cheapest key derivation a
    reader accepts: these tests run the client hundreds of times."""
    seed, salt, nonce = os.urandom(32), os.urandom(16), os.urandom(24)
    key = pwhash.argon2id.kdf(32, PASS.encode(), salt, opslimit=1, memlimit=64 * 1024)
    doc = {"sealdrop_identity": 1, "kdf": "argon2id13", "opslimit": 1, "memlimit": 64 * 1024,
           "salt": b64(salt), "nonce": b64(nonce),
           "sealed_seed": b64(SecretBox(key).encrypt(seed, nonce).ciphertext),
           "public_key": b64(SigningKey(seed).verify_key)}
    os.makedirs(os.path.dirname(cli.identity), exist_ok=True)
    with open(cli.identity, "w") as f:
        json.dump(doc, f)


def registered(cli, fake, fetch_token=None):
    """An identity registered on the fake server; returns its signing key.
    Without fetch_token the server gives none, so every call signs."""
    cheap_init(cli)

    def register(path, body):
        reply = {"link_token": TOKEN, "box_public_key": body["box_public_key"]}
        if fetch_token is not None:
            reply["fetch_token"] = fetch_token
        return 201, {}, reply
    fake.route("POST", "/register", register)
    cli("register", "--server", fake.url)
    return VerifyKey(base64.b64decode(cli.doc()["public_key"]))


def bound_challenges(fake, **override):
    """/challenge_request as the contract has it: a purpose-bound challenge
    for the purpose asked, naming the fake's origin; override changes
    fields (None removes one). Returns the list of challenges issued."""
    issued = []

    def challenge(path, body):
        reply = {"challenge": b64(os.urandom(32)), "expires_in": 300,
                 "purpose": body.get("purpose"), "origin": fake.url, "form": "sealdrop-v1"}
        for k, v in override.items():
            if v is None:
                reply.pop(k, None)
            else:
                reply[k] = v
        issued.append(reply.get("challenge"))
        return 200, {}, reply
    fake.route("POST", "/challenge_request", challenge)
    return issued


def bound_bytes(purpose, origin, token, challenge):
    return ("sealdrop-v1\n%s\n%s\n%s\n%s" % (purpose, origin, token, challenge)).encode()
