"""Live events under load (docs/PERFORMANCE.md "Live events"): 1,000
EventSource subscribers held by nginx (nchan) while wrk measures GET
/health through nginx and sealdropd, against /health without them in the
same run (before and after); then how fast an event reaches 10
subscribers of an inbox after a /send, with all of them held. Loopback
only, bounded in time; the stack is stopped at the end.

    /usr/bin/python3 bench/events.py [--subscribers 1000] [--inboxes 100] [--seconds 8]
"""

import argparse
import os
import re
import selectors
import signal
import socket
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from bench import Inbox, LIMITS, wrk  # noqa: E402
from sdevents import subscribers  # noqa: E402


def subscribe(port, link, token):
    """One EventSource-style subscriber on a raw socket, left unread: the
    connection nginx holds is all that matters here."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("GET /events?link_token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Accept: text/event-stream\r\nAuthorization: Bearer %s\r\n\r\n"
               % (link, token)).encode())
    return s


def held(srv, inboxes):
    return sum(subscribers(srv, i.link) for i in inboxes)


def delivery(srv, inboxes, socks_of):
    """Per inbox: /send, then the time until every one of its subscribers
    has read the event (seconds)."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for i in inboxes:
        for s in socks_of[i.link]:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            bufs[s] = b""
    # What the subscribers got so far (nchan's greeting and pings) goes.
    drain(sel, bufs, 0.2)
    for s in bufs:
        bufs[s] = b""
    took = []
    for i in inboxes:
        t0 = time.monotonic()
        r = stack_post(srv, i)
        want = ('"id":%d}' % r).encode()
        waiting = set(socks_of[i.link])
        deadline = t0 + 10
        while waiting and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                bufs[s] += s.recv(65536)
                if s in waiting and want in bufs[s]:
                    waiting.discard(s)
        if waiting:
            raise RuntimeError("%d subscribers never heard message %d" % (len(waiting), r))
        took.append(time.monotonic() - t0)
    sel.close()
    return took


def drain(sel, bufs, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.05):
            bufs[key.fileobj] += key.fileobj.recv(65536)


def stack_post(srv, inbox):
    import requests
    r = requests.post(srv.url + "/send", data=inbox.body(),
                      headers={"Content-Type": "application/json"})
    r.raise_for_status()
    return r.json()["id"]


def events_durations_us(log):
    return [int(m) for m in re.findall(r"GET /events 200 (\d+)us", log)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--inboxes", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--threads", type=int, default=4, help="sealdropd worker threads")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    per = args.subscribers // args.inboxes
    socks = []
    srv = stack.Stack(threads=args.threads, env=LIMITS, write_rate=100000, write_burst=100000,
                      events_per_address=args.subscribers + 100).start()
    try:
        import requests
        inboxes = []
        for _ in range(args.inboxes):
            i = Inbox(srv.url)
            i.token = i.reg["fetch_token"]
            inboxes.append(i)
        before = wrk(srv.url, "get.lua", args.seconds, path="/health")
        print("/health without subscribers: %d req/s, p50 %d us, p99 %d us"
              % (before["req_s"], before["p50"], before["p99"]), flush=True)

        t0 = time.monotonic()
        socks_of = {}
        for i in inboxes:
            socks_of[i.link] = [subscribe(srv.port, i.link, i.token) for _ in range(per)]
            socks += socks_of[i.link]
        stack.wait_until(lambda: held(srv, inboxes) == per * len(inboxes), timeout=60,
                         what="%d subscribers held" % (per * len(inboxes)))
        print("%d subscribers held by nginx after %.1f s" % (len(socks), time.monotonic() - t0),
              flush=True)
        r = requests.get(srv.url + "/health", timeout=5)
        assert r.status_code == 200
        during = wrk(srv.url, "get.lua", args.seconds, path="/health")
        still = held(srv, inboxes)
        print("/health with %d subscribers held: %d req/s, p50 %d us, p99 %d us "
              "(%d still held after the run)"
              % (len(socks), during["req_s"], during["p50"], during["p99"], still), flush=True)
        took = delivery(srv, inboxes, socks_of)
        took.sort()
        print("event delivery to all %d subscribers of an inbox after its /send (%d sends): "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (per, len(took), 1000 * statistics.median(took),
                 1000 * took[int(0.99 * (len(took) - 1))], 1000 * took[-1]), flush=True)
        for s in socks:
            s.close()
        socks = []
        after = wrk(srv.url, "get.lua", args.seconds, path="/health")
        print("/health without subscribers again: %d req/s, p50 %d us, p99 %d us"
              % (after["req_s"], after["p50"], after["p99"]), flush=True)
        durs = events_durations_us(srv.log())
        base = (before["req_s"] + after["req_s"]) / 2
        print()
        print("| /health | req/s | p50 | p99 | errors |")
        print("|---|---:|---:|---:|---:|")
        for label, x in (("without subscribers (before)", before),
                         ("with %d subscribers held" % (per * len(inboxes)), during),
                         ("without subscribers (after)", after)):
            print("| %s | %d | %d us | %d us | %d |"
                  % (label, x["req_s"], x["p50"], x["p99"], x["errors"] + x["non2xx"]))
        print()
        print("with subscribers: %.1f %% of the mean without them" % (100 * during["req_s"] / base))
        print("sealdropd served %d GET /events (one per subscriber); each held a worker "
              "for %d us at most (median %d us): nginx holds the rest"
              % (len(durs), max(durs) if durs else 0,
                 statistics.median(durs) if durs else 0))
    finally:
        for s in socks:
            s.close()
        srv.stop()


if __name__ == "__main__":
    main()
