"""Bulk data for the scaling benchmark: inboxes and sealed messages written
straight into the store's tables (not through HTTP), fast enough for 10^6
messages in well under a minute on SQLite.

    /usr/bin/python3 bench/gen.py sqlite:PATH --inboxes 10000 --messages 1000000 \
        [--big-inbox 100000]

Keys are real (one Ed25519 key per run; every inbox shares it, which the
server cannot tell) and every message is a real sealed box to it, so the
inbox can be fetched and decrypted like any other."""

import argparse
import base64
import hashlib
import os
import sqlite3
import sys
import time

from nacl.public import SealedBox
from nacl.signing import SigningKey


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dsn")
    ap.add_argument("--inboxes", type=int, default=10000)
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--big-inbox", type=int, default=0,
                    help="messages that go to one extra inbox, on top of --messages")
    ap.add_argument("--prefix", default="link_bench")
    ap.add_argument("--mysql-socket", help="with a mysql: DSN, the server's socket (as root)")
    args = ap.parse_args()
    if not args.dsn.startswith("sqlite:") and not args.mysql_socket:
        sys.exit("gen.py: a mysql: DSN needs --mysql-socket")
    sk = SigningKey(b"S" * 32)
    pk = base64.b64encode(bytes(sk.verify_key)).decode()
    box = SealedBox(sk.verify_key.to_curve25519_public_key())
    cts = [base64.b64encode(box.encrypt(os.urandom(150))).decode() for _ in range(64)]
    token_hash = hashlib.sha256(b"bench-fetch-token").hexdigest()
    now = int(time.time())
    if args.mysql_socket:
        return gen_mysql(args, pk, cts, token_hash, now)
    db = sqlite3.connect(args.dsn[len("sqlite:"):])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    t0 = time.time()

    def link(i):
        return "%s%08d" % (args.prefix, i)

    db.executemany(
        "INSERT OR IGNORE INTO clients (link_token, public_key, public_key_hash, display_name, "
        "fetch_token_hash, created_at, key_type) VALUES (?, ?, ?, NULL, ?, ?, 'ed25519')",
        ((link(i), pk, "00", token_hash, now) for i in range(args.inboxes + 1)))

    def rows():
        for n in range(args.messages):
            yield (link(n % args.inboxes), cts[n % 64], now - (args.messages - n) // 100)
        for n in range(args.big_inbox):
            yield (link(args.inboxes), cts[n % 64], now)

    db.executemany("INSERT INTO messages (link_token, encrypted_message, created_at, seen) "
                   "VALUES (?, ?, ?, 0)", rows())
    db.execute("UPDATE clients SET msg_count = (SELECT COUNT(*) FROM messages m WHERE "
               "m.link_token = clients.link_token), msg_bytes = (SELECT COALESCE(SUM(LENGTH("
               "encrypted_message)), 0) FROM messages m WHERE m.link_token = clients.link_token) "
               "WHERE link_token LIKE ?", (args.prefix + "%",))
    db.commit()
    db.close()
    print("gen.py: %d inboxes, %d messages (+%d in %s) in %.1fs" % (
        args.inboxes, args.messages, args.big_inbox, link(args.inboxes), time.time() - t0))


def gen_mysql(args, pk, cts, token_hash, now):
    """The same data through LOAD DATA LOCAL INFILE (as the private
    server's root, over its socket)."""
    import subprocess
    import tempfile
    t0 = time.time()
    db = args.dsn.rsplit("/", 1)[1].split("?")[0]
    tmp = tempfile.mkdtemp(prefix="sealdrop-gen-")
    cfile, mfile = os.path.join(tmp, "clients.tsv"), os.path.join(tmp, "messages.tsv")

    def link(i):
        return "%s%08d" % (args.prefix, i)

    with open(cfile, "w") as f:
        for i in range(args.inboxes + 1):
            f.write("%s\t%s\t00\t%s\t%d\n" % (link(i), pk, token_hash, now))
    with open(mfile, "w") as f:
        for n in range(args.messages):
            f.write("%s\t%s\t%d\n" % (link(n % args.inboxes), cts[n % 64],
                                      now - (args.messages - n) // 100))
        for n in range(args.big_inbox):
            f.write("%s\t%s\t%d\n" % (link(args.inboxes), cts[n % 64], now))
    sql = """
LOAD DATA LOCAL INFILE '%s' IGNORE INTO TABLE clients FIELDS TERMINATED BY '\\t'
  (link_token, public_key, public_key_hash, fetch_token_hash, @ts)
  SET created_at = FROM_UNIXTIME(@ts), key_type = 'ed25519';
LOAD DATA LOCAL INFILE '%s' INTO TABLE messages FIELDS TERMINATED BY '\\t'
  (link_token, encrypted_message, @ts) SET created_at = FROM_UNIXTIME(@ts), seen = 0;
UPDATE clients c JOIN (SELECT link_token, COUNT(*) AS n, SUM(LENGTH(encrypted_message)) AS b
  FROM messages WHERE link_token LIKE '%s%%' GROUP BY link_token) m USING (link_token)
  SET c.msg_count = m.n, c.msg_bytes = m.b;
""" % (cfile, mfile, args.prefix)
    subprocess.run(["mariadb", "--no-defaults", "--local-infile=1", "-S", args.mysql_socket,
                    "-u", "root", db], input=sql, text=True, check=True)
    print("gen.py: %d inboxes, %d messages (+%d in %s) in %.1fs" % (
        args.inboxes, args.messages, args.big_inbox, link(args.inboxes), time.time() - t0))


if __name__ == "__main__":
    main()
