"""The link is public: nobody holding it may lock the owner out of
signature login by flooding /challenge_request. Unused challenges are
capped per inbox and caller address (5), and a consumed one frees its
place."""

import pytest

from sdclient import Recipient, b64, session_from

CHALLENGES_PER_CALLER = 5


def ask(http, r):
    return http.post(r.url + "/challenge_request", json={"link_token": r.link})


def test_flood_from_other_addresses_does_not_lock_owner_out(srv):
    owner = session_from("127.0.0.1")
    r = Recipient(srv.url, owner)
    # Attackers on 20 other addresses each take every challenge they may,
    # and then some: each gets exactly its 5, the rest are 429.
    for i in range(2, 22):
        attacker = session_from("127.0.0.%d" % i)
        answers = [ask(attacker, r) for _ in range(8)]
        codes = [a.status_code for a in answers]
        assert codes == [200] * CHALLENGES_PER_CALLER + [429] * 3, (i, codes)
        for a in answers[CHALLENGES_PER_CALLER:]:
            assert a.json()["code"] == "too_many_challenges"
            assert int(a.headers["Retry-After"]) > 0
    # The owner still logs in by signature.
    auth = r.signed(owner)
    resp = owner.post(srv.url + "/fetch", json=dict({"link_token": r.link}, **auth))
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("consume", [True, False], ids=["consumed", "refused-login"])
def test_caller_gets_a_new_challenge_only_once_one_is_consumed(srv, consume):
    """An address holding its 5 gets 429; a login with one of them (signed
    correctly) frees that place, a refused login (bad signature) frees
    nothing."""
    me = session_from("127.0.0.%d" % (50 if consume else 52))
    r = Recipient(srv.url, me)
    answers = [ask(me, r) for _ in range(CHALLENGES_PER_CALLER + 1)]
    assert [a.status_code for a in answers] == [200] * CHALLENGES_PER_CALLER + [429]
    ch = answers[0].json()["challenge"]
    sig = r.sk.sign(ch.encode()).signature
    if not consume:
        sig = bytes(64)
    resp = me.post(srv.url + "/fetch", json={"link_token": r.link, "challenge": ch,
                                             "challenge_signature": b64(sig)})
    assert resp.status_code == (200 if consume else 401), resp.text
    again = [ask(me, r).status_code for _ in range(2)]
    assert again == ([200, 429] if consume else [429, 429])
    # Another address was never limited by this one.
    assert ask(session_from("127.0.0.51"), r).status_code == 200
