"""The API contract suite: one private stack (nginx + sealdropd, on SQLite or
on $SEALDROP_DB), driven as PyCrypt's PyNaCl clients drive it. The srv, url
and rcpt fixtures come from tests/lib/sdfixtures.py."""

import os
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "lib")))

pytest_plugins = ["sdfixtures"]


@pytest.fixture(scope="session")
def stack_options():
    # Receipts' statuses released every 2 to 3 s (test_receipts.py).
    return {"threads": 8, "env": {"SEALDROP_STATUS_INTERVAL": "2"}}
