"""Fixtures for the operations suite: the built sealdropd. The shared
bootstrap (tests/lib on sys.path, stack, sdclient) comes from
tests/lib/sdfixtures.py."""

import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "lib")))

pytest_plugins = ["sdfixtures"]

import stack  # noqa: E402


@pytest.fixture(scope="session")
def sealdropd():
    return stack.sealdropd_path()


MARIADB_SH = os.path.join(stack.ROOT, "tests", "lib", "mariadb.sh")


class MariaDB:
    """The private MariaDB scripts/check started ($MARIADB_DIR), or one of
    our own: SQL as its root, a fresh database per test, stop and start on
    the same port."""

    def __init__(self, dir_):
        self.dir = dir_
        self.start()
        self.password = open(os.path.join(dir_, "password")).read().strip()
        self.port = int(open(os.path.join(dir_, "port")).read().strip())
        self.socket = os.path.join(dir_, "mysqld.sock")

    def start(self):
        subprocess.run([MARIADB_SH, "start", self.dir], check=True, capture_output=True)

    def stop(self):
        subprocess.run([MARIADB_SH, "stop", self.dir], check=True, capture_output=True)

    def sql(self, statements, db=None):
        cmd = ["mariadb", "--no-defaults", "-S", self.socket, "-u", "root", "--batch",
               "--skip-column-names"] + ([db] if db else [])
        r = subprocess.run(cmd, input=statements, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return r.stdout

    def new_database(self):
        name = "t_" + uuid.uuid4().hex[:12]
        self.sql("CREATE DATABASE %s CHARACTER SET utf8mb4;\n"
                 "GRANT ALL ON %s.* TO 'sealdrop'@'127.0.0.1';\n" % (name, name))
        return name

    def dsn_for(self, db):
        return "mysql://sealdrop:%s@127.0.0.1:%d/%s" % (self.password, self.port, db)


@pytest.fixture(scope="session")
def mariadb():
    shared = os.environ.get("MARIADB_DIR")
    if shared:
        db = MariaDB(shared)
        yield db
        db.start()  # leave it running for the suites after this one
        return
    own = tempfile.mkdtemp(prefix="sealdrop-ops-mariadb-")
    db = MariaDB(own)
    yield db
    db.stop()
    shutil.rmtree(own, ignore_errors=True)


@pytest.fixture
def temp_dir():
    """temp_dir(prefix) -> a new directory under the system's temp dir
    (short paths: unix sockets live there), removed when the test ends."""
    made = []

    def make(prefix):
        made.append(tempfile.mkdtemp(prefix=prefix))
        return made[-1]

    yield make
    for d in made:
        shutil.rmtree(d, ignore_errors=True)
