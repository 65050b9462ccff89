"""`sealdrop webhook set|status|clear` against the real nginx + sealdropd,
with a local receiver (allow-listed in this module's stack)."""

import json

import pytest

import stack
from webhook_receiver import Receiver


@pytest.fixture(scope="module")
def hooks():
    s = stack.Stack(threads=2, own_sqlite=True, env={
        "SEALDROP_WEBHOOK_INTERVAL": "1",
        "SEALDROP_WEBHOOK_RETRY": "1",
        "SEALDROP_WEBHOOK_ALLOW": "127.0.0.1",
    }).start()
    yield s
    s.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_set_status_clear(cli, hooks, receiver):
    cli("init")
    cli("register", "--server", hooks.url)
    assert cli("webhook", "status").stdout.decode() == "no webhook\n"

    out = cli("webhook", "set", receiver.url()).stdout.decode()
    assert "url: %s\n" % receiver.url() in out and "state: ok\n" in out
    assert "kind: generic\n" in out and "pending: no\n" in out

    cli("send", cli("link").stdout.decode().strip(), "hello")
    stack.wait_until(lambda: receiver.got(200), timeout=10, what="a ping")
    assert json.loads(receiver.got()[0]["body"]) == {"event": "new_message"}
    out = cli("webhook", "status").stdout.decode()
    assert "state: ok\n" in out and "last sent: -\n" not in out

    out = cli("webhook", "set", receiver.url("/topic"), "--ntfy").stdout.decode()
    assert "kind: ntfy\n" in out

    assert cli("webhook", "clear").stdout.decode() == "no webhook\n"
    assert cli("webhook", "status").stdout.decode() == "no webhook\n"


def test_refusals_exit_nonzero_and_change_nothing(cli, hooks):
    cli("init")
    cli("register", "--server", hooks.url)
    r = cli("webhook", "set", "https://169.254.169.254/latest", check=False)
    assert r.returncode != 0 and b"webhook" in r.stderr
    r = cli("webhook", "set", check=False)
    assert r.returncode == 64  # usage
    r = cli("webhook", "fire", check=False)
    assert r.returncode == 64
    assert cli("webhook", "status").stdout.decode() == "no webhook\n"
