"""Retention: messages older than the configured age are purged inside the
server (and their place in the inbox's cap is freed)."""

import sqlite3

import stack
from sdclient import Recipient


def test_messages_past_retention_are_purged_and_free_their_place():
    with stack.Stack(env={"SEALDROP_RETENTION_DAYS": "1", "SEALDROP_INBOX_MAX_MESSAGES": "2"},
                     own_sqlite=True) as s:
        r = Recipient(s.url)
        old = r.send(b"old").json()["id"]
        new = r.send(b"new").json()["id"]
        assert r.send(b"third").status_code == 429
        db = sqlite3.connect(s.sqlite_path())
        db.execute("UPDATE messages SET created_at = created_at - 2 * 86400 WHERE id = ?", (old,))
        db.commit()
        db.close()
        s.restart_daemon()  # the purge runs at start, then every minute

        def purged():
            ids = [m["id"] for m in r.fetch().json()["data"]]
            return None if old in ids else (ids,)

        [ids] = stack.wait_until(purged, interval=0.2, what="the purge of message %d" % old)
        assert ids == [new]
        # Its place in the cap is free again, and only its place.
        assert [r.send(b"room again").status_code, r.send(b"over").status_code] == [201, 429]
