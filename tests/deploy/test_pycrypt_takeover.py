"""A database PyCrypt's own server created and filled (fixtures/pycrypt_full.sql)
is taken over by sealdropd configured by nothing but PyCrypt's .env: the
migration succeeds, is idempotent, changes nothing of PyCrypt's, survives
being cut short at any statement, old credentials, messages and permissions
keep working, and PyCrypt's own server (played here by PyCrypt-style SQL over
PyMySQL, as PyCrypt's user from the same .env) still runs on the result and
finds every row, sealdrop's included. Also the README-only schema
(fixtures/pycrypt.sql) and a database already migrated."""

import base64
import datetime
import glob
import hashlib
import json
import os
import subprocess
import sys

import pymysql
import pytest
import requests
from nacl.public import SealedBox
from nacl.signing import SigningKey

from conftest import HERE, ROOT
import stack
from sdclient import b64

sys.path.insert(0, os.path.join(HERE, "fixtures"))
import pycrypt_full as F  # noqa: E402

FULL = os.path.join(HERE, "fixtures", "pycrypt_full.sql")
README = os.path.join(HERE, "fixtures", "pycrypt.sql")

# PyCrypt's columns and indexes, as its init_database() creates them.
PYCRYPT_COLUMNS = {
    "clients": ["id", "link_token", "public_key", "public_key_hash", "key_type",
                "display_name", "fetch_token_hash", "created_at"],
    "messages": ["id", "link_token", "encrypted_message", "created_at", "seen", "metadata",
                 "size_bytes"],
    "challenges": ["id", "link_token", "challenge_nonce", "client_ip", "user_agent",
                   "created_at", "expires_at", "used"],
    "message_requests": ["id", "from_link_token", "to_link_token", "from_nickname", "status",
                         "created_at", "updated_at"],
}
PYCRYPT_INDEXES = {
    "clients": ["PRIMARY", "link_token", "idx_link_token", "idx_public_key_hash"],
    "messages": ["PRIMARY", "idx_link_token", "idx_created_at", "idx_seen",
                 "idx_messages_unseen"],
    "challenges": ["PRIMARY", "idx_link_token", "idx_expires_at"],
    "message_requests": ["PRIMARY", "idx_to_link_token", "idx_from_link_token", "idx_status"],
}
MAX_FAULT_RUNS = 60


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def all_versions():
    """Every migration version sql/mysql/ holds, as schema_version lists them."""
    return [str(int(os.path.basename(p).split("_")[0]))
            for p in sorted(glob.glob(os.path.join(ROOT, "sql", "mysql", "[0-9]*.sql")))]


def migration_statements():
    """How many statements sql/mysql/*.sql hold, split as the runner does."""
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "sql", "mysql", "*.sql"))):
        with open(path) as f:
            text = f.read()
        for part in text.split(";\n"):
            lines = [ln for ln in part.splitlines()
                     if ln.strip() and not ln.strip().startswith("--")]
            if lines:
                n += 1
    return n


# ---- the database ---------------------------------------------------------

def load(mariadb, fixture):
    db = mariadb.new_database()
    with open(fixture) as f:
        mariadb.sql(f.read(), db)
    return db


def env_file(tmp_path, mariadb, db):
    """PyCrypt's own .env, unchanged."""
    p = tmp_path / (".env-" + db)
    p.write_text("DEBUG=True\nPORT=5000\n\nDB_HOST=127.0.0.1\nDB_PORT=%d\nDB_USER=sealdrop\n"
                 "DB_PASSWORD=%s\nDB_NAME=%s\n\nBASE_URL=http://localhost:5000\n"
                 % (mariadb.port, mariadb.password, db))
    return p


def run_migrate(binary, envfile, fault=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SEALDROP_DB", "SEALDROP_ENV_FILE", "SEALDROP_FAULT_STORE")}
    if fault is not None:
        env["SEALDROP_FAULT_STORE"] = str(fault)
    r = subprocess.run([binary, "--migrate", "--env-file", str(envfile)], env=env,
                       capture_output=True, text=True, timeout=180)
    for mark in stack.Stack.SANITIZER_MARKS:
        assert mark not in r.stderr, r.stderr
    return r


def migrate_ok(binary, envfile):
    r = run_migrate(binary, envfile)
    assert r.returncode == 0, r.stderr
    return r


def rows(mariadb, db, query):
    out = mariadb.sql(query, db)
    return [line.split("\t") for line in out.splitlines()]


def columns(mariadb, db):
    """{table: [column, ...]} of every table of the database."""
    out = {}
    for t, c in rows(mariadb, None, "SELECT table_name, column_name FROM information_schema.columns "
                     "WHERE table_schema = '%s' ORDER BY table_name, column_name;" % db):
        out.setdefault(t, []).append(c)
    return {t: sorted(c) for t, c in out.items()}


def schema(mariadb, db):
    """Tables, columns and indexes, without the database's name."""
    tables = mariadb.sql("SELECT table_name, engine, table_collation FROM information_schema.tables "
                         "WHERE table_schema = '%s' ORDER BY table_name;" % db)
    cols = mariadb.sql("SELECT table_name, column_name, column_type, is_nullable, column_default, "
                       "extra, collation_name FROM information_schema.columns WHERE table_schema = "
                       "'%s' ORDER BY table_name, column_name;" % db)
    idx = mariadb.sql("SELECT table_name, index_name, seq_in_index, column_name, non_unique "
                      "FROM information_schema.statistics WHERE table_schema = '%s' "
                      "ORDER BY table_name, index_name, seq_in_index;" % db)
    return {"tables": tables, "columns": cols, "indexes": idx}


def contents(mariadb, db, with_applied_at=False):
    """Every row of every table, columns in name order (so that two databases
    migrated along different paths compare equal when they hold the same)."""
    out = {}
    for table, cols in columns(mariadb, db).items():
        if table == "sealdrop_leases":
            continue  # coordination between instances, empty once they are done
        if table == "schema_version":
            cols = [c for c in cols if with_applied_at or c != "applied_at"]
            order = "version"
        else:
            order = "id"
        out[table] = mariadb.sql("SELECT %s FROM %s ORDER BY %s;"
                                 % (", ".join("`%s`" % c for c in cols), table, order), db)
    return out


def snapshot(mariadb, db, with_applied_at=False):
    return {"schema": schema(mariadb, db), "contents": contents(mariadb, db, with_applied_at)}


def pycrypt_schema(mariadb, db, like=None):
    """PyCrypt's own columns (with their definitions) and indexes, as they are;
    with like (an earlier result), only those that were there then."""
    s = schema(mariadb, db)
    keep_cols = [ln for ln in s["columns"].splitlines()
                 if ln.split("\t")[1] in PYCRYPT_COLUMNS.get(ln.split("\t")[0], ())]
    keep_idx = [ln for ln in s["indexes"].splitlines()
                if ln.split("\t")[1] in PYCRYPT_INDEXES.get(ln.split("\t")[0], ())]
    if like is not None:
        had = {tuple(ln.split("\t")[:2]) for part in like for ln in part}
        keep_cols = [ln for ln in keep_cols if tuple(ln.split("\t")[:2]) in had]
        keep_idx = [ln for ln in keep_idx if tuple(ln.split("\t")[:2]) in had]
    return keep_cols, keep_idx


def pycrypt_values(mariadb, db, cols):
    """The values of PyCrypt's columns among cols ({table: [column]})."""
    out = {}
    for table in PYCRYPT_COLUMNS:
        have = [c for c in PYCRYPT_COLUMNS[table] if c in cols.get(table, ())]
        if have:
            out[table] = mariadb.sql("SELECT %s FROM %s ORDER BY id;" % (", ".join(have), table), db)
    return out


def versions(mariadb, db):
    return mariadb.sql("SELECT version FROM schema_version ORDER BY version;", db).split()


def check_counters_equal_rows(mariadb, db):
    """msg_count and msg_bytes of every inbox equal its rows, and every row
    carries what it was charged."""
    bad = rows(mariadb, db, "SELECT id, size_bytes, charged FROM messages WHERE charged IS NULL OR "
               "charged <> OCTET_LENGTH(encrypted_message) + COALESCE(OCTET_LENGTH(metadata), 0);")
    assert bad == []
    got = rows(mariadb, db, "SELECT c.link_token, c.msg_count, c.msg_bytes, "
               "(SELECT COUNT(*) FROM messages m WHERE m.link_token = c.link_token), "
               "(SELECT COALESCE(SUM(m.charged), 0) FROM messages m WHERE m.link_token = c.link_token) "
               "FROM clients c ORDER BY c.id;")
    assert got, "no clients"
    for link, count, nbytes, real_count, real_bytes in got:
        assert (count, nbytes) == (real_count, real_bytes), link


def check_size_bytes(mariadb, db):
    """size_bytes is the decoded ciphertext length on every row."""
    got = rows(mariadb, db, "SELECT id, encrypted_message, size_bytes FROM messages ORDER BY id;")
    assert got
    for id_, text, size in got:
        assert size != "NULL", id_
        assert int(size) == len(base64.b64decode(text)), id_


def check_added_columns_are_safe(mariadb, db):
    """PyCrypt's INSERTs name only its own columns: every column sealdrop
    added to PyCrypt's tables must have a default or allow NULL (tables of
    sealdrop's own, such as receipts, PyCrypt never writes)."""
    got = rows(mariadb, None, "SELECT table_name, column_name, is_nullable, column_default "
               "FROM information_schema.columns WHERE table_schema = '%s';" % db)
    added = [(t, c, n, d) for t, c, n, d in got
             if t in PYCRYPT_COLUMNS and c not in PYCRYPT_COLUMNS[t]]
    # box_public_key, msg_count, msg_bytes, charged, caller (twice), verified at least.
    assert len(added) >= 7, added
    for table, col, nullable, default in added:
        assert nullable == "YES" or default != "NULL", (table, col)


# ---- sealdropd ------------------------------------------------------------

class EnvStack(stack.Stack):
    """sealdropd + nginx, sealdropd configured by nothing but PyCrypt's .env."""

    def __init__(self, envfile, **kw):
        super().__init__(env={"SEALDROP_ENV_FILE": str(envfile)}, **kw)

    def daemon_env(self):
        env = super().daemon_env()
        env.pop("SEALDROP_DB", None)
        return env


def post(s, path, body, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.post(s.url + path, json=body, headers=headers, timeout=30)


def signed(s, link, key):
    r = post(s, "/challenge_request", {"link_token": link})
    assert r.status_code == 200, r.text
    ch = r.json()["challenge"]
    return {"challenge": ch, "challenge_signature": b64(key.sign(ch.encode()).signature)}


def fetch_all(s, link, token):
    r = post(s, "/fetch", {"link_token": link, "include_seen": True, "limit": 200}, token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def sealed_to(key_or_pub, text):
    pub = key_or_pub.verify_key if isinstance(key_or_pub, SigningKey) else key_or_pub
    return b64(SealedBox(pub.to_curve25519_public_key()).encrypt(text.encode()))


def opened(key, m):
    return SealedBox(key.to_curve25519_private_key()).decrypt(
        base64.b64decode(m["encrypted_message"])).decode()


def send(s, link, text_b64, **extra):
    return post(s, "/send", dict({"link_token": link, "encrypted_message": text_b64}, **extra))


# ---- PyCrypt's own server, as far as the database sees it -----------------

class PyCrypt:
    """What PyCrypt's server does to its database, with PyCrypt's statements:
    its own columns by name, PyMySQL, the credentials of its .env."""

    def __init__(self, mariadb, db):
        self.conn = pymysql.connect(host="127.0.0.1", port=mariadb.port, user="sealdrop",
                                    password=mariadb.password, database=db, charset="utf8mb4",
                                    cursorclass=pymysql.cursors.DictCursor, autocommit=False)

    def close(self):
        self.conn.close()

    def q(self, sql, args=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            out = list(cur.fetchall())
            last = cur.lastrowid
            count = cur.rowcount
        self.conn.commit()
        return out, last, count

    def register(self, link, public_key, display_name, fetch_token):
        _, last, _ = self.q(
            "INSERT INTO clients (link_token, public_key, public_key_hash, key_type, "
            "display_name, fetch_token_hash) VALUES (%s, %s, %s, %s, %s, %s)",
            (link, public_key, sha256_hex(public_key), "ed25519", display_name,
             sha256_hex(fetch_token)))
        return last

    def client(self, link):
        out, _, _ = self.q("SELECT id, link_token, public_key, public_key_hash, key_type, "
                           "display_name, fetch_token_hash, created_at FROM clients "
                           "WHERE link_token = %s", (link,))
        return out[0] if out else None

    def token_ok(self, link, token):
        c = self.client(link)
        return c is not None and c["fetch_token_hash"] == sha256_hex(token)

    def send(self, link, encrypted_message, metadata=None):
        _, last, _ = self.q(
            "INSERT INTO messages (link_token, encrypted_message, metadata, size_bytes) "
            "VALUES (%s, %s, %s, %s)",
            (link, encrypted_message, None if metadata is None else json.dumps(metadata),
             len(base64.b64decode(encrypted_message))))
        return last

    def messages(self, link, include_seen=False):
        sql = ("SELECT id, encrypted_message, created_at, seen, metadata, size_bytes FROM messages "
               "WHERE link_token = %s")
        if not include_seen:
            sql += " AND seen = FALSE"
        out, _, _ = self.q(sql + " ORDER BY created_at DESC LIMIT 100", (link,))
        return out

    def mark_seen(self, link, ids):
        _, _, n = self.q("UPDATE messages SET seen = TRUE WHERE link_token = %%s AND id IN (%s)"
                         % ", ".join(["%s"] * len(ids)), [link] + list(ids))
        return n

    def challenge(self, link, nonce, client_ip, user_agent):
        expires = datetime.datetime.utcnow() + datetime.timedelta(minutes=5)
        _, last, _ = self.q("INSERT INTO challenges (link_token, challenge_nonce, client_ip, "
                            "user_agent, expires_at) VALUES (%s, %s, %s, %s, %s)",
                            (link, nonce, client_ip, user_agent, expires))
        return last

    def valid_challenge(self, link, nonce):
        out, _, _ = self.q("SELECT id, client_ip, user_agent FROM challenges WHERE link_token = %s "
                           "AND challenge_nonce = %s AND used = FALSE AND expires_at > %s",
                           (link, nonce, datetime.datetime.utcnow()))
        return out

    def use_challenge(self, id_):
        return self.q("UPDATE challenges SET used = TRUE WHERE id = %s", (id_,))[2]

    def request(self, frm, to, nickname):
        return self.q("INSERT INTO message_requests (from_link_token, to_link_token, "
                      "from_nickname) VALUES (%s, %s, %s)", (frm, to, nickname))[1]

    def pending(self, to):
        return self.q("SELECT id, from_link_token, from_nickname, created_at FROM "
                      "message_requests WHERE to_link_token = %s AND status = 'pending' "
                      "ORDER BY created_at DESC", (to,))[0]

    def respond(self, id_, status):
        return self.q("UPDATE message_requests SET status = %s WHERE id = %s", (status, id_))[2]

    def allowed(self, frm, to):
        out, _, _ = self.q("SELECT id FROM message_requests WHERE from_link_token = %s AND "
                           "to_link_token = %s AND status = 'accepted'", (frm, to))
        return bool(out)


@pytest.fixture
def full_db(mariadb):
    return load(mariadb, FULL)


@pytest.fixture
def taken_over(tmp_path, mariadb, sealdropd, full_db):
    """The full PyCrypt database, migrated; (db, envfile)."""
    envfile = env_file(tmp_path, mariadb, full_db)
    migrate_ok(sealdropd, envfile)
    return full_db, envfile


# ---- the fixture itself ---------------------------------------------------

def test_fixture_is_as_pycrypt_writes_it(mariadb, full_db):
    db = full_db
    tables = rows(mariadb, None, "SELECT table_name, engine, table_collation FROM "
                  "information_schema.tables WHERE table_schema = '%s' ORDER BY table_name;" % db)
    assert sorted(tables) == [[t, "InnoDB", "utf8mb4_unicode_ci"] for t in sorted(PYCRYPT_COLUMNS)]
    assert columns(mariadb, db) == {t: sorted(c) for t, c in PYCRYPT_COLUMNS.items()}
    idx = rows(mariadb, None, "SELECT DISTINCT table_name, index_name FROM "
               "information_schema.statistics WHERE table_schema = '%s';" % db)
    assert sorted(map(tuple, idx)) == sorted((t, i) for t, l in PYCRYPT_INDEXES.items() for i in l)
    # Clients: hashes as PyCrypt computes them, keys from the seeds.
    got = rows(mariadb, db, "SELECT link_token, public_key, public_key_hash, key_type, "
               "fetch_token_hash FROM clients ORDER BY id;")
    assert [g[0] for g in got] == [F.link(n) for n in F.PEOPLE]
    for (lk, pk, pkh, kt, fth), name in zip(got, F.PEOPLE):
        assert pk == F.public_key_b64(name)
        assert pkh == sha256_hex(pk) and fth == sha256_hex(F.token(name)) and kt == "ed25519"
    # Messages: each opens with its owner's key to its text; size_bytes,
    # seen and metadata as written.
    got = rows(mariadb, db, "SELECT link_token, encrypted_message, seen, metadata, size_bytes "
               "FROM messages ORDER BY id;")
    assert len(got) == len(F.MESSAGES)
    for (lk, ct, seen, meta, size), (to, text, _, want_seen, want_meta) in zip(got, F.MESSAGES):
        raw = base64.b64decode(ct)
        assert lk == F.link(to) and int(size) == len(raw) and int(seen) == want_seen
        box = SealedBox(F.signing_key(to).to_curve25519_private_key())
        assert box.decrypt(raw).decode() == text
        meta = None if meta == "NULL" else json.loads(meta.replace("\\\\", "\\"))
        assert meta == want_meta
    kinds = {type(m[4]) for m in F.MESSAGES}
    assert list in kinds and dict in kinds
    got = rows(mariadb, db, "SELECT used, client_ip, user_agent FROM challenges;")
    assert {g[0] for g in got} == {"0", "1"} and all(g[1] != "NULL" and g[2] != "NULL" for g in got)
    got = rows(mariadb, db, "SELECT status FROM message_requests;")
    assert {"pending", "accepted"} <= {g[0] for g in got}


# ---- migration ------------------------------------------------------------

def test_full_schema_migrates_additively_and_idempotently(tmp_path, mariadb, sealdropd, full_db):
    db = full_db
    envfile = env_file(tmp_path, mariadb, db)
    cols_before = columns(mariadb, db)
    schema_before = pycrypt_schema(mariadb, db)
    values_before = pycrypt_values(mariadb, db, cols_before)
    r = run_migrate(sealdropd, envfile)
    assert r.returncode == 0, r.stderr  # was: Unknown column 'c.msg_count'
    first = snapshot(mariadb, db, with_applied_at=True)
    r = run_migrate(sealdropd, envfile)
    assert r.returncode == 0, r.stderr
    assert snapshot(mariadb, db, with_applied_at=True) == first  # the second run changes nothing
    assert versions(mariadb, db) == all_versions()
    # Nothing of PyCrypt's was renamed, dropped, retyped or rewritten.
    assert pycrypt_schema(mariadb, db, schema_before) == schema_before
    assert pycrypt_values(mariadb, db, cols_before) == values_before
    cols = columns(mariadb, db)
    for table, want in (("clients", ["box_public_key", "msg_count", "msg_bytes"]),
                        ("messages", ["charged"]), ("challenges", ["caller"]),
                        ("message_requests", ["verified", "caller"])):
        assert set(want) <= set(cols[table]), table
    check_added_columns_are_safe(mariadb, db)
    check_counters_equal_rows(mariadb, db)
    check_size_bytes(mariadb, db)
    want = {}
    for to, *_ in F.MESSAGES:
        want[F.link(to)] = want.get(F.link(to), 0) + 1
    got = dict((lk, int(n)) for lk, n in rows(mariadb, db, "SELECT link_token, msg_count FROM clients;"))
    assert got == {F.link(n): want.get(F.link(n), 0) for n in F.PEOPLE}


def test_readme_schema_migrates_additively_and_idempotently(tmp_path, mariadb, sealdropd):
    db = load(mariadb, README)
    envfile = env_file(tmp_path, mariadb, db)
    cols_before = columns(mariadb, db)
    schema_before = pycrypt_schema(mariadb, db)
    values_before = pycrypt_values(mariadb, db, cols_before)
    migrate_ok(sealdropd, envfile)
    first = snapshot(mariadb, db, with_applied_at=True)
    migrate_ok(sealdropd, envfile)
    assert snapshot(mariadb, db, with_applied_at=True) == first
    assert versions(mariadb, db) == all_versions()
    assert pycrypt_schema(mariadb, db, schema_before) == schema_before
    assert pycrypt_values(mariadb, db, cols_before) == values_before
    # The columns PyCrypt's init_database() has and its README lacks.
    cols = columns(mariadb, db)
    assert {"key_type"} <= set(cols["clients"]) and {"size_bytes"} <= set(cols["messages"])
    assert "message_requests" in cols
    check_added_columns_are_safe(mariadb, db)
    check_counters_equal_rows(mariadb, db)
    check_size_bytes(mariadb, db)  # computed by the migration, padding and all


def test_already_migrated_database_migrates_as_a_no_op(tmp_path, mariadb, sealdropd, taken_over):
    db, envfile = taken_over
    # Served for a while: new inbox, new mail, an ack.
    with EnvStack(envfile) as s:
        erin = SigningKey(b"E" * 32)
        r = post(s, "/register", {"public_key": b64(erin.verify_key), "display_name": "Erin"})
        assert r.status_code == 201, r.text
        reg = r.json()
        assert send(s, reg["link_token"], sealed_to(erin, "hi erin"),
                    metadata={"k": "v"}).status_code == 201
        r = post(s, "/ack", {"link_token": F.link("alice"), "message_ids": [2]}, F.token("alice"))
        assert r.status_code == 200 and r.json()["count"] == 1
    before = snapshot(mariadb, db, with_applied_at=True)
    r = migrate_ok(sealdropd, envfile)
    assert "applied migration" not in r.stderr + r.stdout
    assert snapshot(mariadb, db, with_applied_at=True) == before
    check_counters_equal_rows(mariadb, db)
    # A database sealdrop created itself, too.
    fresh = mariadb.new_database()
    fresh_env = env_file(tmp_path, mariadb, fresh)
    migrate_ok(sealdropd, fresh_env)
    before = snapshot(mariadb, fresh, with_applied_at=True)
    migrate_ok(sealdropd, fresh_env)
    assert snapshot(mariadb, fresh, with_applied_at=True) == before
    assert versions(mariadb, fresh) == all_versions()


def cut_short_everywhere(tmp_path, mariadb, sealdropd, faulty, fixture):
    """Fail the 1st, 2nd, ... store statement of a migration of fixture; after
    each failed run the normal migration must succeed and leave exactly what an
    uninterrupted one leaves. Returns how many runs failed."""
    ref_db = load(mariadb, fixture)
    migrate_ok(sealdropd, env_file(tmp_path, mariadb, ref_db))
    ref = snapshot(mariadb, ref_db)
    check_counters_equal_rows(mariadb, ref_db)
    failed = 0
    for n in range(1, MAX_FAULT_RUNS + 1):
        db = load(mariadb, fixture)
        envfile = env_file(tmp_path, mariadb, db)
        r = run_migrate(faulty, envfile, fault=n)
        if r.returncode == 0:
            assert snapshot(mariadb, db) == ref, "fault at %d never hit, yet a different result" % n
            mariadb.sql("DROP DATABASE %s;" % db)
            break
        failed += 1
        assert versions(mariadb, db) != all_versions() or n > migration_statements(), \
            "statement %d failed but every migration is recorded:\n%s" % (n, r.stderr)
        r = run_migrate(sealdropd, envfile)
        assert r.returncode == 0, "after a cut at statement %d: %s" % (n, r.stderr)
        got = snapshot(mariadb, db)
        assert got["schema"] == ref["schema"], "cut at statement %d" % n
        assert got["contents"] == ref["contents"], "cut at statement %d" % n
        mariadb.sql("DROP DATABASE %s;" % db)
    else:
        pytest.fail("the migration still failed with SEALDROP_FAULT_STORE=%d" % MAX_FAULT_RUNS)
    mariadb.sql("DROP DATABASE %s;" % ref_db)
    # Each migration statement was cut at least once (a build without fault
    # injection would succeed at once and prove nothing).
    assert failed >= migration_statements(), (failed, migration_statements())
    return failed


def test_full_schema_migration_cut_short_at_any_statement(tmp_path, mariadb, sealdropd,
                                                          sealdropd_fault):
    cut_short_everywhere(tmp_path, mariadb, sealdropd, sealdropd_fault, FULL)


def test_readme_schema_migration_cut_short_at_any_statement(tmp_path, mariadb, sealdropd,
                                                            sealdropd_fault):
    cut_short_everywhere(tmp_path, mariadb, sealdropd, sealdropd_fault, README)


# ---- the wire, after the takeover ------------------------------------------

def test_old_credentials_messages_and_seen_flags_survive_the_takeover(mariadb, taken_over):
    db, envfile = taken_over
    with EnvStack(envfile) as s:
        for name in F.PEOPLE:
            key, lk, tok = F.signing_key(name), F.link(name), F.token(name)
            # The old fetch token (hex SHA-256 stored) authenticates; another's does not.
            data = fetch_all(s, lk, tok)
            other = F.token("bob" if name != "bob" else "alice")
            assert post(s, "/fetch", {"link_token": lk}, other).status_code == 401
            want = [m for m in F.MESSAGES if m[0] == name][::-1]  # newest first
            assert len(data) == len(want), name
            for m, (_, text, created, seen, meta) in zip(data, want):
                assert opened(key, m) == text
                assert m["created_at"] == created.replace(" ", "T") + "Z"
                assert m["seen"] is bool(seen)
                assert m["metadata"] == meta  # arrays and objects exactly
            # The old Ed25519 key signs a challenge.
            ch = signed(s, lk, key)
            r = post(s, "/fetch", dict({"link_token": lk, "include_seen": True}, **ch))
            assert r.status_code == 200 and r.json()["count"] == len(want)
            # A challenge PyCrypt issued long ago has expired, used or not.
            for who, nonce, *_ in F.CHALLENGES:
                if who == name:
                    sig = b64(key.sign(nonce.encode()).signature)
                    r = post(s, "/fetch", {"link_token": lk, "challenge": nonce,
                                           "challenge_signature": sig})
                    assert r.status_code == 401, r.text
        # The unseen view is PyCrypt's seen flag.
        r = post(s, "/fetch", {"link_token": F.link("alice")}, F.token("alice"))
        assert [m["seen"] for m in r.json()["data"]] == [False, False]
        # Senders find the key (converted from Ed25519); new mail is counted.
        alice = F.signing_key("alice")
        k = requests.get(s.url + "/key/" + F.link("alice"), timeout=30).json()
        assert k["display_name"] == "Alice" and k["key_type"] == "ed25519"
        assert base64.b64decode(k["box_public_key"]) == bytes(
            alice.verify_key.to_curve25519_public_key())
        r = send(s, F.link("alice"), sealed_to(alice, "after the switch"), metadata={"a": [1]})
        assert r.status_code == 201, r.text
        check_counters_equal_rows(mariadb, db)
        # Acks on old messages: seen, then deleted; the counters follow the rows.
        r = post(s, "/ack", {"link_token": F.link("alice"), "message_ids": [2, 3]}, F.token("alice"))
        assert r.status_code == 200 and r.json()["count"] == 1  # 3 is bob's
        assert rows(mariadb, db, "SELECT seen FROM messages WHERE id IN (2, 3) ORDER BY id;") == \
            [["1"], ["0"]]
        r = post(s, "/ack", {"link_token": F.link("alice"), "message_ids": [1, 2], "delete": True},
                 F.token("alice"))
        assert r.status_code == 200 and r.json()["count"] == 2
        check_counters_equal_rows(mariadb, db)


def test_old_permissions_hold_and_the_permission_api_shares_them_with_pycrypt(mariadb, taken_over):
    db, envfile = taken_over
    alice, carol, dave, bob = (F.link(n) for n in ("alice", "carol", "dave", "bob"))
    with EnvStack(envfile) as s:
        # carol -> alice was accepted under PyCrypt.
        r = send(s, alice, sealed_to(F.signing_key("alice"), "from carol"), from_link_token=carol)
        assert r.status_code == 201, r.text
        # dave -> alice is pending, bob -> carol was rejected.
        for frm, to in ((dave, alice), (bob, carol)):
            r = send(s, to, sealed_to(F.signing_key("alice"), "nope"), from_link_token=frm)
            assert r.status_code == 403, r.text
            assert r.json()["action_required"] == "request_permission"
        # alice sees dave's pending request, and only that.
        r = post(s, "/get_message_requests", {"link_token": alice}, F.token("alice"))
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert [(d["from_link_token"], d["from_nickname"]) for d in data] == [(dave, "Dave")]
        assert data[0]["created_at"].startswith("2025-11-08T01:40:00")
        dave_req = data[0]["id"]
        r = post(s, "/get_message_requests", {"link_token": carol}, F.token("carol"))
        assert r.status_code == 200 and r.json()["data"] == []
        # Asking again for a permission PyCrypt granted: already accepted.
        r = post(s, "/request_message_permission",
                 {"from_link_token": carol, "to_link_token": alice, "from_nickname": "Carol"})
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
        # alice accepts dave through sealdrop: PyCrypt sees it, dave may send.
        r = post(s, "/respond_message_request",
                 {"link_token": alice, "request_id": dave_req, "action": "accept"},
                 F.token("alice"))
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
        py = PyCrypt(mariadb, db)
        try:
            assert py.allowed(dave, alice)
            r = send(s, alice, sealed_to(F.signing_key("alice"), "from dave"),
                     from_link_token=dave)
            assert r.status_code == 201, r.text
            # bob asks alice through sealdrop; PyCrypt finds it and accepts it.
            r = post(s, "/request_message_permission",
                     {"from_link_token": bob, "to_link_token": alice, "from_nickname": "Bob"})
            assert r.status_code == 201 and r.json()["status"] == "pending", r.text
            pend = py.pending(alice)
            assert [(p["from_link_token"], p["from_nickname"]) for p in pend] == [(bob, "Bob")]
            assert pend[0]["id"] == r.json()["request_id"]
            assert py.respond(pend[0]["id"], "accepted") == 1
            r = send(s, alice, sealed_to(F.signing_key("alice"), "from bob"), from_link_token=bob)
            assert r.status_code == 201, r.text
        finally:
            py.close()
        check_counters_equal_rows(mariadb, db)


def test_pycrypt_runs_on_the_migrated_database(mariadb, taken_over):
    """sealdrop serves and writes, PyCrypt's server takes over again and finds
    everything, writes its own rows, and sealdrop serves those in turn."""
    db, envfile = taken_over
    alice_key = F.signing_key("alice")
    alice, bob = F.link("alice"), F.link("bob")
    erin = SigningKey(b"E" * 32)
    frank = SigningKey(b"F" * 32)
    with EnvStack(envfile) as s:
        # -- sealdrop writes.
        r = post(s, "/register", {"public_key": b64(erin.verify_key), "display_name": "Erin"})
        assert r.status_code == 201, r.text
        erin_link, erin_token = r.json()["link_token"], r.json()["fetch_token"]
        erin_meta = {"sender_nick": "Alice", "list": [1, 2, {"x": None}]}
        r = send(s, erin_link, sealed_to(erin, "welcome erin"), metadata=erin_meta)
        assert r.status_code == 201, r.text
        erin_msg = r.json()["id"]
        r = send(s, alice, sealed_to(alice_key, "sealdrop wrote this"), metadata={"n": 1})
        assert r.status_code == 201, r.text
        alice_new = r.json()["id"]
        r = post(s, "/ack", {"link_token": erin_link, "message_ids": [erin_msg]}, erin_token)
        assert r.status_code == 200 and r.json()["count"] == 1
        r = post(s, "/rotate_token", dict({"link_token": bob}, **signed(s, bob, F.signing_key("bob"))))
        assert r.status_code == 200, r.text
        bob_token = r.json()["fetch_token"]
        pending_ch = signed(s, alice, alice_key)["challenge"]  # issued, not used
        r = post(s, "/fetch", {"link_token": alice}, F.token("alice"))
        assert r.status_code == 200
        unseen = {m["id"] for m in r.json()["data"]}
        assert alice_new in unseen
        s.stop_daemon()

        # -- PyCrypt's server again, on the same database.
        py = PyCrypt(mariadb, db)
        try:
            links = [c["link_token"] for c in py.q("SELECT link_token FROM clients")[0]]
            assert set(links) == {F.link(n) for n in F.PEOPLE} | {erin_link}
            for lk in links:
                c = py.client(lk)
                assert c["public_key_hash"] == sha256_hex(c["public_key"]), lk
                assert c["key_type"] == "ed25519" and c["created_at"] is not None, lk
            assert py.client(erin_link)["display_name"] == "Erin"
            for name in ("alice", "carol", "dave"):
                assert py.token_ok(F.link(name), F.token(name)), name
            assert py.token_ok(erin_link, erin_token)
            assert py.token_ok(bob, bob_token) and not py.token_ok(bob, F.token("bob"))
            for m in py.q("SELECT id, encrypted_message, seen, metadata, size_bytes FROM messages")[0]:
                assert m["size_bytes"] == len(base64.b64decode(m["encrypted_message"])), m["id"]
                assert m["seen"] in (0, 1), m["id"]
                if m["metadata"] is not None:
                    json.loads(m["metadata"])
            got = py.messages(erin_link, include_seen=True)
            assert [(m["id"], m["seen"]) for m in got] == [(erin_msg, 1)]
            assert json.loads(got[0]["metadata"]) == erin_meta
            assert SealedBox(erin.to_curve25519_private_key()).decrypt(
                base64.b64decode(got[0]["encrypted_message"])) == b"welcome erin"
            got = py.messages(alice)
            assert {m["id"] for m in got} == unseen
            assert len(py.valid_challenge(alice, pending_ch)) == 1
            # PyCrypt registers frank, and mails alice and frank.
            frank_link = "link_pyCryptWroteFrank000000000000000"
            frank_pk, frank_token = b64(frank.verify_key), (
                "pycrypt-frank-fetch-token-0123456789abcdefghijklmnopqrstuvwxyzAB")
            assert py.register(frank_link, frank_pk, "Frank", frank_token) > 0
            py_to_alice = py.send(alice, sealed_to(alice_key, "pycrypt wrote this"),
                                  {"sender_nick": "PyCrypt", "tags": ["back"]})
            py_to_frank = py.send(frank_link, sealed_to(frank, "hello frank"), ["pycrypt"])
            assert py.mark_seen(alice, [alice_new]) == 1
            assert {m["id"] for m in py.messages(alice)} == unseen - {alice_new} | {py_to_alice}
            # PyCrypt's challenges: one used, one still open.
            used_nonce, open_nonce = b64(os.urandom(32)), b64(os.urandom(32))
            used_id = py.challenge(frank_link, used_nonce, "192.0.2.44", "PyCryptClient/1.2")
            py.challenge(frank_link, open_nonce, "2001:db8::44", "PyCryptClient/1.2")
            assert [c["id"] for c in py.valid_challenge(frank_link, used_nonce)] == [used_id]
            assert py.use_challenge(used_id) == 1
            assert py.valid_challenge(frank_link, used_nonce) == []
            assert py.valid_challenge(frank_link, open_nonce)[0]["client_ip"] == "2001:db8::44"
            # PyCrypt's permission requests: dave's (from the fixture) and frank's.
            req = py.request(frank_link, alice, "Frank")
            assert {p["from_link_token"] for p in py.pending(alice)} == {F.link("dave"), frank_link}
            assert py.respond(req, "accepted") == 1
            assert py.allowed(frank_link, alice) and py.allowed(F.link("carol"), alice)
            assert not py.allowed(F.link("dave"), alice)
        finally:
            py.close()

        # -- sealdrop again serves what PyCrypt wrote in between.
        s.restart_daemon()
        s.wait_ready()
        k = requests.get(s.url + "/key/" + frank_link, timeout=30)
        assert k.status_code == 200 and k.json()["display_name"] == "Frank"
        data = fetch_all(s, frank_link, frank_token)
        assert [m["id"] for m in data] == [py_to_frank]
        assert opened(frank, data[0]) == "hello frank" and data[0]["metadata"] == ["pycrypt"]
        assert data[0]["seen"] is False
        sig = b64(frank.sign(open_nonce.encode()).signature)
        r = post(s, "/fetch", {"link_token": frank_link, "challenge": open_nonce,
                               "challenge_signature": sig})
        assert r.status_code == 200, r.text
        sig = b64(frank.sign(used_nonce.encode()).signature)
        r = post(s, "/fetch", {"link_token": frank_link, "challenge": used_nonce,
                               "challenge_signature": sig})
        assert r.status_code == 401, r.text
        data = {m["id"]: m for m in fetch_all(s, alice, F.token("alice"))}
        assert opened(alice_key, data[py_to_alice]) == "pycrypt wrote this"
        assert data[py_to_alice]["metadata"] == {"sender_nick": "PyCrypt", "tags": ["back"]}
        assert data[alice_new]["seen"] is True  # PyCrypt's ack
        # Deleting PyCrypt's rows (never counted) leaves no counter below zero.
        for lk, tok, mid in ((frank_link, frank_token, py_to_frank),
                             (alice, F.token("alice"), py_to_alice)):
            r = post(s, "/ack", {"link_token": lk, "message_ids": [mid], "delete": True}, tok)
            assert r.status_code == 200 and r.json()["count"] == 1, r.text
        assert rows(mariadb, db, "SELECT id FROM messages WHERE id IN (%d, %d);"
                    % (py_to_alice, py_to_frank)) == []
        neg = rows(mariadb, db, "SELECT link_token, msg_count, msg_bytes FROM clients "
                   "WHERE msg_count < 0 OR msg_bytes < 0;")
        assert neg == []
        r = send(s, frank_link, sealed_to(frank, "sealdrop to frank"))
        assert r.status_code == 201, r.text
        assert rows(mariadb, db, "SELECT msg_count FROM clients WHERE link_token = '%s';"
                    % frank_link) == [["1"]]
        # PyCrypt's accepted permission holds in sealdrop; dave's is still pending.
        r = send(s, alice, sealed_to(alice_key, "from frank"), from_link_token=frank_link)
        assert r.status_code == 201, r.text
        r = send(s, alice, sealed_to(alice_key, "from dave"), from_link_token=F.link("dave"))
        assert r.status_code == 403, r.text


def test_pycrypt_runs_on_a_migrated_readme_database(tmp_path, mariadb, sealdropd):
    """A database at the README's stage, taken over: PyCrypt's current server
    (its columns as init_database() has them) runs on the result, and
    sealdrop serves what it wrote."""
    db = load(mariadb, README)
    envfile = env_file(tmp_path, mariadb, db)
    migrate_ok(sealdropd, envfile)
    for table, want in PYCRYPT_COLUMNS.items():
        assert set(want) <= set(columns(mariadb, db).get(table, ())), table
    grace = SigningKey(b"G" * 32)
    grace_link = "link_pyCryptWroteGrace000000000000000"
    grace_token = "pycrypt-grace-fetch-token-0123456789abcdefghijklmnopqrstuvwxyzAB"
    alice = "link_pyCryptAliceInbox0000000000000"  # fixtures/pycrypt.sql
    py = PyCrypt(mariadb, db)
    try:
        py.register(grace_link, b64(grace.verify_key), "Grace", grace_token)
        mid = py.send(grace_link, sealed_to(grace, "hello grace"), {"sender_nick": "Alice"})
        assert [m["id"] for m in py.messages(grace_link)] == [mid]
        old = py.messages(alice, include_seen=True)
        assert len(old) == 3  # fixtures/pycrypt.sql
        for m in old:
            assert m["size_bytes"] == len(base64.b64decode(m["encrypted_message"]))
        nonce = b64(os.urandom(32))
        used = b64(os.urandom(32))
        py.challenge(grace_link, nonce, "192.0.2.7", "PyCryptClient/1.2")
        assert py.use_challenge(py.challenge(grace_link, used, "192.0.2.7", "curl/8")) == 1
        req = py.request(grace_link, alice, "Grace")
        assert [p["id"] for p in py.pending(alice)] == [req]
        assert py.respond(req, "accepted") == 1 and py.allowed(grace_link, alice)
    finally:
        py.close()
    with EnvStack(envfile) as s:
        data = fetch_all(s, grace_link, grace_token)
        assert [m["id"] for m in data] == [mid] and opened(grace, data[0]) == "hello grace"
        assert data[0]["metadata"] == {"sender_nick": "Alice"}
        for n, code in ((used, 401), (nonce, 200)):
            sig = b64(grace.sign(n.encode()).signature)
            r = post(s, "/fetch", {"link_token": grace_link, "challenge": n,
                                   "challenge_signature": sig})
            assert r.status_code == code, r.text
        r = post(s, "/ack", {"link_token": grace_link, "message_ids": [mid], "delete": True},
                 grace_token)
        assert r.status_code == 200 and r.json()["count"] == 1
        assert rows(mariadb, db, "SELECT msg_count, msg_bytes FROM clients WHERE link_token = "
                    "'%s';" % grace_link) == [["0", "0"]]


# ---- back to sealdrop after PyCrypt ran again ----------------------------

def test_recount_after_pycrypt_ran_makes_counters_exact_again(mariadb, sealdropd, taken_over):
    """PyCrypt keeps no counters: after it deleted and stored messages, plain
    --migrate leaves the counters as they were, --migrate --recount makes them
    equal the rows (and gives PyCrypt's rows their charge)."""
    db, envfile = taken_over
    check_counters_equal_rows(mariadb, db)
    link = rows(mariadb, db, "SELECT link_token FROM messages GROUP BY link_token "
                "ORDER BY COUNT(*) DESC LIMIT 1;")[0][0]
    before = rows(mariadb, db, "SELECT msg_count, msg_bytes FROM clients WHERE link_token = '%s';"
                  % link)
    # As PyCrypt would: delete one of the inbox's messages, store another
    # (with size_bytes, no charge), never touching the counters.
    mariadb.sql("DELETE FROM messages WHERE link_token = '%s' ORDER BY id LIMIT 1; "
                "INSERT INTO messages (link_token, encrypted_message, metadata, size_bytes) "
                "VALUES ('%s', '%s', '[1,2]', 48);" % (link, link, b64(b"\x01" * 48)), db)
    migrate_ok(sealdropd, envfile)
    assert rows(mariadb, db, "SELECT msg_count, msg_bytes FROM clients WHERE link_token = '%s';"
                % link) == before
    with pytest.raises(AssertionError):
        check_counters_equal_rows(mariadb, db)
    r = subprocess.run([sealdropd, "--migrate", "--recount", "--env-file", str(envfile)],
                       env={k: v for k, v in os.environ.items() if k != "SEALDROP_DB"},
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    check_counters_equal_rows(mariadb, db)
