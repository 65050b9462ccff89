"""GET /metrics on sealdropd's own listener, read with prometheus_client's
parser: request counts by route and status match what a known set of API
requests through nginx got, histograms are whole, the totals match the
database, and no token or address ever appears."""

import collections
import math
import os
import re
import socket
import sqlite3
import subprocess
import time

import pytest
import requests

import scrape
import stack
from sdclient import Recipient

ROOT = stack.ROOT


def ac_init_version():
    with open(os.path.join(ROOT, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[sealdrop\], \[([^\]]+)\]", f.read()).group(1)


@pytest.fixture(scope="module")
def mstack():
    port = stack.free_port()
    s = stack.Stack(threads=4, own_sqlite=True, env={
        "SEALDROP_METRICS": "127.0.0.1:%d" % port, "SEALDROP_METRICS_REFRESH": "1"})
    s.start()
    s.metrics_url = "http://127.0.0.1:%d/metrics" % port
    yield s
    rc = s.stop_daemon()
    log = s.log()
    s.stop()
    assert rc == 0, "sealdropd did not exit cleanly (%s):\n%s" % (rc, log[-4000:])


def scrape_ok(s):
    status, headers, text = scrape.get(s.metrics_url)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    return text


def requests_by_route(samples):
    out = collections.Counter()
    for (name, labels), v in samples.items():
        if name == "sealdrop_http_requests_total":
            d = dict(labels)
            out[(d["route"], d["code"])] += int(v)
    return out


class Client:
    """Makes API requests through nginx and keeps the route name and
    status of each, as sealdropd's router names them."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.seen = collections.Counter()
        self.secrets = []

    def note(self, route, r):
        self.seen[(route, str(r.status_code))] += 1
        return r

    def register(self):
        rc = Recipient(self.url, http=self.http)
        self.seen[("/register", "201")] += 1
        self.secrets += [rc.link, rc.token]
        return rc


def unknown_link(rc):
    """A well-formed link token no inbox has."""
    return rc.link[:5] + "Q" * (len(rc.link) - 5)


def run_known_requests(c):
    """A fixed mix of successes and failures on most routes."""
    a, b = c.register(), c.register()
    nobody = unknown_link(a)
    c.secrets.append(nobody)
    sent = []
    for i in range(5):
        r = c.note("/send", a.send(b"message %d" % i))
        assert r.status_code == 201, r.text
        sent.append(r.json()["id"])
    assert c.note("/send", b.send(b"to b")).status_code == 201
    assert c.note("/send", c.http.post(c.url + "/send", json={
        "link_token": nobody, "encrypted_message": a.seal(b"x")})).status_code == 404
    assert c.note("/send", c.http.post(c.url + "/send", data="{not json",
                  headers={"Content-Type": "application/json"})).status_code == 400
    assert c.note("/key/:link_token", c.http.get(c.url + "/key/" + a.link)).status_code == 200
    assert c.note("/key/:link_token", c.http.get(c.url + "/key/" + nobody)).status_code == 404
    r = c.note("/fetch", a.fetch())
    assert r.status_code == 200 and len(r.json()["data"]) == 5
    assert c.note("/fetch", c.http.post(c.url + "/fetch", json={"link_token": a.link},
                  headers={"Authorization": "Bearer " + "x" * 43})).status_code == 401
    assert c.note("/ack", a.ack(sent[:2], delete=True)).status_code == 200
    assert c.note("/challenge_request", c.http.post(c.url + "/challenge_request", json={
        "link_token": b.link})).status_code == 200
    for _ in range(2):
        assert c.note("/health", c.http.get(c.url + "/health")).status_code == 200
    assert c.note("-", c.http.get(c.url + "/no_such_endpoint")).status_code == 404
    assert c.note("/send", c.http.get(c.url + "/send")).status_code == 405
    assert c.note("/send", c.http.options(c.url + "/send")).status_code == 204
    # The public side never serves the metrics: sealdropd's router has no
    # such route, so it is an unknown path there.
    assert c.note("-", c.http.get(c.url + "/metrics")).status_code == 404
    return a, b


def test_counts_match_requests_by_route_and_status(mstack):
    _, before = scrape.parse(scrape_ok(mstack))
    c = Client(mstack.url)
    run_known_requests(c)
    families, after = scrape.parse(scrape_ok(mstack))
    delta = requests_by_route(after)
    delta.subtract(requests_by_route(before))
    delta = +delta  # drop zeros
    assert delta == c.seen
    # and the histograms saw the same requests, route by route
    for route in {r for r, _ in c.seen}:
        got = scrape.value(after, "sealdrop_http_request_duration_seconds_count", route=route) \
            - scrape.value(before, "sealdrop_http_request_duration_seconds_count", route=route)
        assert got == sum(n for (r, _), n in c.seen.items() if r == route), route
    # writes went through SQLite's group commit: at least one job per
    # registered inbox and stored message
    jobs = scrape.value(after, "sealdrop_sqlite_commit_batch_size_sum") - \
        scrape.value(before, "sealdrop_sqlite_commit_batch_size_sum")
    assert jobs >= 2 + 6 + 1  # two inboxes, six messages, one ack


def test_histograms_are_consistent(mstack):
    Client(mstack.url).register()
    families, _ = scrape.parse(scrape_ok(mstack))
    hists = [f for f in families if f.type == "histogram"]
    assert {f.name for f in hists} >= {"sealdrop_http_request_duration_seconds",
                                       "sealdrop_sqlite_commit_batch_size"}
    for fam in hists:
        groups = collections.defaultdict(dict)
        for s in fam.samples:
            labels = dict(s.labels)
            le = labels.pop("le", None)
            key = frozenset(labels.items())
            if s.name.endswith("_bucket"):
                groups[key].setdefault("buckets", []).append((float(le), s.value))
            else:
                groups[key][s.name[len(fam.name):]] = s.value
        assert groups, fam.name
        for key, g in groups.items():
            buckets = g["buckets"]
            bounds = [b for b, _ in buckets]
            assert bounds == sorted(bounds) and math.isinf(bounds[-1]), (fam.name, key)
            counts = [v for _, v in buckets]
            assert counts == sorted(counts), "buckets not cumulative: %s %s" % (fam.name, key)
            assert g["_count"] == counts[-1], (fam.name, key)
            assert g["_sum"] >= 0
            if g["_count"] == 0:
                assert g["_sum"] == 0


def test_totals_match_the_database(mstack):
    c = Client(mstack.url)
    run_known_requests(c)
    done = time.time()

    def refreshed_after():
        _, s = scrape.parse(scrape_ok(mstack))
        return s if scrape.value(s, "sealdrop_totals_refresh_timestamp_seconds") > done else None

    samples = stack.wait_until(refreshed_after, what="a totals refresh after the requests")
    db = sqlite3.connect("file:%s?mode=ro" % mstack.sqlite_path(), uri=True)
    try:
        inboxes = db.execute("SELECT COUNT(*) FROM clients").fetchone()[0]
        messages, charged = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(charged), 0) FROM messages").fetchone()
    finally:
        db.close()
    assert inboxes >= 2 and messages >= 4
    assert scrape.value(samples, "sealdrop_store_up") == 1
    assert scrape.value(samples, "sealdrop_inboxes") == inboxes
    assert scrape.value(samples, "sealdrop_messages") == messages
    assert scrape.value(samples, "sealdrop_stored_bytes") == charged
    st = os.statvfs(os.path.dirname(mstack.sqlite_path()))
    free = scrape.value(samples, "sealdrop_disk_free_bytes")
    assert 0 < free <= st.f_blocks * st.f_frsize
    assert scrape.value(samples, "sealdrop_disk_size_bytes") == st.f_blocks * st.f_frsize


def test_no_token_path_or_address_in_the_output(mstack):
    c = Client(mstack.url)
    a, b = run_known_requests(c)
    text = scrape_ok(mstack)
    scrape.parse(text)
    for secret in c.secrets:
        assert secret not in text
    for piece in ("/key/" + a.link, "x" * 43, "127.0.0.1", "::1",
                  "no_such_endpoint", "Bearer"):
        assert piece not in text, piece
    # labels come from fixed vocabularies only
    families, samples = scrape.parse(text)
    routes = {dict(k[1]).get("route") for k in samples} - {None}
    assert routes <= {"-", "other", "/health", "/register", "/key/:link_token", "/send",
                      "/challenge_request", "/fetch", "/ack", "/rotate_token", "/unregister",
                      "/check_contact", "/request_message_permission",
                      "/get_message_requests", "/respond_message_request", "/receipt",
                      "/receipt/answer", "/reply"}, routes
    labels = {name for k in samples for name, _ in k[1]}
    assert labels <= {"route", "code", "le", "kind", "version"}, labels


def test_build_info_names_the_version(mstack):
    _, samples = scrape.parse(scrape_ok(mstack))
    infos = {k: v for k, v in samples.items() if k[0] == "sealdrop_build_info"}
    assert infos == {("sealdrop_build_info", frozenset({("version", ac_init_version())})): 1.0}


def test_listener_answers_only_get_metrics(mstack):
    port = int(mstack.metrics_url.split(":")[2].split("/")[0])
    addr = ("127.0.0.1", port)
    for req in (b"GET / HTTP/1.0\r\n\r\n", b"GET /metricsx HTTP/1.0\r\n\r\n",
                b"POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /metrics\r\n\r\n"):
        out = scrape.raw(addr, req)
        assert out.startswith(b"HTTP/1.0 404 "), (req, out[:80])
        assert b"sealdrop_" not in out
    out = scrape.raw(addr, b"GET /metrics HTTP/1.0\r\n" + b"X-Pad: " + b"a" * 5000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.0 400 "), out[:80]
    out = scrape.raw(addr, b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.0 200 ") and b"sealdrop_build_info" in out
    scrape_ok(mstack)  # still serving


def test_purge_runs_and_deleted_messages_are_counted():
    with stack.Stack(threads=2, own_sqlite=True, env={
            "SEALDROP_METRICS": "127.0.0.1:%d" % stack.free_port(),
            "SEALDROP_RETENTION_DAYS": "1"}) as s:
        url = "http://" + s.extra_env["SEALDROP_METRICS"] + "/metrics"
        rc = Recipient(s.url)
        for i in range(3):
            assert rc.send(b"m%d" % i).status_code == 201
        db = sqlite3.connect(s.sqlite_path())
        with db:
            db.execute("UPDATE messages SET created_at = created_at - 2 * 86400")
        db.close()
        s.restart_daemon()  # the purge runs at start

        def purged():
            status, _, text = scrape.get(url)
            _, smp = scrape.parse(text)
            return smp if scrape.value(smp, "sealdrop_purge_runs_total") >= 1 else None

        smp = stack.wait_until(purged, what="the first purge round")
        assert scrape.value(smp, "sealdrop_purge_deleted_messages_total") == 3
        assert scrape.value(smp, "sealdrop_purge_failures_total") == 0
        assert rc.fetch().json()["data"] == []


def test_unix_socket_listener(temp_dir):
    path = os.path.join(temp_dir("sealdrop-metrics-"), "metrics.sock")
    with stack.Stack(threads=2, env={"SEALDROP_METRICS": "unix:" + path}) as s:
        assert requests.get(s.url + "/health").status_code == 200
        out = scrape.raw(path, b"GET /metrics HTTP/1.0\r\n\r\n", socket.AF_UNIX)
        head, _, body = out.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200 ")
        _, samples = scrape.parse(body.decode())
        assert scrape.value(samples, "sealdrop_http_requests_total", route="/health",
                            code="200") >= 2  # the stack's readiness poll and ours
        assert oct(os.stat(path).st_mode & 0o777) == "0o660"
    assert not os.path.exists(path), "the socket file is removed at exit"


@pytest.mark.parametrize("addr", ["0.0.0.0:%d", "192.0.2.1:%d", "[::]:%d", "[2001:db8::1]:%d",
                                  "example.org:%d", ":%d"])
def test_non_loopback_address_is_refused_at_start(sealdropd, addr, temp_dir):
    d = temp_dir("sealdrop-metrics-")
    port = stack.free_port()
    r = subprocess.run([sealdropd, "--listen", "unix:" + os.path.join(d, "s.sock"),
                        "--metrics", addr % port, "--state", d],
                       capture_output=True, text=True, timeout=30, cwd=d)
    assert r.returncode == 78, r
    assert "not a loopback address" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(d, "s.sock"))
    # nothing listens on that port
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_cgi_requests_ignore_the_metrics_setting(sealdropd, temp_dir):
    """A CGI process serves one request: it must not try to open the
    metrics address (every concurrent request would fight for it). The port
    is held here, so a process that tried would fail to start."""
    d = temp_dir("sealdrop-metrics-cgi-")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        env = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "PATH_INFO": "/health",
               "SCRIPT_NAME": "/cgi-bin/sealdrop.cgi", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "203.0.113.9", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "SEALDROP_DB": "sqlite:" + os.path.join(d, "sealdrop.db"),
               "SEALDROP_METRICS": "127.0.0.1:%d" % held.getsockname()[1]}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        r = subprocess.run([sealdropd], stdin=subprocess.DEVNULL, env=env, cwd=d,
                           capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"Status: 200"), r.stdout[:200]


def test_mariadb_totals_and_a_store_outage(mariadb):
    """On MariaDB: the totals match the database; while the database is
    down, sealdrop_store_up is 0, connection failures are counted and sends
    are counted as 503; once it is back, store_up returns to 1."""
    db = mariadb.new_database()
    with stack.Stack(threads=2, db=mariadb.dsn_for(db), env={
            "SEALDROP_METRICS": "127.0.0.1:%d" % stack.free_port(),
            "SEALDROP_METRICS_REFRESH": "1"}) as s:
        url = "http://" + s.extra_env["SEALDROP_METRICS"] + "/metrics"

        def metrics():
            status, _, text = scrape.get(url)
            assert status == 200
            return scrape.parse(text)[1]

        a, b = Recipient(s.url), Recipient(s.url)
        for i in range(3):
            assert a.send(b"m%d" % i).status_code == 201
        assert b.send(b"x").status_code == 201
        done = time.time()
        smp = stack.wait_until(
            lambda: (lambda m: m if scrape.value(
                m, "sealdrop_totals_refresh_timestamp_seconds") > done else None)(metrics()),
            what="a totals refresh after the sends")
        inboxes, messages, charged = map(int, mariadb.sql(
            "SELECT (SELECT COUNT(*) FROM clients), COUNT(*), COALESCE(SUM(charged), 0) "
            "FROM messages", db).split())
        assert (inboxes, messages) == (2, 4)
        assert scrape.value(smp, "sealdrop_inboxes") == inboxes
        assert scrape.value(smp, "sealdrop_messages") == messages
        assert scrape.value(smp, "sealdrop_stored_bytes") == charged
        assert scrape.value(smp, "sealdrop_store_up") == 1
        assert not any(k[0].startswith("sealdrop_disk_") for k in smp)  # SQLite only

        mariadb.stop()
        try:
            down = stack.wait_until(
                lambda: (lambda m: m if scrape.value(m, "sealdrop_store_up") == 0 else None)(
                    metrics()), what="sealdrop_store_up 0 with the database stopped")
            # the refresh's statement fails first, then its reconnections
            assert scrape.value(down, "sealdrop_store_errors_total", kind="db") + \
                scrape.value(down, "sealdrop_store_errors_total", kind="connect") >= 1
            stack.wait_until(lambda: scrape.value(metrics(), "sealdrop_store_errors_total",
                                                  kind="connect") >= 1,
                             what="a failed reconnection counted")
            before = scrape.value(down, "sealdrop_http_requests_total", route="/send",
                                  code="503")
            assert a.send(b"while down").status_code == 503
            assert scrape.value(metrics(), "sealdrop_http_requests_total", route="/send",
                                code="503") == before + 1
        finally:
            mariadb.start()
        stack.wait_until(lambda: scrape.value(metrics(), "sealdrop_store_up") == 1,
                         what="sealdrop_store_up 1 once the database is back")
        # a worker whose connection died meanwhile answers one 503 and
        # reconnects (docs/DEPLOY.md, section 3)
        stack.wait_until(lambda: a.send(b"after").status_code == 201,
                         what="a send stored once the database is back")
