"""Logs: one line per request (time, method, route, status, duration), and
no secret ever: run flows, then search the log for every fetch token,
challenge, signature and link used."""

import re

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
