"""`sealdrop watch` with live events (docs/API.md "Live events"): it waits
on GET /events between reads, so a new message shows within a second
although its poll interval is long; where the server has no events it
polls as before."""

import json
import signal
import socket
import threading
import time
import urllib.parse

import pytest

import stack
from conftest import Cli, link_parts
from sdevents import channel_id, publisher_request, wait_subscribers


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


class HoldFirstEvents:
    """A TCP relay in front of the stack that holds the first GET /events
    until told: a message can then be stored after watch's read and
    before its first wait reaches nginx."""

    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.upstream = (u.hostname, u.port)
        self.seen = threading.Event()
        self.release = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = c.recv(4096)
            if not chunk:
                c.close()
                return
            head += chunk
        if head.startswith(b"GET /events") and not self.seen.is_set():
            self.seen.set()
            self.release.wait(20)
        up = socket.create_connection(self.upstream)
        up.sendall(head)
        threading.Thread(target=self._pipe, args=(up, c), daemon=True).start()
        self._pipe(c, up)

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.release.set()
        self.sock.close()


def test_watch_hears_a_message_stored_between_its_read_and_its_first_wait(
        cli, srv, cli_path, tmp_path):
    """The first wait has no cursor of nchan's: it asks from the time of
    the read before it, so a message stored in between is not missed
    until the next poll."""
    relay = HoldFirstEvents(srv.url)
    try:
        cli("init")
        link = cli("register", "--server", relay.url).stdout.decode().strip()
        _, link_token, _ = link_parts(link)
        sender = Cli(cli_path, str(tmp_path / "nobody" / "identity"))
        p = cli.popen("watch", "--interval", "600")
        try:
            # watch has read the (empty) inbox and is on its way to wait.
            assert relay.seen.wait(10)
            sender("send", link, "stored in the gap")
            # nchan holds the event before the wait arrives.
            deadline = time.monotonic() + 5
            while publisher_messages(srv, link_token) < 1:
                assert time.monotonic() < deadline, "the event was never published"
                time.sleep(0.05)
            relay.release.set()
            released = time.monotonic()
            shown = read_line_with(p, "stored in the gap", timeout=10)
            assert shown - released < 2.0, "shown %.3fs after the wait" % (shown - released)
        finally:
            stop(p)
    finally:
        relay.close()


def publisher_messages(srv, link_token):
    """How many events nchan holds for the inbox's channel."""
    status, text = publisher_request(srv, "GET", channel_id(srv, link_token))
    return json.loads(text).get("messages", 0) if status == 200 else 0
