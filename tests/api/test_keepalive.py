"""nginx keeps its FastCGI connections to sealdropd open (upstream
keepalive, fastcgi_keep_conn on). sealdropd parks an idle kept connection in
its wait set instead of leaving a worker thread blocked on it, so more kept
connections than threads must not stall anything; a refused request must not
leave bytes on a kept connection for the next one; and a page larger than one
FastCGI record (written with one writev) must arrive whole."""

import concurrent.futures
import json
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "lib")))

import stack  # noqa: E402
from sdclient import Recipient, expect_error  # noqa: E402

THREADS = 2
# nginx logs what went wrong with an upstream connection at "error"; the
# test site logs only "alert" (addresses, link tokens), so this test's own
# log takes the upstream errors.
ERROR_LOG = "upstream-error.log"


def kept_connections(s):
    """sealdropd's connected sockets on its FastCGI socket (accepted from
    nginx, busy or parked): /proc/net/unix names the socket's path for
    accepted connections too; state 03 is connected, the listener is 01."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % s.daemon.pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    n = 0
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            cols = line.split()
            if len(cols) >= 8 and cols[7] == s.sock and cols[5] == "03" and cols[6] in inodes:
                n += 1
    return n


def new_stack():
    # One sealdropd whatever the run's databases: its threads and its kept
    # connections are what is counted (a cluster run would spread them).
    return stack.Stack(threads=THREADS, env={"SEALDROP_EVENTS_PUBLISH": ""}, own_sqlite=True,
                       extra_nginx="error_log %s error;" % ERROR_LOG).start()


def upstream_errors(s):
    try:
        with open(os.path.join(s.dir, ERROR_LOG)) as f:
            text = f.read()
    except OSError:
        return []
    bad = ("upstream prematurely closed", "invalid header", "upstream sent",
           "upstream timed out", "recv() failed", "writev() failed", "connect() to")
    return [line for line in text.splitlines() if any(b in line for b in bad)]


def finish(s):
    rc = s.stop_daemon()
    log = s.log()
    errors = upstream_errors(s)
    s.stop()
    assert rc == 0, "sealdropd did not exit cleanly (%s):\n%s" % (rc, log[-4000:])
    assert errors == [], errors


def concurrent_health(url, n):
    """n requests at once, each on its own client connection: nginx needs
    an upstream connection for each one in flight. Returns the statuses and
    the slowest answer's seconds."""
    barrier = threading.Barrier(n)

    def one(_):
        with requests.Session() as http:
            barrier.wait(10)
            t = time.monotonic()
            r = http.get(url + "/health", timeout=30)
            return r.status_code, time.monotonic() - t

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    return [st for st, _ in results], max(t for _, t in results)


def test_more_kept_connections_than_threads_do_not_stall():
    s = new_stack()
    try:
        # nginx opens a connection per request in flight and keeps up to 16
        # afterwards; a few rounds of concurrent requests leave more of
        # them with sealdropd than it has threads.
        for _ in range(30):
            statuses, _ = concurrent_health(s.url, 12)
            assert statuses == [200] * 12
            if kept_connections(s) > THREADS + 1:
                break
        kept = kept_connections(s)
        assert kept > THREADS + 1, "nginx kept only %d connections" % kept
        # Every kept connection is idle now: with a thread blocked on each,
        # nothing would be left for the next requests.
        statuses, slowest = concurrent_health(s.url, 12)
        assert statuses == [200] * 12
        assert slowest < 5, "a request waited %.1f s" % slowest
        with requests.Session() as http:
            for _ in range(50):
                t = time.monotonic()
                r = http.get(s.url + "/health", timeout=30)
                assert r.status_code == 200
                assert time.monotonic() - t < 5
        # Kept connections are reused, not piled up.
        assert kept_connections(s) <= 16
        # A stop is prompt although nginx holds idle connections open.
        t = time.monotonic()
        rc = s.stop_daemon()
        assert rc == 0
        assert time.monotonic() - t < 5
    finally:
        s.stop()


def test_connections_nginx_closes_are_closed():
    s = new_stack()
    try:
        for _ in range(10):
            concurrent_health(s.url, 8)
        assert kept_connections(s) >= 2
        # nginx (started by the stack, this PID only) goes away: every kept
        # connection reaches end of file, and sealdropd closes its side.
        s.nginx.terminate()
        s.nginx.wait(20)
        stack.wait_until(lambda: kept_connections(s) == 0, timeout=10,
                         what="sealdropd to close the connections nginx closed")
        assert s.daemon.poll() is None
    finally:
        rc = s.stop_daemon()
        s.stop()
    assert rc == 0


def test_refused_bodies_leave_nothing_on_the_connection():
    s = new_stack()
    try:
        r = Recipient(s.url)
        http = requests.Session()  # one client connection: nginx reuses its last upstream one
        big = json.dumps({"link_token": r.link, "encrypted_message": "A" * 60000})
        for i in range(20):
            # Refused: too large for /send, not JSON, a body where none is
            # expected, and an unknown path with a body.
            expect_error(http.post(s.url + "/send", data=big,
                                   headers={"Content-Type": "application/json"}), 413)
            bad = http.post(s.url + "/send", data=b"{\"link_token\": " + b"x" * 3000,
                            headers={"Content-Type": "application/json"})
            assert bad.status_code == 400, bad.text
            assert http.post(s.url + "/health", data=b"y" * 50000).status_code in (400, 405, 413)
            assert http.post(s.url + "/no-such-path", data=b"z" * 40000).status_code == 404
            # The next request on the same connection is answered as itself.
            text = b"message %d" % i
            sent = r.send(text, http=http)
            assert sent.status_code == 201, sent.text
            h = http.get(s.url + "/health")
            assert h.status_code == 200 and h.json()["status"] == "healthy", h.text
        page = r.fetch(limit=50)
        assert page.status_code == 200
        got = sorted(r.open(m["encrypted_message"]) for m in page.json()["data"])
        assert got == sorted(b"message %d" % i for i in range(20))
        assert kept_connections(s) <= 16
    finally:
        finish(s)


def test_page_of_50_messages_arrives_whole():
    s = new_stack()
    try:
        r = Recipient(s.url)
        texts = [(b"%02d:" % i) + os.urandom(1500).hex().encode() for i in range(50)]
        for t in texts:
            assert r.send(t).status_code == 201
        first = r.fetch(limit=50)
        assert first.status_code == 200
        body = first.content
        # Larger than one FastCGI record (65535 bytes): several records in
        # one writev, each read back in order.
        assert len(body) > 2 * 65535
        assert int(first.headers["Content-Length"]) == len(body)
        page = json.loads(body)
        assert [r.open(m["encrypted_message"]) for m in page["data"]] == texts[::-1]
        # The same page again: byte for byte, as JSON and as bytes.
        again = r.fetch(limit=50)
        assert again.content == body
        # A small answer right after a large one on the same connection
        # is not mixed with it.
        h = r.http.get(s.url + "/health")
        assert h.status_code == 200 and h.json()["status"] == "healthy"
    finally:
        finish(s)
