"""The link is public: nobody holding it may lock the owner out of
signature login by flooding /challenge_request."""

from conftest import Recipient, session_from


def test_flood_from_other_addresses_does_not_lock_owner_out(srv):
    owner = session_from("127.0.0.1")
    r = Recipient(srv.url, owner)
    # Attackers on 20 other addresses each take every challenge they may.
    refused = 0
    for i in range(2, 22):
        attacker = session_from("127.0.0.%d" % i)
        for _ in range(8):
            resp = attacker.post(srv.url + "/challenge_request", json={"link_token": r.link})
            assert resp.status_code in (200, 429), resp.text
            if resp.status_code == 429:
                refused += 1
                assert resp.json()["code"] == "too_many_challenges"
                assert int(resp.headers["Retry-After"]) > 0
    assert refused == 20 * 3  # each attacker stopped at 5
    # The owner still logs in by signature.
    auth = r.signed(owner)
    resp = owner.post(srv.url + "/fetch", json=dict({"link_token": r.link}, **auth))
    assert resp.status_code == 200, resp.text


def test_owner_own_limit_applies_per_address(srv):
    me = session_from("127.0.0.50")
    r = Recipient(srv.url, me)
    codes = [me.post(srv.url + "/challenge_request", json={"link_token": r.link}).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]
    # Using one frees nothing until it is consumed: consume one and ask again.
    other = session_from("127.0.0.51")
    auth = r.signed(other)
    assert other.post(srv.url + "/fetch", json=dict({"link_token": r.link}, **auth)).status_code == 200
