"""Retention: messages older than the configured age are purged inside the
server (and their place in the inbox's cap is freed)."""

import sqlite3
import time

import requests

import stack
from conftest import Recipient


def test_old_messages_are_purged():
    with stack.Stack(env={"SEALDROP_RETENTION_DAYS": "1", "SEALDROP_INBOX_MAX_MESSAGES": "2"}) as s:
        r = Recipient(s.url)
        old = r.send(b"old").json()["id"]
        new = r.send(b"new").json()["id"]
        assert r.send(b"third").status_code == 429
        path = s.daemon_env()["SEALDROP_DB"][len("sqlite:"):]
        db = sqlite3.connect(path)
        db.execute("UPDATE messages SET created_at = created_at - 2 * 86400 WHERE id = ?", (old,))
        db.commit()
        db.close()
        s.restart_daemon()  # the purge runs at start, then every minute
        deadline = time.time() + 20
        while time.time() < deadline:
            ids = [m["id"] for m in r.fetch().json()["data"]]
            if old not in ids:
                break
            time.sleep(0.2)
        assert ids == [new]
        assert r.send(b"room again").status_code == 201
