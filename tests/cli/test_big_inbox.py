"""No owner lock-out: an inbox with 10,000 messages, behind the production
rate limit on reading (tests/cli/bigstack.py), is read whole by `fetch` and
emptied by `ack --all --delete` in one call."""

import json
import re

import pytest

import bigstack
from conftest import link_parts, unb64url

N = 10000


@pytest.fixture(scope="module")
def big():
    s = bigstack.limited_stack(threads=4).start()
    yield s
    assert s.stop_daemon() == 0, s.log()[-4000:]
    s.stop()


def served(s, pattern):
    """Lines of sealdropd's request log (method, route, status: nothing
    secret) that match pattern."""
    return sum(1 for line in s.log().splitlines() if re.search(pattern, line))


def test_ten_thousand_messages_are_read_and_erased(cli, big):
    cli("init")
    link = cli("register", "--server", big.url).stdout.decode().strip()
    _, token, key = link_parts(link)
    assert bigstack.limited(big.url, token), "the reading endpoints are not rate-limited"
    ids = bigstack.fill(big, token, unb64url(key), N)
    before = served(big, r" POST /fetch 200 ")

    r = cli("fetch", "--json", timeout=900)
    got = json.loads(r.stdout)
    assert [m["id"] for m in got] == ids
    assert all(m["text"] == "message %d" % (i + 1) for i, m in enumerate(got))
    assert not any(m["seen"] for m in got)
    assert served(big, r" POST /fetch 200 ") - before == N // 100  # one request a page

    acks = served(big, r" POST /ack ")
    out = cli("ack", "--all", "--delete", timeout=300).stdout.decode()
    assert out == "%d message(s) deleted\n" % N
    assert served(big, r" POST /ack ") == acks + 1  # one call for all of them
    assert bigstack.stored(big, token) == 0
    assert json.loads(cli("fetch", "--all", "--json").stdout) == []
