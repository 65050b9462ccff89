"""Start and stop a private sealdrop stack for tests: sealdropd + nginx.

Everything lives in one temporary directory; both processes are stopped by
PID. Nothing here touches a system service.

    with Stack() as s:
        requests.get(s.url + "/health")

Environment:
  SEALDROPD     path of the sealdropd binary (default: build/sealdropd)
  SEALDROP_DB   database for sealdropd (default: sqlite in the stack's dir);
                tests/lib/mariadb.sh prints a mysql:// DSN when MariaDB runs
  SEALDROP_DBS  several DSNs, space-separated (tests/lib/galera.sh prints
                one per cluster node as GALERA_DSNS): one sealdropd per DSN,
                nginx balancing over all of them; wins over SEALDROP_DB

wait_until() is the one readiness poll of the test suites: a stack waits
with it for its socket and for /health, and tests wait with it for their own
daemons, sockets and purges.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WaitTimeout(AssertionError):
    """wait_until() gave up."""


# What sealdropd logs once it has migrated and serves.
READY_LINE = "sealdropd ready:"


def wait_until(probe, timeout=20.0, interval=0.05, what="the condition", alive=None,
               detail=None):
    """Call probe() until it returns something true, and return that.

    An exception raised by probe counts as "not yet"; the last one (or the
    last false value) is reported on time-out. alive, if given, is called on
    every round and returns None while waiting still makes sense, or a reason
    why it does not (say, the process being waited for exited): the wait
    fails at once with that reason. detail, if given, returns text appended
    to a failure (a log). Raises WaitTimeout, an AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            got = probe()
            if got:
                return got
            last = got
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = e
        dead = alive() if alive is not None else None
        if dead or time.monotonic() >= deadline:
            why = dead or "no success in %gs, last: %r" % (timeout, last)
            extra = detail() if detail is not None else ""
            raise WaitTimeout("waiting for %s: %s%s" % (what, why, "\n" + extra if extra else ""))
        time.sleep(interval)


def exited(proc, name):
    """An alive= check for wait_until: the reason, once proc has exited."""
    def check():
        rc = proc.poll()
        return None if rc is None else "%s exited with %s" % (name, rc)
    return check


def stop_scripts_run(proc, state, timeout=90):
    """Stop a scripts/run started in a session of its own (proc, a Popen)
    and whatever it started: SIGINT as Ctrl-C, then up to timeout seconds
    for its own cleanup (its children run in sessions of their own, so
    signalling its process group does not reach them); only then SIGKILL.
    Last, every PID still listed in STATE/run/pids that is still a
    sealdropd or nginx is SIGKILLed with its process group, by PID."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)
    try:
        with open(os.path.join(str(state), "run", "pids")) as f:
            listed = [int(line) for line in f if line.strip().isdigit()]
    except OSError:
        listed = []
    for pid in listed:
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm not in ("sealdropd", "nginx"):
            continue  # gone, and its PID reused
        for target in (-pid, pid):
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def sealdropd_path():
    return os.environ.get("SEALDROPD", os.path.join(ROOT, "build", "sealdropd"))


def render_nginx_conf(prefix, port, sock, www=None, write_rate=1000, write_burst=2000,
                      extra="", events_per_address=2000, events_total=3000, extra_http=""):
    """Fill nginx/dev.conf.in for a stack rooted at prefix. sock is the
    sealdropd socket, or a list of them to balance over."""
    with open(os.path.join(ROOT, "nginx", "dev.conf.in")) as f:
        conf = f.read()
    socks = [sock] if isinstance(sock, str) else list(sock)
    values = {
        "@USER_LINE@": "user root root;" if os.geteuid() == 0 else "",
        "@PREFIX@": prefix,
        "@PORT@": str(port),
        "@UPSTREAM_SERVERS@": "\n        ".join("server unix:%s;" % p for p in socks),
        "@WWW@": www or os.path.join(ROOT, "www"),
        "@MIME_TYPES@": "/etc/nginx/mime.types",
        "@SNIPPETS@": os.path.join(ROOT, "nginx", "snippets"),
        "@WRITE_RATE@": str(write_rate),
        "@WRITE_BURST@": str(write_burst),
        "@EXTRA@": extra,
        "@EXTRA_HTTP@": extra_http,
        "@EVENTS_PER_ADDRESS@": str(events_per_address),
        "@EVENTS_TOTAL@": str(events_total),
    }
    for k, v in values.items():
        conf = conf.replace(k, v)
    for d in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, "tmp", d), exist_ok=True)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


SHARED_DB_WEBHOOKS = {"SEALDROP_WEBHOOK_INTERVAL": "2", "SEALDROP_WEBHOOK_RETRY": "1",
                      "SEALDROP_WEBHOOK_ATTEMPTS": "4", "SEALDROP_WEBHOOK_ALLOW": "127.0.0.1"}


class Stack:
    def __init__(self, threads=4, env=None, db=None, write_rate=1000, write_burst=2000,
                 sealdropd=None, keep=False, extra_nginx="", own_sqlite=False, dbs=None,
                 events_per_address=2000, events_total=3000, extra_http=""):
        """extra_nginx goes into the server block, extra_http beside it
        (upstreams). own_sqlite: always the SQLite file in the stack's directory, even
        when $SEALDROP_DB names another database (for tests that read or
        change the stored rows themselves). dbs: one sealdropd per DSN of
        the list (default: $SEALDROP_DBS when neither db nor own_sqlite is
        given), behind one nginx; the first is `daemon`, all are `daemons`."""
        self.extra_nginx = extra_nginx
        self.extra_http = extra_http
        self.events_per_address = events_per_address
        self.events_total = events_total
        self.own_sqlite = own_sqlite
        self.threads = threads
        self.extra_env = dict(env or {})
        self.db = db
        if dbs is None and db is None and not own_sqlite:
            dbs = os.environ.get("SEALDROP_DBS", "").split() or None
        self.dbs = list(dbs) if dbs else None
        self.write_rate = write_rate
        self.write_burst = write_burst
        self.binary = sealdropd or sealdropd_path()
        self.keep = keep
        self.dir = None
        self.daemons = []
        self.nginx = None
        self.socks, self.log_paths = [], []

    @property
    def daemon(self):
        """The (first) sealdropd process, None when stopped."""
        return self.daemons[0] if self.daemons else None

    @property
    def instances(self):
        return len(self.dbs) if self.dbs else 1

    # -- life cycle -------------------------------------------------------

    def start(self):
        """Start sealdropd and nginx and wait for /health; should that
        fail, whatever was started is stopped before the error goes on."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self.dir = tempfile.mkdtemp(prefix="sealdrop-stack-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        if self.instances == 1:
            self.socks = [os.path.join(self.dir, "sealdropd.sock")]
            self.log_paths = [os.path.join(self.dir, "sealdropd.log")]
        else:
            self.socks = [os.path.join(self.dir, "sealdropd-%d.sock" % (i + 1))
                          for i in range(self.instances)]
            self.log_paths = [os.path.join(self.dir, "sealdropd-%d.log" % (i + 1))
                              for i in range(self.instances)]
        self.sock = self.socks[0]
        self.log_path = self.log_paths[0]
        self.start_daemon()
        conf = render_nginx_conf(self.dir, self.port, self.socks,
                                 write_rate=self.write_rate, write_burst=self.write_burst,
                                 extra=self.extra_nginx, extra_http=self.extra_http,
                                 events_per_address=self.events_per_address,
                                 events_total=self.events_total)
        self.nginx = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "nginx-error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_ready()
        return self

    def daemon_env(self, instance=0):
        env = dict(os.environ)
        env.pop("SEALDROP_DB", None)
        env.pop("SEALDROP_DBS", None)
        own = "sqlite:" + os.path.join(self.dir, "sealdrop.db")
        if self.dbs:
            env["SEALDROP_DB"] = self.dbs[instance]
        else:
            env["SEALDROP_DB"] = own if self.own_sqlite else \
                self.db or os.environ.get("SEALDROP_DB") or own
        env["BASE_URL"] = self.url
        # Live events through the stack's nginx (nginx/dev.conf.in); every
        # instance shares one channel key.
        env["SEALDROP_EVENTS_PUBLISH"] = "unix:" + os.path.join(self.dir, "events-publish.sock")
        env["SEALDROP_EVENTS_KEY_FILE"] = os.path.join(self.dir, "events.key")
        if env["SEALDROP_DB"] != own:
            # Every instance on one database sends any inbox's due ping
            # (docs/DEPLOY.md): stacks sharing a test database share the
            # webhook settings of tests/api/test_webhooks.py, or one stack's
            # sender would try another's pings by other rules.
            env.update(SHARED_DB_WEBHOOKS)
        env.update(self.extra_env)
        return env

    def start_daemon(self):
        """Start every sealdropd at once (several migrate the same database
        concurrently), then wait for all their sockets."""
        # Where each log stood: "ready" counts only if written after it.
        self.log_starts = [os.path.getsize(p) if os.path.exists(p) else 0
                           for p in self.log_paths]
        self.logfs = [open(p, "ab") for p in self.log_paths]
        self.daemons = []  # filled one by one: a failed Popen leaves the others stoppable
        for i, (sock, logf) in enumerate(zip(self.socks, self.logfs)):
            self.daemons.append(subprocess.Popen(
                [self.binary, "--listen", "unix:" + sock, "--threads", str(self.threads)],
                env=self.daemon_env(i) if self.dbs else self.daemon_env(), cwd=self.dir,
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf))
        for sock, d in zip(self.socks, self.daemons):
            wait_until(lambda sock=sock: os.path.exists(sock), interval=0.02,
                       what="sealdropd to create " + sock,
                       alive=exited(d, "sealdropd"), detail=self.log)

    def stop_daemon(self, sig=signal.SIGTERM, timeout=20):
        """Stop every sealdropd; returns the exit status (the first that is
        not 0, with several)."""
        if not self.daemons:
            return None
        for d in self.daemons:
            if d.poll() is None:
                d.send_signal(sig)
        for d in self.daemons:
            try:
                d.wait(timeout)
            except subprocess.TimeoutExpired:
                d.kill()
                d.wait()
        for f in self.logfs:
            f.close()
        codes = [d.returncode for d in self.daemons]
        self.daemons = []
        return next((c for c in codes if c != 0), codes[0])

    def restart_daemon(self):
        self.stop_daemon()
        for sock in self.socks:
            if os.path.exists(sock):
                os.unlink(sock)
        self.start_daemon()

    def wait_ready(self, timeout=20):
        def healthy():
            with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                return r.status == 200

        def alive():
            return exited(self.nginx, "nginx")() or \
                next((why for why in (exited(d, "sealdropd")() for d in self.daemons) if why),
                     None)

        def ready_since(path, start):
            with open(path, "rb") as f:
                f.seek(start)
                return READY_LINE.encode() in f.read()

        def all_ready():
            return all(ready_since(p, start) for p, start in zip(self.log_paths, self.log_starts))

        wait_until(healthy, timeout=timeout, what="GET %s/health to answer 200" % self.url,
                   alive=alive, detail=lambda: self.log() + "\n" + self.nginx_log())
        # One instance answering is not all of them: each binds its socket
        # before it migrates, and the others may still be checking the
        # migrations under the lease.
        if self.instances > 1:
            wait_until(all_ready, timeout=timeout, what="every sealdropd to log ready",
                       alive=alive, detail=self.log)

    def stop(self):
        rc = self.stop_daemon()
        self.report_sanitizer()
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- inspection -------------------------------------------------------

    def sqlite_path(self):
        """The SQLite file sealdropd stores into, or None on another database."""
        db = self.daemon_env()["SEALDROP_DB"]
        return db[len("sqlite:"):] if db.startswith("sqlite:") else None

    SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                       "UndefinedBehaviorSanitizer")

    def report_sanitizer(self):
        """Copy sanitizer reports of sealdropd to $SEALDROP_SANITIZER_LOG,
        which scripts/check counts as a failure when it is not empty."""
        text = self.log()
        if not any(m in text for m in self.SANITIZER_MARKS):
            return
        dest = os.environ.get("SEALDROP_SANITIZER_LOG")
        if dest:
            with open(dest, "a") as f:
                f.write(text)

    def log(self):
        """sealdropd's log; with several instances, each under a header."""
        if self.instances == 1:
            return self.instance_log(0)
        return "".join("== sealdropd %d\n%s" % (i + 1, self.instance_log(i))
                       for i in range(self.instances))

    def instance_log(self, i):
        try:
            with open(self.log_paths[i], "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, IndexError):  # IndexError: never started
            return ""

    def nginx_log(self):
        try:
            with open(os.path.join(self.dir, "nginx-error.log")) as f:
                return f.read()
        except OSError:
            return ""
