"""Fixtures for the deployment suite: the built binaries and a private
MariaDB (the one scripts/check started, named by $MARIADB_DIR, or one of our
own). The shared bootstrap (tests/lib on sys.path, the session stack, b64)
comes from tests/lib/sdfixtures.py and tests/lib/sdclient.py."""

import os
import subprocess
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "lib")))

pytest_plugins = ["sdfixtures"]

import stack  # noqa: E402

ROOT = stack.ROOT

MARIADB_SH = os.path.join(ROOT, "tests", "lib", "mariadb.sh")


@pytest.fixture(scope="session")
def sealdropd():
    return stack.sealdropd_path()


class MariaDB:
    def __init__(self, dir_):
        self.dir = dir_
        env = subprocess.run([MARIADB_SH, "start", dir_], check=True, capture_output=True,
                             text=True).stdout
        vals = dict(line.split("=", 1) for line in env.split() if "=" in line)
        self.dsn = vals["MARIADB_DSN"]
        self.socket = vals["MARIADB_SOCKET"]
        self.port = int(vals["MARIADB_PORT"])
        self.password = open(os.path.join(dir_, "password")).read().strip()

    def sql(self, statements, db=None):
        """Run SQL as the private server's root (over its socket)."""
        cmd = ["mariadb", "--no-defaults", "-S", self.socket, "-u", "root", "--batch",
               "--skip-column-names"]
        if db:
            cmd.append(db)
        r = subprocess.run(cmd, input=statements, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return r.stdout

    def new_database(self):
        """A fresh database the sealdrop user may use; returns its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.sql("CREATE DATABASE %s CHARACTER SET utf8mb4;\n"
                 "GRANT ALL ON %s.* TO 'sealdrop'@'127.0.0.1';\n"
                 "GRANT ALL ON %s.* TO 'sealdrop'@'localhost';\n" % (name, name, name))
        return name

    def dsn_for(self, db):
        return "mysql://sealdrop:%s@127.0.0.1:%d/%s" % (self.password, self.port, db)

    def restart(self):
        subprocess.run([MARIADB_SH, "restart", self.dir], check=True, capture_output=True)

    def stop(self):
        subprocess.run([MARIADB_SH, "stop", self.dir], check=True, capture_output=True)


@pytest.fixture(scope="session")
def mariadb():
    shared = os.environ.get("MARIADB_DIR")
    if shared:
        yield MariaDB(shared)  # started by scripts/check; 'start' is idempotent
        return
    own = tempfile.mkdtemp(prefix="sealdrop-deploy-mariadb-")
    db = MariaDB(own)
    yield db
    db.stop()


@pytest.fixture(scope="session")
def sealdropd_fault():
    """A sealdropd built with --enable-fault-injection (scripts/check passes its
    ASan build as $SEALDROPD_FAULT). Without one the tests that need it fail:
    a skip would count as nothing tested."""
    path = os.environ.get("SEALDROPD_FAULT")
    if not path:
        pytest.fail("SEALDROPD_FAULT is not set: name a sealdropd built with "
                    "--enable-fault-injection (scripts/check does)")
    if not os.access(path, os.X_OK):
        pytest.fail("SEALDROPD_FAULT=%s is not an executable" % path)
    return path
