"""Logs: one line per request (time, method, route, status, duration), and
no secret ever: run flows, then search the log for every fetch token,
challenge, signature and link used."""

import os
import re
import shutil

import pytest
import requests

import stack
from sdclient import Recipient

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?P<method>[A-Z]+|-) "
                  r"(?P<route>/[a-z_]*|/key/:link_token|-) (?P<status>\d{3}) \d+us$")


def request_lines(text):
    return [line for line in text.splitlines()
            if line and not re.match(r"^\S+ (info|error) ", line)]


@pytest.fixture(scope="module")
def flows(srv):
    """Three recipients' flows; returns (what the log gained, the requests
    sent as (method, route, status), the secrets used)."""
    start = len(srv.log())
    secrets, sent = [], []
    for _ in range(3):
        r = Recipient(srv.url)
        sent.append(("POST", "/register", 201))
        secrets.append(r.token)
        assert r.send(b"secret plaintext never reaches the server anyway").status_code == 201
        sent.append(("POST", "/send", 201))
        for _ in range(2):
            auth = r.signed()
            secrets += [auth["challenge"], auth["challenge_signature"]]
            resp = requests.post(srv.url + "/fetch", json=dict({"link_token": r.link}, **auth))
            assert resp.status_code == 200
            sent += [("POST", "/challenge_request", 200), ("POST", "/fetch", 200)]
        auth = r.signed()
        secrets += [auth["challenge"], auth["challenge_signature"]]
        resp = requests.post(srv.url + "/rotate_token", json=dict({"link_token": r.link}, **auth))
        assert resp.status_code == 200
        sent += [("POST", "/challenge_request", 200), ("POST", "/rotate_token", 200)]
        secrets.append(resp.json()["fetch_token"])
        resp = requests.post(srv.url + "/fetch", json={"link_token": r.link},
                             headers={"Authorization": "Bearer " + secrets[-1]})
        assert resp.status_code == 200
        sent.append(("POST", "/fetch", 200))
        resp = requests.post(srv.url + "/fetch", json={"link_token": r.link},
                             headers={"Authorization": "Bearer wrong-" + r.token})
        assert resp.status_code == 401
        sent.append(("POST", "/fetch", 401))
        assert requests.get(srv.url + "/key/" + r.link).status_code == 200
        sent.append(("GET", "/key/:link_token", 200))
        secrets.append(r.link)  # link tokens stay out of sealdropd's log too

    def all_logged():
        text = srv.log()[start:]
        return text if len(request_lines(text)) >= len(sent) else None

    # Each line is written just after its answer: wait for the last ones.
    text = stack.wait_until(all_logged, timeout=10, what="%d request log lines" % len(sent))
    return text, sent, secrets


def test_each_request_is_logged_once_with_method_route_and_status(flows):
    text, sent, _ = flows
    lines = request_lines(text)
    for line in lines:
        assert LINE.match(line), line
    logged = [(m["method"], m["route"], int(m["status"])) for m in map(LINE.match, lines)]
    assert sorted(logged) == sorted(sent)


def test_log_holds_no_token_challenge_signature_or_link(flows):
    text, _, secrets = flows
    assert len(secrets) == 3 * 9
    for s in secrets:
        assert s not in text
        # Also no fragment long enough to matter.
        assert s[:16] not in text


# ---- nginx's logs ----------------------------------------------------------
# nginx writes the client's address and the request line into each error it
# logs about a request. At the shipped settings none of those is written:
# provoke each (a 429 flood, a body over the limit, an upstream that is
# down) with a real link token in the URL, then search every log nginx
# wrote for the token and for the address.

def provoke_nginx_errors(url, link, stop_upstream, http):
    """The three errors, each checked to have happened; returns nothing."""
    flood = [http.get(url + "/key/" + link) for _ in range(40)]
    flood += [http.post(url + "/send?link_token=" + link, json={}) for _ in range(40)]
    assert 429 in [r.status_code for r in flood], "no request was rate limited"
    big = http.post(url + "/key/" + link, data=b"x" * 70000)
    assert big.status_code == 413
    stop_upstream()
    down = http.get(url + "/key/" + link)
    assert down.status_code == 503 and down.json()["code"] == "service_unavailable"


def assert_logs_hold_no_token_or_address(logs, link):
    assert logs, "nginx wrote no log file at all"
    for name, text in logs.items():
        assert link not in text and link[5:21] not in text, (name, text[-2000:])
        assert not re.search(r"127\.\d+\.\d+\.\d+", text), (name, text[-2000:])


def test_production_nginx_logs_no_token_or_address(tmp_path):
    from prodsite import ProductionSite
    site = ProductionSite(tmp_path, stack.sealdropd_path()).start()
    try:
        http = requests.Session()
        http.trust_env = False  # else $REQUESTS_CA_BUNDLE would override verify
        http.verify = site.cert
        link = Recipient(site.url, http=http).link
        # The plain-HTTP server only redirects, but the link is in its
        # request line: it must not log it (nor the address) either.
        plain = http.get("http://127.0.0.1:%d/l/%s" % (site.http_port, link),
                         allow_redirects=False)
        assert plain.status_code == 301
        assert plain.headers["Location"].endswith("/l/" + link)
        provoke_nginx_errors(site.url, link, site.stop_daemon, http)
    finally:
        site.stop()
    logs = site.nginx_logs()
    # tests/lib/prodsite.py sets an http-level access_log as the
    # distribution's nginx.conf does; a server without "access_log off"
    # would write there.
    assert "access.log" in logs
    assert_logs_hold_no_token_or_address(logs, link)


def test_dev_nginx_logs_no_token_or_address():
    s = stack.Stack(threads=2, own_sqlite=True, write_rate=1, write_burst=1, keep=True).start()
    try:
        try:
            http = requests.Session()
            link = Recipient(s.url, http=http).link
            provoke_nginx_errors(s.url, link, s.stop_daemon, http)
        finally:
            s.stop()
        logs = {}
        for name in os.listdir(s.dir):
            if name.startswith("nginx") and name.endswith(".log"):
                with open(os.path.join(s.dir, name), "rb") as f:
                    logs[name] = f.read().decode("utf-8", "replace")
        assert "nginx-error.log" in logs
        assert_logs_hold_no_token_or_address(logs, link)
    finally:
        shutil.rmtree(s.dir, ignore_errors=True)


def test_session_stack_nginx_logs_hold_no_address_or_link(srv):
    # What every test of this suite before this one made nginx do.
    logs = {name: open(os.path.join(srv.dir, name), "rb").read().decode("utf-8", "replace")
            for name in os.listdir(srv.dir) if name.startswith("nginx") and name.endswith(".log")}
    assert "nginx-error.log" in logs
    for name, text in logs.items():
        assert not re.search(r"127\.\d+\.\d+\.\d+", text), (name, text[-2000:])
        assert "link_" not in text, (name, text[-2000:])
