"""The benchmark driver behind bench/run. Loopback only, bounded in time."""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import stack  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
BASELINE = 'location = /_baseline { access_log off; return 200 "ok\\n"; }'
LIMITS = {"SEALDROP_INBOX_MAX_MESSAGES": "10000000", "SEALDROP_INBOX_MAX_BYTES": str(1 << 40),
          "SEALDROP_CHALLENGES_PER_CALLER": "1000"}


def b64(b):
    return base64.b64encode(bytes(b)).decode()


def wrk(url, script, seconds, env=None, threads=2, conns=32, path="/"):
    e = dict(os.environ, BENCH_DIR=BENCH)
    e.update(env or {})
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
           "-s", os.path.join(BENCH, script), url + path]
    out = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"RESULT req_s=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+) non2xx=(\d+) "
                  r"total=(\d+)", out)
    if not m:
        raise RuntimeError("wrk printed no result:\n" + out)
    return dict(zip(("req_s", "p50", "p99", "errors", "non2xx", "total"), map(int, m.groups())))


class Inbox:
    def __init__(self, url):
        self.sk = SigningKey.generate()
        r = requests.post(url + "/register", json={"public_key": b64(self.sk.verify_key)})
        r.raise_for_status()
        self.reg = r.json()
        self.link = self.reg["link_token"]
        self.box = SealedBox(self.sk.verify_key.to_curve25519_public_key())

    def body(self, text=b"x" * 200):
        return json.dumps({"link_token": self.link, "encrypted_message": b64(self.box.encrypt(text))})


def responder_path():
    """Built beside the sealdropd being measured."""
    return os.path.join(os.path.dirname(stack.sealdropd_path()), "bench", "fcgi_responder")


RESPONDER_KEEPALIVE = 8


def responder_upstreams(small_sock, page_sock, threads):
    """Upstreams for the two responders with the keepalive the API's
    upstream has (nginx/dev.conf.in), but below the responder's thread
    count: plain libfcgi serves a kept connection with one thread until
    nginx closes it, so idle kept connections pin its threads, and as many
    as it has would leave none for a new connection."""
    keep = min(RESPONDER_KEEPALIVE, threads // 2)
    out = ""
    for name, sock in (("small", small_sock), ("page", page_sock)):
        out += "upstream sd_fcgi_%s {\n    server unix:%s;\n%s}\n" % (
            name, sock, "    keepalive %d;\n" % keep if keep > 0 else "")
    return out


def responder_locations():
    """nginx locations for the two responders, with exactly the FastCGI
    settings the API gets (the project's snippet, another upstream)."""
    with open(os.path.join(ROOT, "nginx", "snippets", "sealdrop-fastcgi.conf")) as f:
        snippet = f.read()
    assert "fastcgi_pass sealdropd;" in snippet
    out = ""
    for name in ("small", "page"):
        body = snippet.replace("fastcgi_pass sealdropd;", "fastcgi_pass sd_fcgi_%s;" % name)
        out += "location = /_fcgi_%s {\n%s\n}\n" % (name, body)
    return out


class Responder:
    """bench/fcgi_responder on a socket, answering body_bytes bytes."""

    def __init__(self, sock, body_bytes, threads):
        self.proc = subprocess.Popen([responder_path(), sock, str(body_bytes), str(threads)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            stack.wait_until(lambda: os.path.exists(sock), what="the responder's socket",
                             alive=stack.exited(self.proc, "the responder"))
        except BaseException:
            self.stop()
            raise

    def stop(self):
        self.proc.kill()  # libfcgi keeps accepting through SIGTERM
        self.proc.wait(10)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def insert_challenges(s, db_dsn, mariadb, inbox, n):
    """Store n challenges for inbox directly (as /challenge_request would)
    and return fetch bodies carrying their signatures."""
    now = int(time.time())
    rows, bodies = [], []
    for i in range(n):
        ch = b64(os.urandom(32))
        rows.append((inbox.link, ch, now, now + 3600, "bench"))
        sig = b64(inbox.sk.sign(ch.encode()).signature)
        bodies.append(json.dumps({"link_token": inbox.link, "challenge": ch,
                                  "challenge_signature": sig, "limit": 50}))
    if db_dsn.startswith("sqlite:"):
        import sqlite3
        db = sqlite3.connect(db_dsn[len("sqlite:"):], timeout=30)
        db.executemany("INSERT INTO challenges (link_token, challenge_nonce, created_at, "
                       "expires_at, used, caller) VALUES (?, ?, ?, ?, 0, ?)", rows)
        db.commit()
        db.close()
    else:
        sql = "".join("INSERT INTO challenges (link_token, challenge_nonce, created_at, expires_at, "
                      "used, caller) VALUES ('%s','%s',FROM_UNIXTIME(%d),FROM_UNIXTIME(%d),0,'%s');\n"
                      % r for r in rows)
        mariadb.sql("START TRANSACTION;\n" + sql + "COMMIT;\n", "sealdrop")
    return bodies


def run_backend(name, args, db_dsn=None, mariadb=None):
    """Every scenario through one nginx, each next to its ceiling: nginx's
    own `return 200`, and the smallest libfcgi responder answering a body of
    the size the scenario answers, behind the same FastCGI settings."""
    rdir = tempfile.mkdtemp(prefix="sealdrop-responder-")
    tmp = tempfile.mkdtemp(prefix="sealdrop-bench-")
    small_sock, page_sock = os.path.join(rdir, "small.sock"), os.path.join(rdir, "page.sock")
    responders = []
    try:
        return measure_backend(args, db_dsn, mariadb, tmp, small_sock, page_sock, responders, name)
    finally:
        # Also on SIGTERM: main() turns it into SystemExit.
        for r in responders:
            r.stop()
        shutil.rmtree(rdir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def measure_backend(args, db_dsn, mariadb, tmp, small_sock, page_sock, responders, name):
    results = []
    env = dict(LIMITS, SEALDROP_EVENTS_PUBLISH="") if args.no_events else LIMITS
    with stack.Stack(threads=args.threads, env=env, db=db_dsn,
                     extra_nginx=BASELINE + responder_locations(),
                     extra_http=responder_upstreams(small_sock, page_sock, args.threads),
                     write_rate=1000000, write_burst=1000000) as s:
        dsn = s.daemon_env()["SEALDROP_DB"]
        url = s.url
        # Prepared data: 16 inboxes to send to, one inbox with 60 messages to
        # fetch 50 from, 50 inboxes to ask challenges for.
        sendees = [Inbox(url) for _ in range(16)]
        with open(os.path.join(tmp, "send.txt"), "w") as f:
            for i in range(2000):
                f.write(sendees[i % 16].body() + "\n")
        reader = Inbox(url)
        sess = requests.Session()
        sent = None
        for _ in range(60):
            sent = sess.post(url + "/send", data=reader.body(), headers={
                "Content-Type": "application/json"})
            sent.raise_for_status()
        page = sess.post(url + "/fetch", json={"link_token": reader.link, "include_seen": True,
                                               "limit": 50},
                         headers={"Authorization": "Bearer " + reader.reg["fetch_token"]})
        page.raise_for_status()
        responders.append(Responder(small_sock, len(sent.content), args.threads))
        responders.append(Responder(page_sock, len(page.content), args.threads))
        askers = [Inbox(url) for _ in range(50)]
        with open(os.path.join(tmp, "challenge.txt"), "w") as f:
            for a in askers:
                f.write(json.dumps({"link_token": a.link}) + "\n")
        signed_path = os.path.join(tmp, "signed.txt")
        with open(signed_path, "w") as f:
            f.write("\n".join(insert_challenges(s, dsn, mariadb, reader, args.signed)) + "\n")

        sec = args.seconds
        rss_start = rss_kb(s.daemon.pid)
        sends = {"BODIES": os.path.join(tmp, "send.txt")}
        fetch = {"LINK": reader.link, "TOKEN": reader.reg["fetch_token"]}
        # (title, script, env, path, ceiling this scenario is measured against)
        scen = [
            ("nginx return 200", "get.lua", {}, "/_baseline", None),
            ("responder: GET, small reply", "get.lua", {}, "/_fcgi_small", None),
            ("GET /health", "get.lua", {}, "/health", "responder: GET, small reply"),
            ("responder: /send bodies, small reply", "send.lua",
             dict(sends, TARGET="/_fcgi_small"), "/", None),
            ("POST /send", "send.lua", sends, "/", "responder: /send bodies, small reply"),
            ("responder: /fetch request, page reply", "fetch.lua",
             dict(fetch, TARGET="/_fcgi_page"), "/", None),
            ("POST /fetch (Bearer, 50 msgs)", "fetch.lua", fetch, "/",
             "responder: /fetch request, page reply"),
            ("POST /challenge_request", "challenge.lua",
             {"BODIES": os.path.join(tmp, "challenge.txt")}, "/",
             "responder: /send bodies, small reply"),
            ("POST /fetch (signed challenge)", "signed_fetch.lua", {"BODIES": signed_path}, "/",
             "responder: /fetch request, page reply"),
        ]
        by_name = {}
        for title, script, env, path, ceiling in scen:
            if args.only and ceiling and not any(t in title for t in args.only.split(",")):
                continue
            rec = profile_start(args.perf, name, title, sec) if ceiling else None
            r = wrk(url, script, sec, env, path=path, threads=2, conns=args.conns)
            profile_report(rec)
            r["name"] = title
            r["nginx"] = r["req_s"] / results[0]["req_s"] if results else 1.0
            r["ceiling"] = ceiling
            r["ratio"] = r["req_s"] / by_name[ceiling]["req_s"] if ceiling else None
            by_name[title] = r
            results.append(r)
            print("  %-40s %8d req/s  p50 %6d us  p99 %7d us  errors %d  non-2xx %d%s" % (
                title, r["req_s"], r["p50"], r["p99"], r["errors"], r["non2xx"],
                "  %.2fx its responder" % r["ratio"] if ceiling else ""), flush=True)
        rss = (rss_start, rss_kb(s.daemon.pid),
               sum(r["total"] for r in results if not r["name"].startswith(("responder",
                                                                            "nginx"))))
    results[0]["bodies"] = (len(sent.content), len(page.content))
    return results, rss


def profile_start(outdir, backend, title, seconds):
    """With --perf DIR: a whole-machine `perf record -g` over the middle of
    the scenario, so the report shows which process (nginx, sealdropd, the
    database, wrk) and which functions the time goes to."""
    if not outdir:
        return None
    os.makedirs(outdir, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", (backend + " " + title).lower()).strip("-")
    data = os.path.join(outdir, slug + ".data")
    proc = subprocess.Popen(["perf", "record", "-a", "-g", "-q", "-o", data, "--", "sleep",
                             str(max(1, seconds - 2))], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc, data, os.path.join(outdir, slug + ".txt")


def profile_report(rec):
    if rec is None:
        return
    proc, data, txt = rec
    proc.wait(timeout=120)
    with open(txt, "w") as f:
        for sort in ("comm", "comm,dso,sym"):
            f.write(subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                    "-g", "none", "--percent-limit", "0.7", "--sort", sort],
                                   capture_output=True, text=True, timeout=300).stdout)
    print("  perf: " + txt, flush=True)


def scale(args, db_dsn=None, mariadb=None):
    """/fetch p99 for one ordinary inbox and one holding 100,000 messages,
    at 10^4 and then 10^6 stored messages."""
    rows = []
    env = dict(LIMITS, SEALDROP_EVENTS_PUBLISH="") if args.no_events else LIMITS
    with stack.Stack(threads=args.threads, env=env, db=db_dsn, extra_nginx=BASELINE) as s:
        dsn = s.daemon_env()["SEALDROP_DB"]
        gen = ["/usr/bin/python3", os.path.join(BENCH, "gen.py"), dsn]
        if mariadb is not None:
            gen += ["--mysql-socket", mariadb.socket]
        token = "bench-fetch-token"
        small = "link_bench00000007"

        def measure(label, link):
            r = wrk(s.url, "fetch.lua", args.seconds, {"LINK": link, "TOKEN": token})
            r["name"] = label
            rows.append(r)
            print("  %-44s %8d req/s  p50 %6d us  p99 %7d us  errors %d" % (
                label, r["req_s"], r["p50"], r["p99"], r["errors"]), flush=True)

        subprocess.run(gen + ["--inboxes", "200", "--messages", "10000", "--prefix",
                              "link_bench"], check=True)
        measure("10^4 messages: /fetch, inbox of 50", small)
        subprocess.run(gen + ["--inboxes", "10000", "--messages", "990000", "--big-inbox",
                              "100000", "--prefix", "link_bulk"], check=True)
        measure("10^6 messages: /fetch, inbox of 50", small)
        measure("10^6 messages: /fetch, inbox of 100,000", "link_bulk%08d" % 10000)
    return rows


def soak(args):
    """sealdropd with 8 worker threads: RSS while a million requests go
    through (fetch, send, health rounds), sampled after each round."""
    rows = []
    with stack.Stack(threads=8, env=LIMITS, write_rate=1000000, write_burst=1000000) as s:
        reader = Inbox(s.url)
        sess = requests.Session()
        for _ in range(60):
            sess.post(s.url + "/send", data=reader.body(),
                      headers={"Content-Type": "application/json"}).raise_for_status()
        tmp = tempfile.mkdtemp(prefix="sealdrop-soak-", dir=s.dir)  # removed with the stack
        sendees = [Inbox(s.url) for _ in range(8)]
        with open(os.path.join(tmp, "send.txt"), "w") as f:
            for i in range(2000):
                f.write(sendees[i % 8].body() + "\n")
        total = 0
        rows.append((0, rss_kb(s.daemon.pid)))
        rounds = [("fetch.lua", {"LINK": reader.link, "TOKEN": reader.reg["fetch_token"]}, "/"),
                  ("get.lua", {}, "/health"),
                  ("send.lua", {"BODIES": os.path.join(tmp, "send.txt")}, "/")]
        i = 0
        while total < args.soak:
            script, env, path = rounds[i % 3]
            r = wrk(s.url, script, 10, env, path=path)
            if r["errors"]:
                raise RuntimeError("errors during the soak: %r" % r)
            total += r["total"]
            rows.append((total, rss_kb(s.daemon.pid)))
            print("  %9d requests  RSS %.1f MB" % (total, rows[-1][1] / 1024), flush=True)
            i += 1
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--backends", default="sqlite,mariadb")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--signed", type=int, default=60000)
    ap.add_argument("--no-events", action="store_true",
                    help="sealdropd without live events (one publish per stored message)")
    ap.add_argument("--db-socket", action="store_true",
                    help="sealdropd reaches MariaDB through its unix socket, not TCP")
    ap.add_argument("--scale", action="store_true", help="also the 10^4 -> 10^6 scaling run")
    ap.add_argument("--only", default="", metavar="TEXT",
                    help="only the scenarios whose title holds TEXT, or any of several "
                    "comma-separated TEXTs (and their ceilings)")
    ap.add_argument("--perf", default="", metavar="DIR",
                    help="a whole-machine perf profile of each scenario, written to DIR")
    ap.add_argument("--soak", type=int, default=0, metavar="N",
                    help="only the memory soak: N requests through 8 threads")
    ap.add_argument("--db", choices=["galera"],
                    help="galera: only one node of a 3-node cluster against three (galera.py)")
    args = ap.parse_args()
    # SIGTERM (kill, timeout, a CI runner) as SystemExit: the finally blocks
    # then stop the responders and stacks and remove the temp directories.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    if args.db == "galera":
        import galera
        galera.run(args)
        return
    if args.soak:
        rows = soak(args)
        print("sealdropd RSS with 8 threads: %.1f MB at the start, %.1f MB after %d requests, "
              "%.1f MB at most" % (rows[1][1] / 1024, rows[-1][1] / 1024, rows[-1][0],
                                   max(r[1] for r in rows) / 1024))
        return
    table = []
    for backend in args.backends.split(","):
        print("== %s" % backend, flush=True)
        if backend == "sqlite":
            res, rss = run_backend(backend, args)
        else:
            sys.path.insert(0, os.path.join(ROOT, "tests", "deploy"))
            from conftest import MariaDB
            d = tempfile.mkdtemp(prefix="sealdrop-bench-mariadb-")
            m = MariaDB(d)
            try:
                dsn = m.dsn
                if args.db_socket:
                    dsn = "mysql://sealdrop:%s@unix(%s)/sealdrop" % (m.password, m.socket)
                res, rss = run_backend(backend, args, dsn, m)
            finally:
                m.stop()
                shutil.rmtree(d, ignore_errors=True)
        table.append((backend, res, rss))
    print()
    print("| backend | scenario | req/s | p50 | p99 | errors | non-2xx | x its responder |"
          " x nginx `return 200` |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for backend, res, rss in table:
        for r in res:
            print("| %s | %s | %d | %.2f ms | %.2f ms | %d | %d | %s | %.2f |" % (
                backend, r["name"], r["req_s"], r["p50"] / 1000, r["p99"] / 1000, r["errors"],
                r["non2xx"], "%.2f" % r["ratio"] if r["ratio"] is not None else "",
                r["nginx"]))
    for backend, res, rss in table:
        print("responder bodies, %s: small reply %d bytes, page reply %d bytes" % (
            (backend,) + res[0]["bodies"]))
    for backend, res, rss in table:
        print("sealdropd RSS, %s, %d threads: %.1f MB before the scenarios, %.1f MB after "
              "%d requests to sealdropd" % (backend, args.threads, rss[0] / 1024, rss[1] / 1024, rss[2]))
    if args.scale:
        for backend in args.backends.split(","):
            print("\n== scaling (%s)" % backend, flush=True)
            if backend == "sqlite":
                rows = scale(args)
            else:
                sys.path.insert(0, os.path.join(ROOT, "tests", "deploy"))
                from conftest import MariaDB
                d = tempfile.mkdtemp(prefix="sealdrop-bench-mariadb-")
                m = MariaDB(d)
                try:
                    rows = scale(args, m.dsn, m)
                finally:
                    m.stop()
                    shutil.rmtree(d, ignore_errors=True)
            print()
            print("| backend | stored messages | scenario | req/s | p50 | p99 | errors |")
            print("|---|---|---|---:|---:|---:|---:|")
            for r in rows:
                print("| %s | %s | %s | %d | %.2f ms | %.2f ms | %d |" % (
                    backend, r["name"].split(":")[0], r["name"].split(": ", 1)[1], r["req_s"],
                    r["p50"] / 1000, r["p99"] / 1000, r["errors"]))
            print("p99 ratio 10^6 / 10^4 (inbox of 50), %s: %.2f" % (
                backend, rows[1]["p99"] / rows[0]["p99"]))


if __name__ == "__main__":
    main()
