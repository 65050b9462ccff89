"""Logs: one line per request (time, method, route, status, duration), and
no secret ever: run flows, then search the log for every fetch token,
challenge and signature used."""

import re

import requests

from conftest import Recipient

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [A-Z]+ (/[a-z_]*|/key/:link_token|-) \d{3} \d+us$")


def test_log_lines_and_no_secrets(srv):
    secrets = []
    for _ in range(3):
        r = Recipient(srv.url)
        secrets += [r.token]
        r.send(b"secret plaintext never reaches the server anyway")
        for _ in range(2):
            auth = r.signed()
            secrets += [auth["challenge"], auth["challenge_signature"]]
            resp = requests.post(srv.url + "/fetch", json=dict({"link_token": r.link}, **auth))
            assert resp.status_code == 200
        resp = requests.post(srv.url + "/rotate_token",
                             json=dict({"link_token": r.link}, **r.signed()))
        secrets.append(resp.json()["fetch_token"])
        requests.post(srv.url + "/fetch", json={"link_token": r.link},
                      headers={"Authorization": "Bearer " + secrets[-1]})
        requests.post(srv.url + "/fetch", json={"link_token": r.link},
                      headers={"Authorization": "Bearer wrong-" + r.token})
        requests.get(srv.url + "/key/" + r.link)
        secrets.append(r.link)  # link tokens stay out of sealdropd's log too
    log = srv.log()
    for s in secrets:
        assert s not in log
        # Also no fragment long enough to matter.
        assert s[:16] not in log
    requests_lines = [l for l in log.splitlines() if " info " not in l and " error " not in l]
    assert len(requests_lines) > 20
    for line in requests_lines:
        assert LINE.match(line), line
