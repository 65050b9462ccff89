"""A stack with the production per-address limit on the reading endpoints,
and an inbox filled with many messages, for the "no owner lock-out" tests
of both clients (tests/cli/test_big_inbox.py, tests/browser/).

The limit: nginx/sealdrop.conf gives /challenge_request, /fetch, /ack,
/rotate_token and /unregister 5 requests a second with a burst of 20 per
address (zone sd_auth). The test nginx (nginx/dev.conf.in) has one zone,
sd_write, whose rate a Stack sets; it is set to those values and applied
to the reading endpoints too, so a client here meets what it meets in
production (and /send and /register share the budget).

The messages: sending 10,000 through /send at that rate would take over half
an hour, so they are sealed here (PyNaCl, as any sender) and written
straight into the stack's own SQLite file, with the inbox's counters as
/send keeps them.
"""

import base64
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from nacl.public import PublicKey, SealedBox  # noqa: E402

import stack  # noqa: E402

RATE, BURST = 5, 20  # nginx/sealdrop.conf, zone sd_auth


def limited_stack(**options):
    snippets = os.path.join(stack.ROOT, "nginx", "snippets")
    extra = "\n".join(
        "location = /%s { limit_req zone=sd_write burst=%d nodelay; include %s/sealdrop-fastcgi.conf; }"
        % (path, BURST, snippets)
        for path in ("challenge_request", "fetch", "ack", "rotate_token", "unregister"))
    # Room for a few messages more than the 10,000 the tests put in.
    env = {"SEALDROP_INBOX_MAX_MESSAGES": "20000"}
    env.update(options.pop("env", {}))
    return stack.Stack(own_sqlite=True, write_rate=RATE, write_burst=BURST, extra_nginx=extra,
                       env=env, **options)


def fill(s, link_token, box_public_key, n, text="message %d"):
    """n messages sealed to box_public_key (32 bytes), text % i for i in
    1..n, oldest first. Returns their ids."""
    box = SealedBox(PublicKey(box_public_key))
    now = int(time.time())
    rows = []
    for i in range(1, n + 1):
        ct = base64.b64encode(box.encrypt((text % i).encode())).decode()
        rows.append((link_token, ct, now, len(base64.b64decode(ct)), len(ct)))
    db = sqlite3.connect(s.sqlite_path(), timeout=60)
    try:
        with db:
            first = db.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
            db.executemany("INSERT INTO messages (link_token, encrypted_message, created_at, "
                           "seen, metadata, size_bytes, charged) VALUES (?, ?, ?, 0, NULL, ?, ?)",
                           rows)
            db.execute("UPDATE clients SET msg_count = msg_count + ?, msg_bytes = msg_bytes + ? "
                       "WHERE link_token = ?", (n, sum(r[4] for r in rows), link_token))
            ids = [r[0] for r in db.execute(
                "SELECT id FROM messages WHERE link_token = ? AND id > ? ORDER BY id",
                (link_token, first))]
    finally:
        db.close()
    assert len(ids) == n
    return ids


def stored(s, link_token):
    """How many messages the inbox holds, by the database."""
    db = sqlite3.connect(s.sqlite_path(), timeout=60)
    try:
        return db.execute("SELECT COUNT(*) FROM messages WHERE link_token = ?",
                          (link_token,)).fetchone()[0]
    finally:
        db.close()


def limited(url, link_token, tries=3 * BURST):
    """1 when a quick burst of /fetch from this address meets nginx's 429:
    the limit is there. Waits for the burst to refill afterwards."""
    import requests
    seen = 0
    with requests.Session() as h:
        for _ in range(tries):
            if h.post(url + "/fetch", json={"link_token": link_token}).status_code == 429:
                seen += 1
    time.sleep(BURST / RATE + 1)
    return seen > 0


if __name__ == "__main__":
    # For tests in another language (tests/browser): prints the URL, then
    # serves until stdin closes. "fill TOKEN BOXKEY_B64URL N" on stdin
    # fills an inbox and answers "filled FIRST LAST"; "count TOKEN"
    # answers "count N".
    s = limited_stack(threads=4).start()
    try:
        print(s.url, flush=True)
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["fill"]:
                key = base64.urlsafe_b64decode(words[2] + "=" * (-len(words[2]) % 4))
                ids = fill(s, words[1], key, int(words[3]))
                print("filled %d %d" % (ids[0], ids[-1]), flush=True)
            elif words[:1] == ["count"]:
                print("count %d" % stored(s, words[1]), flush=True)
    finally:
        s.stop()
