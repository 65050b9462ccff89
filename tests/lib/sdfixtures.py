"""The pytest bootstrap the suites share: a private stack (nginx + sealdropd)
per session, its URL and a freshly registered recipient per test.

A suite's conftest.py loads it after putting tests/lib on sys.path:

    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "lib")))
    pytest_plugins = ["sdfixtures"]

and says what its stack needs by overriding stack_options (the keyword
arguments of stack.Stack):

    @pytest.fixture(scope="session")
    def stack_options():
        return {"threads": 8, "env": {"SEALDROP_INBOX_MAX_MESSAGES": "20"}}

What only one suite needs stays in its own conftest.py: the deploy suite's
MariaDB, the cli suite's Cli wrapper and fake server.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import stack  # noqa: E402
from sdclient import Recipient  # noqa: E402

ROOT = stack.ROOT


@pytest.fixture(scope="session")
def stack_options():
    """Keyword arguments of the session's stack.Stack; a suite overrides it."""
    return {"threads": 4}


@pytest.fixture(scope="session")
def srv(stack_options):
    """The session's stack. Its sealdropd must exit 0 on SIGTERM at the end:
    anything else (a crash, a sanitizer's exit code) fails the session."""
    s = stack.Stack(**stack_options).start()
    yield s
    rc = s.stop_daemon()
    log = s.log()
    s.stop()
    assert rc == 0, "sealdropd did not exit cleanly (%s); its log ends:\n%s" % (rc, log[-4000:])


@pytest.fixture
def url(srv):
    return srv.url


@pytest.fixture
def rcpt(srv):
    """A new inbox, registered through /register."""
    return Recipient(srv.url)
