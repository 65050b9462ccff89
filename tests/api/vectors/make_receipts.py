"""Writes receipts.json: fixed inputs and what docs/RECEIPTS.md derives
from them. Run again only when the format changes (sealing is random, so
the sealed forms differ each run; their plaintexts do not)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
import envelope as env  # noqa: E402
import nacl.public  # noqa: E402

inbox = nacl.public.PrivateKey(bytes(range(32)))
out = {"inbox_secret_key": env.b64url(bytes(inbox)),
       "inbox_public_key": env.b64url(bytes(inbox.public_key)), "receipts": [], "envelopes": []}
for i, secret in enumerate([bytes(32), bytes([0xA5] * 32), bytes(range(32, 64))]):
    pk, sk = env.reply_keypair(secret)
    out["receipts"].append({"R": env.b64url(secret), "auth": env.b64url(env.receipt_auth(secret)),
                            "receipt_id": env.b64url(env.receipt_id(secret)),
                            "reply_public_key": env.b64url(pk), "reply_secret_key": env.b64url(sk)})
reply_pk = env.reply_keypair(bytes(32))[0]
for text, key in [("hello", reply_pk), ("", None), ("ü" * 500, reply_pk), ("x" * 4000, None),
                  ("y" * 16300, reply_pk), ("z" * 16332, None)]:
    plain = env.envelope(text, key)
    out["envelopes"].append({"text": text, "reply_key": env.b64url(key) if key else None,
                             "plaintext": env.b64url(plain), "sealed_len": len(plain) + 48,
                             "sealed": env.b64url(env.seal(plain, bytes(inbox.public_key)))})
json.dump(out, open(os.path.join(os.path.dirname(__file__), "receipts.json"), "w"), indent=1)
