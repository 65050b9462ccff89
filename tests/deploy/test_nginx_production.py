"""nginx/sealdrop.conf passes `nginx -t`, and once started (TLS on a loopback
port, sealdropd behind it) serves the API with its security headers."""

import os
import shutil
import signal
import subprocess
import time

import requests
import urllib3

from conftest import ROOT
import stack

urllib3.disable_warnings()


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


def test_production_site_serves_api_over_tls(tmp_path, sealdropd):
    sock = str(tmp_path / "sealdropd.sock")
    https_port, http_port = stack.free_port(), stack.free_port()
    conf = render(tmp_path, sock, https_port, http_port)
    env = dict(os.environ, SEALDROP_DB="sqlite:" + str(tmp_path / "db.sqlite"),
               BASE_URL="https://drop.example.org")
    daemon = subprocess.Popen([sealdropd, "--listen", "unix:" + sock, "--threads", "2"],
                              env=env, stderr=subprocess.DEVNULL)
    nginx = None
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf),
                                  "-e", str(tmp_path / "error.log")])
        url = "https://127.0.0.1:%d" % https_port
        for _ in range(100):
            try:
                r = requests.get(url + "/health", verify=False, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert r.status_code == 200
        assert r.json()["status"] == "healthy"
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        assert r.headers["Cache-Control"] == "no-store"
        # Pages and nginx's own errors carry HSTS too, beside their CSP.
        for path in ("/", "/inbox", "/l/link_abc"):
            page = requests.get(url + path, verify=False)
            assert page.status_code == 200, path
            assert page.headers["Strict-Transport-Security"].startswith("max-age="), path
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
            assert page.headers["Referrer-Policy"] == "no-referrer"
        # Plain HTTP only redirects.
        r = requests.get("http://127.0.0.1:%d/health" % http_port, allow_redirects=False)
        assert r.status_code == 301
        assert r.headers["Location"].startswith("https://")
        # The body cap is nginx's too, answered as JSON.
        r = requests.post(url + "/send", data=b"x" * 70000, verify=False)
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"
        # /register is rate limited per address: a burst gets 429 JSON.
        codes = [requests.post(url + "/register", json={}, verify=False).status_code
                 for _ in range(8)]
        assert 429 in codes
        assert all(c in (400, 429) for c in codes), codes
        r = requests.post(url + "/register", json={}, verify=False)
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        # The permission endpoints reach sealdropd; /request_message_permission
        # writes into another's inbox and shares /send's per-address budget.
        for path in ("/check_contact", "/get_message_requests", "/respond_message_request"):
            r = requests.post(url + path, json={}, verify=False)
            assert r.status_code == 400 and r.json()["code"] == "invalid_link_token", path
        codes = [requests.post(url + "/request_message_permission", json={},
                               verify=False).status_code for _ in range(14)]
        assert codes[0] == 400 and codes[-1] == 429, codes
        assert all(c in (400, 429) for c in codes), codes
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
        daemon.terminate()
        assert daemon.wait(10) == 0
