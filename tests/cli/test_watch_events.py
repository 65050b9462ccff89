"""`sealdrop watch` with live events (docs/API.md "Live events"): it waits
on GET /events between reads, so a new message shows within a second
although its poll interval is long; where the server has no events it
polls as before."""

import signal
import time

import pytest

import stack
from conftest import Cli, link_parts
from sdevents import wait_subscribers


def read_line_with(p, text, timeout):
    """The time at which a line holding text came from p, or fail."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = p.stdout.readline().decode()
        if line == "":
            break
        seen.append(line)
        if text in line:
            return time.monotonic()
    raise AssertionError("%r never came: %r" % (text, seen[-5:]))


def stop(p):
    p.send_signal(signal.SIGINT)
    assert p.wait(10) == 0


def test_watch_prints_a_new_message_within_a_second(cli, srv, inbox, cli_path, tmp_path):
    _, link_token, _ = link_parts(inbox)
    sender = Cli(cli_path, str(tmp_path / "nobody" / "identity"))
    # A poll every 10 minutes: only the live event can bring it sooner.
    p = cli.popen("watch", "--interval", "600")
    try:
        wait_subscribers(srv, link_token, 1)
        for text in ("first live one", "second live one"):
            sender("send", inbox, text)
            sent = time.monotonic()
            shown = read_line_with(p, text, timeout=10)
            assert shown - sent < 1.0, "shown %.3fs after the send" % (shown - sent)
            wait_subscribers(srv, link_token, 1)  # waiting again
    finally:
        stop(p)


@pytest.fixture(scope="module")
def no_events():
    """A stack whose sealdropd publishes no events: /events is 501."""
    s = stack.Stack(env={"SEALDROP_EVENTS_PUBLISH": ""}).start()
    yield s
    s.stop()


def test_watch_polls_where_the_server_has_no_events(cli, no_events, cli_path, tmp_path):
    cli("init")
    link = cli("register", "--server", no_events.url).stdout.decode().strip()
    sender = Cli(cli_path, str(tmp_path / "nobody" / "identity"))
    p = cli.popen("watch", "--interval", "1")
    try:
        time.sleep(0.5)
        sender("send", link, "found by polling")
        read_line_with(p, "found by polling", timeout=10)
    finally:
        stop(p)
