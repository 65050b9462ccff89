"""The security suite: one private stack (nginx + sealdropd) on its own
SQLite file, whatever $SEALDROP_DB says, because its tests read the stored
rows to prove that hostile requests changed nothing. The srv, url and rcpt
fixtures come from tests/lib/sdfixtures.py; clients speaking from other
loopback addresses are sdclient.session_from()."""

import os
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "lib")))

pytest_plugins = ["sdfixtures"]

INBOX_MAX_MESSAGES = 20


@pytest.fixture(scope="session")
def stack_options():
    return {"threads": 8, "own_sqlite": True,
            "env": {"SEALDROP_INBOX_MAX_MESSAGES": str(INBOX_MAX_MESSAGES)}}
