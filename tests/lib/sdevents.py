"""Live-events helpers for the tests and bench/events.py: an EventSource
reader, the channel id as sealdropd derives it, and nginx's own count of a
channel's subscribers (asked on the nchan publisher socket, which only the
stack's own user can reach).

    with EventStream(srv.url, rcpt.link, rcpt.token) as es:
        wait_subscribers(srv, rcpt.link, 1)
        rcpt.send()
        event = es.next_event(timeout=1)
"""

import hashlib
import http.client
import json
import os
import queue
import socket
import threading
import time
import urllib.parse

import stack


def _paths(srv):
    """(publisher socket, key file) of a stack.Stack or a prodsite.ProductionSite."""
    if hasattr(srv, "prefix"):
        return (os.path.join(srv.prefix, "events.sock"), srv.events_key)
    return (os.path.join(srv.dir, "events-publish.sock"), os.path.join(srv.dir, "events.key"))


def _database(srv):
    """The DSN sealdropd of a stack.Stack or a prodsite.ProductionSite stores into."""
    if hasattr(srv, "prefix"):
        return srv.env.get("SEALDROP_DB", "")
    return srv.daemon_env().get("SEALDROP_DB", "")


def channel_id(srv, link_token):
    """The keyed BLAKE2b of docs/API.md "Live events", from the stack's key:
    of the link token as given on SQLite, in lower case on MariaDB/MySQL
    (whose collation matches a link token in any case)."""
    with open(_paths(srv)[1]) as f:
        key = bytes.fromhex(f.read().strip())
    if _database(srv).startswith("mysql:"):
        link_token = link_token.lower()
    return hashlib.blake2b(b"sealdrop-events-v1\n" + link_token.encode(), key=key,
                           digest_size=32).hexdigest()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


def publisher_request(srv, method, channel, body=None):
    """(status, body) of a request to the stack's nchan publisher."""
    c = _UnixConnection(_paths(srv)[0])
    try:
        c.request(method, "/_sealdrop_publish/" + channel, body=body,
                  headers={"Accept": "application/json"})
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def subscribers(srv, link_token):
    """How many subscribers nginx holds on the inbox's channel (0 when the
    channel does not exist)."""
    status, text = publisher_request(srv, "GET", channel_id(srv, link_token))
    if status == 404:
        return 0
    assert status == 200, (status, text)
    return json.loads(text)["subscribers"]


def wait_subscribers(srv, link_token, n, timeout=10):
    stack.wait_until(lambda: subscribers(srv, link_token) == n, timeout=timeout,
                     what="%d subscriber(s) on the channel" % n)


def auth(token):
    return {"Authorization": "Bearer " + token}


class EventStream:
    """GET /events as EventSource does (Accept: text/event-stream), read on
    a thread: each event's data, parsed, with the time it arrived. Plain
    http.client, so close() can shut the socket down under the reader (nginx
    then sees the subscriber go at once)."""

    def __init__(self, url, link, token=None, params=None, headers=None, source=None):
        h = {"Accept": "text/event-stream"}
        if token is not None:
            h.update(auth(token))
        h.update(headers or {})
        p = {"link_token": link}
        p.update(params or {})
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=90,
                                               source_address=(source, 0) if source else None)
        self.conn.request("GET", "/events?" + urllib.parse.urlencode(p), headers=h)
        self.sock = self.conn.sock  # http.client lets go of it once the response is read
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        self.events = queue.Queue()
        self.thread = None
        if self.status == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.body = self.response.read().decode()

    def _read(self):
        data = []
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif line == "" and data:
                    self.events.put((time.monotonic(), json.loads("\n".join(data))))
                    data = []
        except (OSError, ValueError, http.client.HTTPException):
            return  # shut down by close()

    def next_event(self, timeout):
        """(arrival time, event) or raise queue.Empty."""
        return self.events.get(timeout=timeout)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.thread is not None:
            self.thread.join(5)
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
