"""Start and stop a private sealdrop stack for tests: sealdropd + nginx.

Everything lives in one temporary directory; both processes are stopped by
PID. Nothing here touches a system service.

    with Stack() as s:
        requests.get(s.url + "/health")

Environment:
  SEALDROPD    path of the sealdropd binary (default: build/sealdropd)
  SEALDROP_DB  database for sealdropd (default: sqlite in the stack's dir);
               tests/lib/mariadb.py sets a mysql:// DSN when MariaDB runs
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


def sealdropd_path():
    return os.environ.get("SEALDROPD", os.path.join(ROOT, "build", "sealdropd"))


def render_nginx_conf(prefix, port, sock, www=None, write_rate=1000, write_burst=2000,
                      extra=""):
    """Fill nginx/dev.conf.in for a stack rooted at prefix."""
    with open(os.path.join(ROOT, "nginx", "dev.conf.in")) as f:
        conf = f.read()
    values = {
        "@USER_LINE@": "user root root;" if os.geteuid() == 0 else "",
        "@PREFIX@": prefix,
        "@PORT@": str(port),
        "@SOCKET@": sock,
        "@WWW@": www or os.path.join(ROOT, "www"),
        "@MIME_TYPES@": "/etc/nginx/mime.types",
        "@SNIPPETS@": os.path.join(ROOT, "nginx", "snippets"),
        "@WRITE_RATE@": str(write_rate),
        "@WRITE_BURST@": str(write_burst),
        "@EXTRA@": extra,
    }
    for k, v in values.items():
        conf = conf.replace(k, v)
    for d in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, "tmp", d), exist_ok=True)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


class Stack:
    def __init__(self, threads=4, env=None, db=None, write_rate=1000, write_burst=2000,
                 sealdropd=None, keep=False, extra_nginx=""):
        self.extra_nginx = extra_nginx
        self.threads = threads
        self.extra_env = dict(env or {})
        self.db = db
        self.write_rate = write_rate
        self.write_burst = write_burst
        self.binary = sealdropd or sealdropd_path()
        self.keep = keep
        self.dir = None
        self.daemon = None
        self.nginx = None

    # -- life cycle -------------------------------------------------------

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="sealdrop-stack-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.sock = os.path.join(self.dir, "sealdropd.sock")
        self.log_path = os.path.join(self.dir, "sealdropd.log")
        self.start_daemon()
        conf = render_nginx_conf(self.dir, self.port, self.sock,
                                 write_rate=self.write_rate, write_burst=self.write_burst,
                                 extra=self.extra_nginx)
        self.nginx = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "nginx-error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_ready()
        return self

    def daemon_env(self):
        env = dict(os.environ)
        env.pop("SEALDROP_DB", None)
        env["SEALDROP_DB"] = self.db or os.environ.get("SEALDROP_DB") or \
            "sqlite:" + os.path.join(self.dir, "sealdrop.db")
        env["BASE_URL"] = self.url
        env.update(self.extra_env)
        return env

    def start_daemon(self):
        self.logf = open(self.log_path, "ab")
        self.daemon = subprocess.Popen(
            [self.binary, "--listen", "unix:" + self.sock, "--threads", str(self.threads)],
            env=self.daemon_env(), cwd=self.dir,
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        deadline = time.time() + 20
        while not os.path.exists(self.sock):
            if self.daemon.poll() is not None:
                raise RuntimeError("sealdropd exited with %s: %s" % (self.daemon.returncode, self.log()))
            if time.time() > deadline:
                raise RuntimeError("sealdropd did not create its socket: " + self.log())
            time.sleep(0.02)

    def stop_daemon(self, sig=signal.SIGTERM, timeout=20):
        """Stop sealdropd; returns its exit status."""
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.send_signal(sig)
            try:
                self.daemon.wait(timeout)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.logf.close()
        rc = self.daemon.returncode
        self.daemon = None
        return rc

    def restart_daemon(self):
        self.stop_daemon()
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.start_daemon()

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception as e:  # noqa: BLE001 - any failure means not yet
                last = e
            if self.nginx.poll() is not None:
                raise RuntimeError("nginx exited: " + self.nginx_log())
            time.sleep(0.05)
        raise RuntimeError("stack not ready: %r\n%s\n%s" % (last, self.log(), self.nginx_log()))

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
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def nginx_log(self):
        try:
            with open(os.path.join(self.dir, "nginx-error.log")) as f:
                return f.read()
        except OSError:
            return ""
