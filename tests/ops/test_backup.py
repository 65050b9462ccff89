"""sealdropd --backup: a consistent copy of the live SQLite database, made
under a stream of sends through nginx, restored into a fresh state
directory and served again; every message acknowledged (201) before the
backup began is there, and the copy passes PRAGMA integrity_check."""

import hashlib
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time

import pytest
import requests

import stack
from sdclient import Recipient

SENDS_PER_THREAD = 150
THREADS = 2
BODY = os.urandom(6000)  # ~8 KiB of base64 per message: the copy takes several steps
PREFILL = 300


class SendStream:
    """A bounded stream of sends to one inbox from a few threads; records
    when each 201 came back (monotonic clock) and every status seen."""

    def __init__(self, rc):
        self.rc = rc
        self.lock = threading.Lock()
        self.acked = []  # (monotonic time the 201 arrived, id)
        self.statuses = []
        self.threads = [threading.Thread(target=self.run) for _ in range(THREADS)]
        for t in self.threads:
            t.start()

    def run(self):
        http = requests.Session()
        for i in range(SENDS_PER_THREAD):
            r = self.rc.send(BODY + b"%d" % i, http=http)
            now = time.monotonic()
            with self.lock:
                self.statuses.append(r.status_code)
                if r.status_code == 201:
                    self.acked.append((now, r.json()["id"]))

    def count(self):
        with self.lock:
            return len(self.acked)

    def join(self):
        for t in self.threads:
            t.join(120)
        assert not any(t.is_alive() for t in self.threads)


def backup(sealdropd, db, dest, cwd):
    return subprocess.run([sealdropd, "--backup", dest, "--db", db], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def stored_ids(rc):
    """Every id the inbox holds, through every page."""
    ids, before = set(), None
    while True:
        kw = {"limit": 200}
        if before:
            kw["before_id"] = before
        r = rc.fetch(**kw)
        assert r.status_code == 200, r.text
        body = r.json()
        ids.update(m["id"] for m in body["data"])
        if not body["has_more"]:
            return ids
        before = body["next_cursor"]


def test_backup_under_sends_restores_every_acknowledged_message(sealdropd):
    work = tempfile.mkdtemp(prefix="sealdrop-backup-")
    dest = os.path.join(work, "copy.db")
    with stack.Stack(threads=4, own_sqlite=True) as s:
        rc = Recipient(s.url)
        old = Recipient(s.url)
        for i in range(PREFILL):
            assert old.send(BODY + b"old %d" % i).status_code == 201
        stream = SendStream(rc)
        stack.wait_until(lambda: stream.count() >= 50, what="50 sends acknowledged")
        began = time.monotonic()
        r = backup(sealdropd, "sqlite:" + s.sqlite_path(), dest, work)
        stream.join()
        assert r.returncode == 0, r.stderr
        assert "backup complete" in r.stderr
        # the server kept answering every send during the copy
        assert stream.statuses == [201] * (SENDS_PER_THREAD * THREADS), set(stream.statuses)
        before = {i for t, i in stream.acked if t < began}
        everything = {i for _, i in stream.acked}
        assert len(before) >= 50
        assert len(everything) > len(before)  # sends went on while it copied

    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    db = sqlite3.connect("file:%s?mode=ro" % dest, uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        in_copy = {row[0] for row in db.execute(
            "SELECT id FROM messages WHERE link_token = ?", (rc.link,))}
        old_in_copy = db.execute("SELECT COUNT(*) FROM messages WHERE link_token = ?",
                                 (old.link,)).fetchone()[0]
    finally:
        db.close()
    assert old_in_copy == PREFILL
    assert before <= in_copy
    assert in_copy <= everything  # nothing that was never acknowledged

    # Restore: a fresh state directory holding only the copy, served again.
    state = tempfile.mkdtemp(prefix="sealdrop-restore-")
    shutil.copy2(dest, os.path.join(state, "sealdrop.db"))
    with stack.Stack(threads=2, db="sqlite:" + os.path.join(state, "sealdrop.db")) as s2:
        rc.url = s2.url
        restored = stored_ids(rc)
        assert before <= restored
        assert restored == in_copy
        # and the restored inbox takes new messages
        assert rc.send(b"after restore").status_code == 201
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


def test_backup_refuses_to_overwrite(sealdropd):
    with stack.Stack(threads=2, own_sqlite=True) as s:
        work = tempfile.mkdtemp(prefix="sealdrop-backup-")
        dest = os.path.join(work, "copy.db")
        with open(dest, "wb") as f:
            f.write(b"an older backup")
        digest = hashlib.sha256(open(dest, "rb").read()).hexdigest()
        r = backup(sealdropd, "sqlite:" + s.sqlite_path(), dest, work)
        assert r.returncode != 0
        assert "not overwriting" in r.stderr
        assert hashlib.sha256(open(dest, "rb").read()).hexdigest() == digest
        # a symbolic link is not followed either
        link = os.path.join(work, "link.db")
        target = os.path.join(work, "target")
        os.symlink(target, link)
        r = backup(sealdropd, "sqlite:" + s.sqlite_path(), link, work)
        assert r.returncode != 0 and not os.path.exists(target)
        shutil.rmtree(work, ignore_errors=True)


def test_backup_of_a_missing_database_fails_and_leaves_nothing(sealdropd):
    work = tempfile.mkdtemp(prefix="sealdrop-backup-")
    dest = os.path.join(work, "copy.db")
    r = backup(sealdropd, "sqlite:" + os.path.join(work, "absent.db"), dest, work)
    assert r.returncode != 0
    assert "no database" in r.stderr
    assert os.listdir(work) == []
    shutil.rmtree(work, ignore_errors=True)


def test_backup_of_mariadb_points_to_mariadb_backup(sealdropd):
    work = tempfile.mkdtemp(prefix="sealdrop-backup-")
    dest = os.path.join(work, "copy.db")
    r = backup(sealdropd, "mysql://sealdrop:x@127.0.0.1:1/sealdrop", dest, work)
    assert r.returncode != 0
    assert "mariadb-backup" in r.stderr
    assert not os.path.exists(dest)
    shutil.rmtree(work, ignore_errors=True)


def test_root_backs_up_only_as_the_owner(sealdropd):
    """As root, a database another user owns is copied only with --user
    OWNER: root-owned -wal/-shm files would lock its server out."""
    if os.geteuid() != 0:
        pytest.skip("needs root (not counted as a pass)")
    nobody = pwd.getpwnam("nobody")
    work = tempfile.mkdtemp(prefix="sealdrop-backup-")
    os.chmod(work, 0o755)
    os.chown(work, nobody.pw_uid, nobody.pw_gid)
    src = os.path.join(work, "sealdrop.db")
    db = sqlite3.connect(src)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (42)")
    db.commit()
    db.close()
    for name in os.listdir(work):
        os.chown(os.path.join(work, name), nobody.pw_uid, nobody.pw_gid)
    dest = os.path.join(work, "copy.db")
    r = backup(sealdropd, "sqlite:" + src, dest, work)
    assert r.returncode != 0 and "owner" in r.stderr, r.stderr
    assert not os.path.exists(dest)
    r = subprocess.run([sealdropd, "--backup", dest, "--db", "sqlite:" + src, "--user", "nobody"],
                       capture_output=True, text=True, timeout=120, cwd="/")
    assert r.returncode == 0, r.stderr
    assert os.stat(dest).st_uid == nobody.pw_uid
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert all(os.stat(os.path.join(work, n)).st_uid == nobody.pw_uid for n in os.listdir(work))
    copy = sqlite3.connect("file:%s?mode=ro" % dest, uri=True)
    assert copy.execute("SELECT x FROM t").fetchall() == [(42,)]
    copy.close()
    shutil.rmtree(work, ignore_errors=True)
