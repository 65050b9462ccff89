"""nginx/sealdrop.conf passes `nginx -t`, and once started (TLS on a loopback
port, sealdropd behind it) serves the API with its security headers, limits
each caller (an IPv4 address, an IPv6 /64) and logs nothing about them."""

import os
import subprocess
import time

import pytest
import requests

import stack
from prodsite import ProductionSite, render


def test_production_config_passes_nginx_t(tmp_path):
    conf = render(tmp_path, str(tmp_path / "s.sock"), stack.free_port(), stack.free_port())
    r = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf),
                        "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory, sealdropd):
    s = ProductionSite(tmp_path_factory.mktemp("site"), sealdropd).start()
    yield s
    assert s.stop() == 0, "sealdropd did not exit 0 on SIGTERM"


def post(site, path, **kw):
    return requests.post(site.url + path, verify=site.cert, **kw)


def test_health_over_tls_carries_hsts_and_no_store(site):
    r = site.health
    assert r.status_code == 200
    assert r.json()["status"] == "healthy"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/inbox", "/l/link_abc"])
def test_page_carries_hsts_beside_its_csp(site, path):
    page = requests.get(site.url + path, verify=site.cert)
    assert page.status_code == 200, path
    assert page.headers["Strict-Transport-Security"].startswith("max-age="), path
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_plain_http_only_redirects_to_https(site):
    r = requests.get("http://127.0.0.1:%d/health" % site.http_port, allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"].startswith("https://")


def test_body_over_64k_is_413_json_from_nginx(site):
    r = post(site, "/send", data=b"x" * 70000)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_register_burst_beyond_four_is_429_json(site):
    # /register is rate limited per caller (6 a minute, a burst of 3
    # more): of a quick burst of 8, the first 4 reach sealdropd (400: an
    # empty body), the rest get 429 JSON.
    codes = [post(site, "/register", json={}).status_code for _ in range(8)]
    assert codes == [400] * 4 + [429] * 4, codes
    r = post(site, "/register", json={})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"


@pytest.mark.parametrize("path", ["/check_contact", "/get_message_requests",
                                  "/respond_message_request"])
def test_permission_endpoint_reaches_sealdropd(site, path):
    r = post(site, path, json={})
    assert r.status_code == 400 and r.json()["code"] == "invalid_link_token", path


@pytest.mark.parametrize("path,code", [("/receipt", "invalid_receipt_auth"),
                                       ("/receipt/answer", "invalid_receipt_auth"),
                                       ("/reply", "invalid_link_token")])
def test_receipt_endpoint_reaches_sealdropd(site, path, code):
    r = post(site, path, json={})
    assert r.status_code == 400 and r.json()["code"] == code, path


def test_request_message_permission_is_rate_limited_like_send(site):
    # It writes into another's inbox, so it shares /send's budget per
    # caller: 2 a second with a burst of 10. The first 10 always pass; then
    # requests are refused, except what the budget regained meanwhile (one
    # every 500 ms: on a loaded machine the requests take a while, so the
    # allowance follows the time they really took, never a fixed count).
    start = time.monotonic()
    rs = []
    while len(rs) < 60 and (not rs or rs[-1].status_code != 429):
        rs.append(post(site, "/request_message_permission", json={}))
    elapsed = time.monotonic() - start
    codes = [r.status_code for r in rs]
    assert codes[:10] == [400] * 10 and codes[-1] == 429, codes
    assert len(codes) - 1 <= 10 + 2 * elapsed + 1, (codes, elapsed)
    assert rs[-1].json()["code"] == "rate_limited"


# ---- the caller key: IPv6 by /64 ------------------------------------------
# nginx's realip module lets the test speak from any address (trusting
# X-Real-IP from loopback, for this test's site only); the map and the
# zones are the production file's own.

@pytest.fixture(scope="module")
def realip_site(tmp_path_factory, sealdropd):
    s = ProductionSite(tmp_path_factory.mktemp("realip"), sealdropd,
                       server_extra="    set_real_ip_from 127.0.0.1;\n"
                                    "    real_ip_header X-Real-IP;").start()
    yield s
    assert s.stop() == 0


def register_from(site, addr):
    """POST /register claiming to come from addr; its status."""
    return post(site, "/register", json={}, headers={"X-Real-IP": addr}).status_code


def spend_register_budget(site, addr):
    # 6 a minute with a burst of 3: four pass at once, the fifth is refused.
    codes = [register_from(site, addr) for _ in range(4)]
    assert codes == [400] * 4, codes
    assert register_from(site, addr) == 429


def test_every_address_of_an_ipv6_64_shares_one_limit(realip_site):
    spend_register_budget(realip_site, "2001:db8:1:2::1")
    # Another address of the same /64: the same caller, already refused.
    for addr in ("2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:a:b:c:d"):
        assert register_from(realip_site, addr) == 429, addr
    # The neighbouring /64s are other callers.
    assert register_from(realip_site, "2001:db8:1:3::1") == 400
    assert register_from(realip_site, "2001:db8:1:1:ffff:ffff:ffff:ffff") == 400


def test_ipv4_addresses_stay_separate_callers(realip_site):
    spend_register_budget(realip_site, "192.0.2.10")
    assert register_from(realip_site, "192.0.2.11") == 400
    assert register_from(realip_site, "192.0.2.10") == 429


def test_ipv4_mapped_address_is_its_ipv4_caller(realip_site):
    spend_register_budget(realip_site, "198.51.100.7")
    # ::ffff:198.51.100.7 is the same caller, not part of ::ffff:0:0/64.
    assert register_from(realip_site, "::ffff:198.51.100.7") == 429
    assert register_from(realip_site, "::ffff:198.51.100.8") == 400


def test_realip_is_not_in_the_production_file():
    # The trust above is the test's alone: production takes the peer address.
    with open(os.path.join(stack.ROOT, "nginx", "sealdrop.conf")) as f:
        text = f.read()
    assert "set_real_ip_from" not in text and "real_ip_header" not in text
