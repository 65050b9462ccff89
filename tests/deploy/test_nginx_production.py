"""nginx/sealdrop.conf passes `nginx -t`, and once started (TLS on a loopback
port, sealdropd behind it) serves the API with its security headers."""

import os
import shutil
import signal
import subprocess

import pytest
import requests
import urllib3

from conftest import ROOT
import stack

urllib3.disable_warnings()
# The test site's certificate is self-signed: requests are made with verify=False.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def render(tmp_path, sock, https_port, http_port):
    """The production site with its paths pointed into tmp_path."""
    (tmp_path / "snippets").mkdir()
    for f in os.listdir(os.path.join(ROOT, "nginx", "snippets")):
        shutil.copy(os.path.join(ROOT, "nginx", "snippets", f), tmp_path / "snippets" / f)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                    "/CN=drop.example.org", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    with open(os.path.join(ROOT, "nginx", "sealdrop.conf")) as f:
        site = f.read()
    site = (site.replace("/etc/letsencrypt/live/drop.example.org/fullchain.pem",
                         str(tmp_path / "cert.pem"))
            .replace("/etc/letsencrypt/live/drop.example.org/privkey.pem",
                     str(tmp_path / "key.pem"))
            .replace("/run/sealdrop/sealdropd.sock", sock)
            .replace("/usr/share/sealdrop/www", os.path.join(ROOT, "www"))
            .replace("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % https_port)
            .replace("listen [::]:443 ssl http2;", "")
            .replace("listen 80;", "listen 127.0.0.1:%d;" % http_port)
            .replace("listen [::]:80;", ""))
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "sealdrop.conf").write_text(site)
    for d in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
        (tmp_path / "tmp" / d).mkdir(parents=True)
    main = """%s
pid %s/nginx.pid;
error_log %s/error.log;
daemon off;
events {}
http {
    include /etc/nginx/mime.types;
    client_body_temp_path %s/tmp/body;
    fastcgi_temp_path %s/tmp/fastcgi;
    proxy_temp_path %s/tmp/proxy;
    uwsgi_temp_path %s/tmp/uwsgi;
    scgi_temp_path %s/tmp/scgi;
    include %s/sites/*.conf;
}
""" % ((("user root root;" if os.geteuid() == 0 else ""),) + (str(tmp_path),) * 8)
    (tmp_path / "nginx.conf").write_text(main)
    return tmp_path / "nginx.conf"


def test_production_config_passes_nginx_t(tmp_path):
    conf = render(tmp_path, str(tmp_path / "s.sock"), stack.free_port(), stack.free_port())
    r = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf),
                        "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr


class Site:
    """The production site on loopback ports: nginx with TLS in front of
    sealdropd on a unix socket."""

    def __init__(self, tmp_path, sealdropd):
        sock = str(tmp_path / "sealdropd.sock")
        https_port, self.http_port = stack.free_port(), stack.free_port()
        conf = render(tmp_path, sock, https_port, self.http_port)
        env = dict(os.environ, SEALDROP_DB="sqlite:" + str(tmp_path / "db.sqlite"),
                   BASE_URL="https://drop.example.org")
        self.daemon = subprocess.Popen([sealdropd, "--listen", "unix:" + sock, "--threads", "2"],
                                       env=env, stderr=subprocess.DEVNULL)
        self.nginx = None
        self.url = "https://127.0.0.1:%d" % https_port
        try:
            stack.wait_until(lambda: os.path.exists(sock), what="sealdropd to create " + sock,
                             alive=stack.exited(self.daemon, "sealdropd"))
            self.nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf),
                                           "-e", str(tmp_path / "error.log")])
            self.health = stack.wait_until(
                lambda: requests.get(self.url + "/health", verify=False, timeout=2),
                what="nginx to answer %s/health" % self.url,
                alive=stack.exited(self.nginx, "nginx"))
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Stops both; returns sealdropd's exit status."""
        if self.nginx is not None:
            self.nginx.send_signal(signal.SIGQUIT)
            self.nginx.wait(10)
        self.daemon.terminate()
        return self.daemon.wait(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory, sealdropd):
    s = Site(tmp_path_factory.mktemp("site"), sealdropd)
    yield s
    assert s.stop() == 0, "sealdropd did not exit 0 on SIGTERM"


def test_health_over_tls_carries_hsts_and_no_store(site):
    r = site.health
    assert r.status_code == 200
    assert r.json()["status"] == "healthy"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/inbox", "/l/link_abc"])
def test_page_carries_hsts_beside_its_csp(site, path):
    page = requests.get(site.url + path, verify=False)
    assert page.status_code == 200, path
    assert page.headers["Strict-Transport-Security"].startswith("max-age="), path
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_plain_http_only_redirects_to_https(site):
    r = requests.get("http://127.0.0.1:%d/health" % site.http_port, allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"].startswith("https://")


def test_body_over_64k_is_413_json_from_nginx(site):
    r = requests.post(site.url + "/send", data=b"x" * 70000, verify=False)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_register_burst_beyond_four_is_429_json(site):
    # /register is rate limited per address (6 a minute, a burst of 3
    # more): of a quick burst of 8, the first 4 reach sealdropd (400: an
    # empty body), the rest get 429 JSON.
    codes = [requests.post(site.url + "/register", json={}, verify=False).status_code
             for _ in range(8)]
    assert codes == [400] * 4 + [429] * 4, codes
    r = requests.post(site.url + "/register", json={}, verify=False)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"


@pytest.mark.parametrize("path", ["/check_contact", "/get_message_requests",
                                  "/respond_message_request"])
def test_permission_endpoint_reaches_sealdropd(site, path):
    r = requests.post(site.url + path, json={}, verify=False)
    assert r.status_code == 400 and r.json()["code"] == "invalid_link_token", path


def test_request_message_permission_is_rate_limited_like_send(site):
    # It writes into another's inbox, so it shares /send's budget per
    # address: 2 a second with a burst of 10 (less what an earlier /send
    # took, if that has not come back yet). The first 10 always pass, the
    # 14th is refused, and in between at most what the budget regains in
    # that second passes.
    rs = [requests.post(site.url + "/request_message_permission", json={}, verify=False)
          for _ in range(14)]
    codes = [r.status_code for r in rs]
    assert codes[:10] == [400] * 10 and codes[-1] == 429, codes
    assert set(codes[10:]) <= {400, 429} and codes[10:].count(400) <= 3, codes
    assert rs[-1].json()["code"] == "rate_limited"
