"""sealdropd sets its own umask: started with a permissive one (0), the
SQLite database and its -wal and -shm files are still its user's alone."""

import os
import stat

import stack
from sdclient import Recipient


def test_sqlite_files_are_private_under_a_permissive_umask(sealdropd):
    old = os.umask(0)  # inherited by sealdropd (and nginx)
    try:
        s = stack.Stack(threads=2, own_sqlite=True, sealdropd=sealdropd).start()
    finally:
        os.umask(old)
    try:
        rcpt = Recipient(s.url)
        assert rcpt.send(b"a message, so the WAL holds a write").status_code == 201
        db = s.sqlite_path()
        # While sealdropd runs, its connections keep the WAL and the
        # shared-memory index open beside the database.
        for path in (db, db + "-wal", db + "-shm"):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode & 0o077 == 0, "%s has mode %o" % (path, mode)
    finally:
        assert s.stop() == 0
