"""The production nginx site (nginx/sealdrop.conf, or the copy a package
installed) on loopback ports for tests: its certificate, log and socket
paths pointed into a temporary directory, TLS with a throwaway certificate
for 127.0.0.1, sealdropd behind it on a unix socket. Both are stopped by
PID; nothing touches the system nginx or its logs.

    site = ProductionSite(tmp_path, sealdropd).start()
    requests.get(site.url + "/health", verify=site.cert)
    site.stop()
"""

import os
import signal
import subprocess

import requests

import stack

ROOT = stack.ROOT
SOURCE_SITE = os.path.join(ROOT, "nginx", "sealdrop.conf")
SOURCE_SNIPPETS = os.path.join(ROOT, "nginx", "snippets")
SOURCE_WWW = os.path.join(ROOT, "www")


def make_certificate(prefix):
    """A self-signed certificate valid for drop.example.org and 127.0.0.1."""
    cert, key = os.path.join(prefix, "cert.pem"), os.path.join(prefix, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=drop.example.org",
                    "-addext", "subjectAltName=DNS:drop.example.org,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def render(prefix, sock, https_port, http_port, site=SOURCE_SITE, snippets=SOURCE_SNIPPETS,
           www=SOURCE_WWW, server_extra=""):
    """Write PREFIX/nginx.conf: a main file that includes the site with its
    paths pointed into prefix. server_extra goes into the TLS server block
    (test-only directives). Returns the path of nginx.conf."""
    prefix = str(prefix)
    cert, key = make_certificate(prefix)
    with open(site) as f:
        text = f.read()
    replacements = [
        ("/etc/letsencrypt/live/drop.example.org/fullchain.pem", cert),
        ("/etc/letsencrypt/live/drop.example.org/privkey.pem", key),
        ("/var/log/nginx/sealdrop-error.log", os.path.join(prefix, "sealdrop-error.log")),
        ("/run/sealdrop/sealdropd.sock", sock),
        ("/usr/share/sealdrop/www", www),
        ("include snippets/", "include %s/" % snippets),
        ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % https_port),
        ("listen [::]:443 ssl http2;", ""),
        ("listen 80;", "listen 127.0.0.1:%d;" % http_port),
        ("listen [::]:80;", ""),
        ("unix:/run/sealdrop-events.sock", "unix:" + os.path.join(prefix, "events.sock")),
    ]
    for old, new in replacements:
        assert old in text, "the site no longer has %r" % old
        text = text.replace(old, new)
    if server_extra:
        marker = "    include %s/sealdrop-errors.conf;" % snippets
        assert marker in text
        text = text.replace(marker, server_extra + "\n" + marker, 1)
    os.makedirs(os.path.join(prefix, "sites"), exist_ok=True)
    with open(os.path.join(prefix, "sites", "sealdrop.conf"), "w") as f:
        f.write(text)
    for d in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, "tmp", d), exist_ok=True)
    # Debian loads nchan through /etc/nginx/modules-enabled; this private
    # main file does it itself.
    main = """%s
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
pid %s/nginx.pid;
error_log %s/error.log;
daemon off;
events {}
http {
    include /etc/nginx/mime.types;
    access_log %s/access.log;
    client_body_temp_path %s/tmp/body;
    fastcgi_temp_path %s/tmp/fastcgi;
    proxy_temp_path %s/tmp/proxy;
    uwsgi_temp_path %s/tmp/uwsgi;
    scgi_temp_path %s/tmp/scgi;
    include %s/sites/*.conf;
}
""" % ((("user root root;" if os.geteuid() == 0 else ""),) + (prefix,) * 9)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(main)
    return path


class ProductionSite:
    """nginx with the production site in front of sealdropd.

    daemon_args are added to sealdropd's command line (e.g. --user), env
    to its environment; db defaults to SQLite in prefix."""

    def __init__(self, prefix, sealdropd, site=SOURCE_SITE, snippets=SOURCE_SNIPPETS,
                 www=SOURCE_WWW, server_extra="", daemon_args=(), env=None, db=None):
        self.prefix = str(prefix)
        self.sealdropd = sealdropd
        self.sock = os.path.join(self.prefix, "sealdropd.sock")
        self.https_port, self.http_port = stack.free_port(), stack.free_port()
        self.conf = render(self.prefix, self.sock, self.https_port, self.http_port, site=site,
                           snippets=snippets, www=www, server_extra=server_extra)
        self.cert = os.path.join(self.prefix, "cert.pem")
        self.url = "https://127.0.0.1:%d" % self.https_port
        self.daemon_args = list(daemon_args)
        db = db or "sqlite:" + os.path.join(self.prefix, "db.sqlite")
        # The events key beside an SQLite database: a directory sealdropd
        # may write also after --user (the package test's state directory).
        key_dir = os.path.dirname(db[len("sqlite:"):]) if db.startswith("sqlite:") else self.prefix
        self.events_key = os.path.join(key_dir, "events.key")
        self.env = dict(os.environ, SEALDROP_DB=db, BASE_URL=self.url,
                        SEALDROP_EVENTS_PUBLISH="unix:" + os.path.join(self.prefix, "events.sock"),
                        SEALDROP_EVENTS_KEY_FILE=self.events_key)
        self.env.update(env or {})
        self.daemon = None
        self.nginx = None
        self.health = None

    def start(self):
        try:
            self.start_daemon()
            self.nginx = subprocess.Popen(["nginx", "-p", self.prefix, "-c", self.conf,
                                           "-e", os.path.join(self.prefix, "error.log")],
                                          stdin=subprocess.DEVNULL)
            self.health = stack.wait_until(
                lambda: requests.get(self.url + "/health", verify=self.cert, timeout=2),
                what="nginx to answer %s/health" % self.url,
                alive=stack.exited(self.nginx, "nginx"))
        except BaseException:
            self.stop()
            raise
        return self

    def start_daemon(self):
        self.logf = open(os.path.join(self.prefix, "sealdropd.log"), "ab")
        self.daemon = subprocess.Popen(
            [self.sealdropd, "--listen", "unix:" + self.sock, "--threads", "2"] +
            self.daemon_args, env=self.env, cwd=self.prefix,
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        stack.wait_until(lambda: os.path.exists(self.sock), what="sealdropd to create " +
                         self.sock, alive=stack.exited(self.daemon, "sealdropd"),
                         detail=self.daemon_log)

    def stop_daemon(self):
        """Stops sealdropd (SIGTERM); returns its exit status."""
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.logf.close()
        rc, self.daemon = self.daemon.returncode, None
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        return rc

    def stop(self):
        """Stops both; returns sealdropd's exit status."""
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        return self.stop_daemon()

    def daemon_log(self):
        try:
            with open(os.path.join(self.prefix, "sealdropd.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def nginx_logs(self):
        """{file name: text} of every log nginx wrote under prefix."""
        logs = {}
        for name in sorted(os.listdir(self.prefix)):
            if name.endswith(".log") and name != "sealdropd.log":
                with open(os.path.join(self.prefix, name), "rb") as f:
                    logs[name] = f.read().decode("utf-8", "replace")
        return logs
