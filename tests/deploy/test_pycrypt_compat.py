"""A PyCrypt database migrates additively and keeps serving: old fetch
tokens authenticate, old messages are fetched and decrypt, old keys sign."""

import base64
import glob
import os
import subprocess

import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey

from conftest import HERE
import stack
from sdclient import b64

ALICE = "link_pyCryptAliceInbox0000000000000"
BOB = "link_pyCryptBobInbox00000000000000000"
ALICE_TOKEN = "pycrypt-alice-fetch-token-0123456789abcdefghijklmnopqrstuvwxyzAB"
BOB_TOKEN = "pycrypt-bob-fetch-token-0123456789abcdefghijklmnopqrstuvwxyzABCDE"


def pycrypt_db(mariadb):
    db = mariadb.new_database()
    with open(os.path.join(HERE, "fixtures", "pycrypt.sql")) as f:
        mariadb.sql(f.read(), db)
    return db


def env_file(tmp_path, mariadb, db):
    """PyCrypt's own .env, unchanged."""
    p = tmp_path / ".env"
    p.write_text("DEBUG=True\nPORT=5000\n\nDB_HOST=127.0.0.1\nDB_PORT=%d\nDB_USER=sealdrop\n"
                 "DB_PASSWORD=%s\nDB_NAME=%s\n\nBASE_URL=http://localhost:5000\n"
                 % (mariadb.port, mariadb.password, db))
    return p


def migrate(sealdropd, envfile):
    env = {k: v for k, v in os.environ.items() if k != "SEALDROP_DB"}
    return subprocess.run([sealdropd, "--migrate", "--env-file", str(envfile)], env=env,
                          capture_output=True, text=True)


def test_migration_is_additive_and_idempotent(tmp_path, mariadb, sealdropd):
    db = pycrypt_db(mariadb)
    before = mariadb.sql("SELECT COUNT(*) FROM messages; SELECT COUNT(*) FROM clients;", db)
    envfile = env_file(tmp_path, mariadb, db)
    r = migrate(sealdropd, envfile)
    assert r.returncode == 0, r.stderr
    r = migrate(sealdropd, envfile)  # a second run changes nothing
    assert r.returncode == 0, r.stderr
    assert mariadb.sql("SELECT COUNT(*) FROM messages; SELECT COUNT(*) FROM clients;", db) == before
    assert mariadb.sql("SELECT version FROM schema_version ORDER BY version;", db).split() == [
        str(int(os.path.basename(p).split("_")[0]))
        for p in sorted(glob.glob(os.path.join(stack.ROOT, "sql", "mysql", "[0-9]*.sql")))]
    cols = mariadb.sql("SELECT column_name FROM information_schema.columns WHERE "
                       "table_schema = '%s' AND table_name = 'clients';" % db).split()
    for c in ("id", "link_token", "public_key", "public_key_hash", "display_name",
              "fetch_token_hash", "created_at", "key_type", "box_public_key", "msg_count"):
        assert c in cols
    # The counters were computed from the existing rows.
    assert mariadb.sql("SELECT msg_count FROM clients WHERE link_token = '%s';" % ALICE, db).strip() == "3"


def test_old_inboxes_keep_working(tmp_path, mariadb, sealdropd):
    db = pycrypt_db(mariadb)
    envfile = env_file(tmp_path, mariadb, db)
    assert migrate(sealdropd, envfile).returncode == 0
    with stack.Stack(db=mariadb.dsn_for(db)) as s:
        # Old fetch token (SHA-256 stored) still authenticates.
        r = requests.post(s.url + "/fetch", json={"link_token": ALICE, "include_seen": True},
                          headers={"Authorization": "Bearer " + ALICE_TOKEN})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == 3
        alice = SigningKey(b"A" * 32)
        box = SealedBox(alice.to_curve25519_private_key())
        texts = [box.decrypt(base64.b64decode(m["encrypted_message"])).decode()
                 for m in body["data"]]
        assert texts == ["third, unseen", "second message", "hello from 2025"]
        first = body["data"][2]
        assert first["created_at"] == "2025-11-08T01:05:00Z"
        assert first["metadata"] == {"sender_nick": "Bob"}
        assert body["data"][1]["seen"] is True
        # A SHA-512 stored hash works too; a wrong token does not.
        r = requests.post(s.url + "/fetch", json={"link_token": BOB},
                          headers={"Authorization": "Bearer " + BOB_TOKEN})
        assert r.status_code == 200 and r.json()["count"] == 1
        r = requests.post(s.url + "/fetch", json={"link_token": BOB},
                          headers={"Authorization": "Bearer " + ALICE_TOKEN})
        assert r.status_code == 401
        # The old Ed25519 key signs a challenge.
        ch = requests.post(s.url + "/challenge_request", json={"link_token": ALICE}).json()
        sig = b64(alice.sign(ch["challenge"].encode()).signature)
        r = requests.post(s.url + "/fetch", json={"link_token": ALICE, "challenge": ch["challenge"],
                                                 "challenge_signature": sig})
        assert r.status_code == 200 and r.json()["count"] == 2
        # Senders find the key (converted from Ed25519) and new mail arrives.
        k = requests.get(s.url + "/key/" + ALICE).json()
        assert k["display_name"] == "Alice"
        assert base64.b64decode(k["box_public_key"]) == bytes(alice.verify_key.to_curve25519_public_key())
        ct = SealedBox(alice.verify_key.to_curve25519_public_key()).encrypt(b"after the switch")
        r = requests.post(s.url + "/send", json={"link_token": ALICE,
                                                "encrypted_message": b64(ct)})
        assert r.status_code == 201
        assert r.json()["id"] > 4
        # Ack on an old message works and counts.
        r = requests.post(s.url + "/ack", json={"link_token": ALICE, "message_ids": [1, 3]},
                          headers={"Authorization": "Bearer " + ALICE_TOKEN})
        assert r.status_code == 200 and r.json()["count"] == 1  # id 3 is bob's
