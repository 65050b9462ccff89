"""The API contract suite: one private stack (nginx + sealdropd, on SQLite or
on $SEALDROP_DB), driven as PyCrypt's PyNaCl clients drive it."""

import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import stack  # noqa: E402
from sdclient import Recipient  # noqa: E402


@pytest.fixture(scope="session")
def srv():
    s = stack.Stack(threads=8).start()
    yield s
    rc = s.stop()
    assert rc == 0, "sealdropd did not exit cleanly: %s" % rc


@pytest.fixture
def url(srv):
    return srv.url


@pytest.fixture
def rcpt(srv):
    return Recipient(srv.url)
