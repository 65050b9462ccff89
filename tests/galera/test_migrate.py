"""Three instances, one per node, starting at the same moment on a fresh
database: the migrations are applied once (one instance holds the lease,
the others wait and then find every version recorded), and all three
serve."""

import glob
import os

import requests

import stack
from sdclient import Recipient


def migrations():
    return sorted(os.path.basename(p)[:-len(".sql")]
                  for p in glob.glob(os.path.join(stack.ROOT, "sql", "mysql", "*.sql")))


def test_three_instances_migrate_a_fresh_cluster_database_once(cluster):
    db = cluster.new_database()
    with stack.Stack(dbs=cluster.dsns(db), threads=2) as s:
        names = migrations()
        rows = cluster.sql(2, "SELECT version, name FROM schema_version ORDER BY version;",
                           db).split()
        assert rows[1::2] == names, rows
        assert len(set(rows[0::2])) == len(names)
        logs = [s.instance_log(i) for i in range(3)]
        for name in names:
            applied = sum(log.count("applied migration %s\n" % name) for log in logs)
            assert applied == 1, (name, logs)
        # Given back (the purge's lease may be held at this moment: not ours).
        assert cluster.sql(3, "SELECT COUNT(*) FROM sealdrop_leases "
                              "WHERE name = 'sealdrop_migrate';", db).split() == ["0"]

        # All three serve: nginx takes turns, so each instance has its share.
        rcpt = Recipient(s.url)
        for i in range(12):
            assert rcpt.send(b"%d" % i).status_code == 201
        r = rcpt.fetch(limit=100)
        assert r.status_code == 200 and r.json()["count"] == 12
        for i in range(3):
            assert " POST /send 201 " in s.instance_log(i), (i, s.instance_log(i))
