"""Fixtures for the security suite: one private stack (nginx + sealdropd on
SQLite, or $SEALDROP_DB), clients that can speak from other loopback
addresses, and a PyNaCl recipient."""

import os
import sys

import pytest
import requests
from requests.adapters import HTTPAdapter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import stack  # noqa: E402


@pytest.fixture(scope="session")
def srv():
    s = stack.Stack(threads=8, env={"SEALDROP_INBOX_MAX_MESSAGES": "20"}).start()
    yield s
    s.stop()


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a chosen loopback address: nginx then sees it as
    $remote_addr, like a different client on the internet."""

    def __init__(self, addr, **kw):
        self.addr = addr
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.addr, 0)
        return super().init_poolmanager(*a, **kw)


def session_from(addr):
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(addr))
    return s


from sdclient import Recipient, b64  # noqa: E402,F401


@pytest.fixture
def recipient(srv):
    return Recipient(srv.url)
