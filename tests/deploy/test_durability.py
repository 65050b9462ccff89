"""Nothing a client was told is stored may be lost: the database restarts
(MariaDB) or sealdropd is killed (SQLite) in the middle of a stream of
sends; every 201 id is fetched afterwards, and no request gets a 500 (a 503
while the store is away is fine)."""

import signal
import threading
import time

import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey

import stack
from sdclient import b64


class SendStream:
    """Three threads sending sealed messages to one new inbox until stopped;
    records every status and every id answered with 201."""

    def __init__(self, url):
        sk = SigningKey.generate()
        self.url = url
        self.reg = requests.post(url + "/register", json={
            "public_key": b64(sk.verify_key)}).json()
        self.box = SealedBox(sk.verify_key.to_curve25519_public_key())
        self.acked, self.statuses, self.stop = [], [], threading.Event()
        self.threads = [threading.Thread(target=self.run) for _ in range(3)]
        for t in self.threads:
            t.start()

    def run(self):
        sess = requests.Session()
        n = 0
        while not self.stop.is_set() and n < 3000:
            n += 1
            ct = b64(self.box.encrypt(b"m%d" % n))
            try:
                r = sess.post(self.url + "/send", json={"link_token": self.reg["link_token"],
                                                        "encrypted_message": ct}, timeout=30)
            except requests.RequestException:
                self.statuses.append("conn")
                continue
            self.statuses.append(r.status_code)
            if r.status_code == 201:
                self.acked.append(r.json()["id"])

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def stored_ids(self):
        """Every id the inbox holds, through every page."""
        ids, before = set(), None
        while True:
            body = {"link_token": self.reg["link_token"], "include_seen": True, "limit": 200}
            if before:
                body["before_id"] = before
            r = requests.post(self.url + "/fetch", json=body, headers={
                "Authorization": "Bearer " + self.reg["fetch_token"]}).json()
            ids.update(m["id"] for m in r["data"])
            if not r["has_more"]:
                return ids
            before = r["next_cursor"]


def test_mariadb_restart_loses_nothing(mariadb):
    db = mariadb.new_database()
    with stack.Stack(db=mariadb.dsn_for(db), threads=4) as s:
        st = SendStream(s.url)
        time.sleep(1.0)
        before_restart = len(st.acked)
        mariadb.restart()
        time.sleep(1.5)
        st.finish()
        assert before_restart > 0
        assert 500 not in st.statuses
        assert set(st.statuses) <= {201, 503}, set(st.statuses)
        assert len(st.acked) > before_restart  # it recovered by itself
        assert requests.get(s.url + "/health").json()["database"] == "ok"
        assert set(st.acked) <= st.stored_ids()
        assert len(st.acked) == len(set(st.acked))


def test_sqlite_survives_kill_9_of_sealdropd():
    """Every 201 is on disk before it is sent."""
    with stack.Stack(threads=4) as s:
        st = SendStream(s.url)
        time.sleep(1.0)
        s.stop_daemon(sig=signal.SIGKILL)
        before_restart = len(st.acked)
        time.sleep(0.3)
        s.restart_daemon()
        time.sleep(1.0)
        st.finish()
        assert before_restart > 0 and len(st.acked) > before_restart
        assert set(st.statuses) <= {201, 503}, set(st.statuses)
        assert set(st.acked) <= st.stored_ids()


def test_sigterm_drains_and_exits_zero():
    with stack.Stack(threads=4) as s:
        results, stop = [], threading.Event()

        def poll():
            sess = requests.Session()
            while not stop.is_set():
                try:
                    results.append(sess.get(s.url + "/health", timeout=5).status_code)
                except requests.RequestException:
                    results.append("conn")

        threads = [threading.Thread(target=poll) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        rc = s.stop_daemon()
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(10)
        assert rc == 0
        assert results.count(200) > 10
        # Once it is gone, nginx answers 503 JSON: never a 500, never a hang.
        assert set(results) <= {200, 503}, set(results)
