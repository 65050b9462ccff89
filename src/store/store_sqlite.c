/* The embedded default: SQLite in WAL mode, one connection per thread,
 * every statement prepared once per connection and reset after use. */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store_impl.h"

enum sql_stmt {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_ROLLBACK_TO,
	Q_RELEASE,
	Q_PING,
	Q_CLIENT_INSERT,
	Q_CLIENT_GET,
	Q_CLIENT_SET_HASH,
	Q_CLIENT_DELETE,
	Q_CLIENT_DELETE_MSGS,
	Q_CLIENT_DELETE_CHALLENGES,
	Q_CLIENT_RESERVE,
	Q_CLIENT_EXISTS,
	Q_CLIENT_RELEASE,
	Q_MSG_INSERT,
	Q_MSG_LIST_UNSEEN_DESC,
	Q_MSG_LIST_UNSEEN_ASC,
	Q_MSG_LIST_ALL_DESC,
	Q_MSG_LIST_ALL_ASC,
	Q_MSG_SEEN,
	Q_MSG_DELETE,
	Q_CH_EXPIRE_LINK,
	Q_CH_COUNT,
	Q_CH_INSERT,
	Q_CH_CONSUME,
	Q_CH_EXPIRE_ALL,
	Q_MSG_PURGE_SELECT,
	Q__MAX
};

#define MSG_COLS "id, encrypted_message, created_at, seen, metadata"

static const char *const sqls[Q__MAX] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SAVEPOINT] = "SAVEPOINT job",
    [Q_ROLLBACK_TO] = "ROLLBACK TO job",
    [Q_RELEASE] = "RELEASE job",
    [Q_PING] = "SELECT 1",
    [Q_CLIENT_INSERT] = "INSERT INTO clients (link_token, public_key, public_key_hash, "
                        "display_name, fetch_token_hash, created_at, key_type, "
                        "box_public_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_CLIENT_GET] = "SELECT id, link_token, public_key, public_key_hash, display_name, "
                     "fetch_token_hash, created_at, key_type, box_public_key "
                     "FROM clients WHERE link_token = ?1",
    [Q_CLIENT_SET_HASH] = "UPDATE clients SET fetch_token_hash = ?2 WHERE link_token = ?1",
    [Q_CLIENT_DELETE] = "DELETE FROM clients WHERE link_token = ?1",
    [Q_CLIENT_DELETE_MSGS] = "DELETE FROM messages WHERE link_token = ?1",
    [Q_CLIENT_DELETE_CHALLENGES] = "DELETE FROM challenges WHERE link_token = ?1",
    [Q_CLIENT_RESERVE] = "UPDATE clients SET msg_count = msg_count + 1, "
                         "msg_bytes = msg_bytes + ?2 WHERE link_token = ?1 "
                         "AND msg_count < ?3 AND msg_bytes + ?2 <= ?4",
    [Q_CLIENT_EXISTS] = "SELECT 1 FROM clients WHERE link_token = ?1",
    [Q_CLIENT_RELEASE] = "UPDATE clients SET msg_count = MAX(msg_count - ?2, 0), "
                         "msg_bytes = MAX(msg_bytes - ?3, 0) WHERE link_token = ?1",
    [Q_MSG_INSERT] = "INSERT INTO messages (link_token, encrypted_message, created_at, "
                     "seen, metadata) VALUES (?1, ?2, ?3, 0, ?4)",
    [Q_MSG_LIST_UNSEEN_DESC] = "SELECT " MSG_COLS " FROM messages WHERE link_token = ?1 "
                               "AND seen = 0 AND id < ?2 AND id > ?3 "
                               "ORDER BY id DESC LIMIT ?4",
    [Q_MSG_LIST_UNSEEN_ASC] = "SELECT " MSG_COLS " FROM messages WHERE link_token = ?1 "
                              "AND seen = 0 AND id < ?2 AND id > ?3 "
                              "ORDER BY id ASC LIMIT ?4",
    [Q_MSG_LIST_ALL_DESC] = "SELECT " MSG_COLS " FROM messages WHERE link_token = ?1 "
                            "AND id < ?2 AND id > ?3 ORDER BY id DESC LIMIT ?4",
    [Q_MSG_LIST_ALL_ASC] = "SELECT " MSG_COLS " FROM messages WHERE link_token = ?1 "
                           "AND id < ?2 AND id > ?3 ORDER BY id ASC LIMIT ?4",
    [Q_MSG_SEEN] = "UPDATE messages SET seen = 1 WHERE id = ?1 AND link_token = ?2",
    [Q_MSG_DELETE] = "DELETE FROM messages WHERE id = ?1 AND link_token = ?2 "
                     "RETURNING LENGTH(encrypted_message) + COALESCE(LENGTH(metadata), 0)",
    [Q_CH_EXPIRE_LINK] = "DELETE FROM challenges WHERE link_token = ?1 AND expires_at <= ?2",
    [Q_CH_COUNT] = "SELECT COUNT(*) FROM challenges WHERE link_token = ?1 AND caller = ?2 "
                   "AND expires_at > ?3",
    [Q_CH_INSERT] = "INSERT INTO challenges (link_token, challenge_nonce, created_at, "
                    "expires_at, used, caller) VALUES (?1, ?2, ?3, ?4, 0, ?5)",
    [Q_CH_CONSUME] = "DELETE FROM challenges WHERE link_token = ?1 AND challenge_nonce = ?2 "
                     "AND used = 0 AND expires_at > ?3",
    [Q_CH_EXPIRE_ALL] = "DELETE FROM challenges WHERE expires_at <= ?1",
    [Q_MSG_PURGE_SELECT] = "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE "
                           "created_at < ?1 ORDER BY id LIMIT 500) RETURNING link_token, "
                           "LENGTH(encrypted_message) + COALESCE(LENGTH(metadata), 0)",
};

struct sq_writer;

struct sqlite_store {
	struct sd_store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[Q__MAX];
	struct sq_writer *writer; /* NULL: this connection writes for itself */
};

static struct sqlite_store *S(struct sd_store *st)
{
	return (struct sqlite_store *)st;
}

static enum sd_err db_fail(struct sqlite_store *s, const char *what)
{
	sd_log_error("sqlite: %s: %s", what, sqlite3_errmsg(s->db));
	return SD_EDB;
}

/* The statement for q, prepared on first use, reset and unbound. */
static sqlite3_stmt *stmt_get(struct sqlite_store *s, enum sql_stmt q)
{
	sqlite3_stmt *st = s->stmt[q];

	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sqls[q], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			db_fail(s, "prepare");
			return NULL;
		}
		s->stmt[q] = st;
	}
	return st;
}

static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Run a statement that returns no rows; *changes gets the row count. */
static enum sd_err exec_simple(struct sqlite_store *s, enum sql_stmt q, int *changes)
{
	sqlite3_stmt *st = s->stmt[q];
	int rc = sqlite3_step(st);

	stmt_done(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, sqls[q]);
	if (changes)
		*changes = sqlite3_changes(s->db);
	return SD_OK;
}

static enum sd_err tx(struct sqlite_store *s, enum sql_stmt q)
{
	if (stmt_get(s, q) == NULL)
		return SD_EDB;
	return exec_simple(s, q, NULL);
}

static void tx_rollback(struct sqlite_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)tx(s, Q_ROLLBACK);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	size_t n = v ? (size_t)sqlite3_column_bytes(st, i) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, v, n);
	dst[n] = '\0';
}

/* ---- life cycle ------------------------------------------------------ */

static void writer_release(struct sq_writer *wr);

static void sq_close(struct sd_store *st)
{
	struct sqlite_store *s = S(st);

	if (s->writer != NULL)
		writer_release(s->writer);
	for (int i = 0; i < Q__MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

static enum sd_err sq_migrate(struct sd_store *st)
{
	struct sqlite_store *s = S(st);
	char *errmsg = NULL;
	enum sd_err rc = SD_OK;

	if (sqlite3_exec(s->db,
	                 "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY "
	                 "KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
	                 NULL, NULL, &errmsg) != SQLITE_OK) {
		sd_log_error("sqlite: schema_version: %s", errmsg);
		sqlite3_free(errmsg);
		return SD_EDB;
	}
	for (const struct sd_migration *m = sd_migrations_sqlite; m->sql != NULL; m++) {
		sqlite3_stmt *q = NULL;
		int applied;

		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return db_fail(s, "begin migration");
		if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM schema_version WHERE version = ?1", -1,
		                       &q, NULL) != SQLITE_OK) {
			rc = db_fail(s, "migration lookup");
			goto fail;
		}
		sqlite3_bind_int(q, 1, m->version);
		applied = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
		q = NULL;
		if (!applied) {
			if (sqlite3_exec(s->db, m->sql, NULL, NULL, &errmsg) != SQLITE_OK) {
				sd_log_error("sqlite: migration %s: %s", m->name, errmsg);
				sqlite3_free(errmsg);
				rc = SD_EDB;
				goto fail;
			}
			if (sqlite3_prepare_v2(s->db,
			                       "INSERT INTO schema_version (version, name, "
			                       "applied_at) VALUES (?1, ?2, strftime('%s','now'))",
			                       -1, &q, NULL) != SQLITE_OK) {
				rc = db_fail(s, "record migration");
				goto fail;
			}
			sqlite3_bind_int(q, 1, m->version);
			sqlite3_bind_text(q, 2, m->name, -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_DONE) {
				sqlite3_finalize(q);
				rc = db_fail(s, "record migration");
				goto fail;
			}
			sqlite3_finalize(q);
			sd_log_info("sqlite: applied migration %s", m->name);
		}
		if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			rc = db_fail(s, "commit migration");
			goto fail;
		}
	}
	return SD_OK;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static enum sd_err sq_ping(struct sd_store *st)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q = stmt_get(s, Q_PING);
	int rc;

	if (q == NULL)
		return SD_EDB;
	rc = sqlite3_step(q);
	stmt_done(q);
	return rc == SQLITE_ROW ? SD_OK : db_fail(s, "ping");
}

/* ---- clients --------------------------------------------------------- */

static enum sd_err body_client_insert(struct sd_store *st, struct sd_client *c)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q = stmt_get(s, Q_CLIENT_INSERT);
	int rc;

	if (q == NULL)
		return SD_EDB;
	bind_text(q, 1, c->link_token);
	bind_text(q, 2, c->public_key);
	bind_text(q, 3, c->public_key_hash);
	bind_text(q, 4, c->has_display_name ? c->display_name : NULL);
	bind_text(q, 5, c->fetch_token_hash);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)c->created_at);
	bind_text(q, 7, c->key_type);
	bind_text(q, 8, c->box_public_key[0] ? c->box_public_key : NULL);
	rc = sqlite3_step(q);
	stmt_done(q);
	if (rc == SQLITE_CONSTRAINT)
		return SD_ECONFLICT;
	if (rc != SQLITE_DONE)
		return db_fail(s, "client insert");
	c->id = sqlite3_last_insert_rowid(s->db);
	return SD_OK;
}

static enum sd_err sq_client_get(struct sd_store *st, const char *link, struct sd_client *c)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q = stmt_get(s, Q_CLIENT_GET);
	int rc;

	if (q == NULL)
		return SD_EDB;
	bind_text(q, 1, link);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(c, 0, sizeof *c);
		c->id = sqlite3_column_int64(q, 0);
		col_copy(q, 1, c->link_token, sizeof c->link_token);
		col_copy(q, 2, c->public_key, sizeof c->public_key);
		col_copy(q, 3, c->public_key_hash, sizeof c->public_key_hash);
		c->has_display_name = sqlite3_column_type(q, 4) != SQLITE_NULL;
		col_copy(q, 4, c->display_name, sizeof c->display_name);
		col_copy(q, 5, c->fetch_token_hash, sizeof c->fetch_token_hash);
		c->created_at = (time_t)sqlite3_column_int64(q, 6);
		col_copy(q, 7, c->key_type, sizeof c->key_type);
		col_copy(q, 8, c->box_public_key, sizeof c->box_public_key);
	}
	stmt_done(q);
	if (rc == SQLITE_ROW)
		return SD_OK;
	if (rc == SQLITE_DONE)
		return SD_ENOTFOUND;
	return db_fail(s, "client get");
}

static enum sd_err body_client_set_fetch_hash(struct sd_store *st, const char *link,
                                              const char *hash)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q = stmt_get(s, Q_CLIENT_SET_HASH);
	enum sd_err rc;
	int n = 0;

	if (q == NULL)
		return SD_EDB;
	bind_text(q, 1, link);
	bind_text(q, 2, hash);
	rc = exec_simple(s, Q_CLIENT_SET_HASH, &n);
	if (rc != SD_OK)
		return rc;
	return n == 1 ? SD_OK : SD_ENOTFOUND;
}

static enum sd_err body_client_delete(struct sd_store *st, const char *link)
{
	struct sqlite_store *s = S(st);
	static const enum sql_stmt steps[] = {Q_CLIENT_DELETE_MSGS, Q_CLIENT_DELETE_CHALLENGES,
	                                      Q_CLIENT_DELETE};
	enum sd_err rc;
	int n = 0;

	for (size_t i = 0; i < SD_ARRAY_LEN(steps); i++) {
		sqlite3_stmt *q = stmt_get(s, steps[i]);
		if (q == NULL) {
			rc = SD_EDB;
			goto fail;
		}
		bind_text(q, 1, link);
		if ((rc = exec_simple(s, steps[i], &n)) != SD_OK)
			goto fail;
	}
	if (n != 1) {
		rc = SD_ENOTFOUND;
		goto fail;
	}
	return SD_OK;
fail:
	return rc;
}

/* ---- messages -------------------------------------------------------- */

static enum sd_err body_msg_insert(struct sd_store *st, const char *link, const char *ct,
                                   const char *metadata, int64_t bytes, const struct sd_limits *lim,
                                   time_t now, int64_t *id)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q;
	enum sd_err rc;
	int n = 0, step;

	if ((q = stmt_get(s, Q_CLIENT_RESERVE)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	bind_text(q, 1, link);
	sqlite3_bind_int64(q, 2, bytes);
	sqlite3_bind_int64(q, 3, lim->inbox_max_messages);
	sqlite3_bind_int64(q, 4, lim->inbox_max_bytes);
	if ((rc = exec_simple(s, Q_CLIENT_RESERVE, &n)) != SD_OK)
		goto fail;
	if (n != 1) {
		/* Either the inbox is gone or it is full. */
		if ((q = stmt_get(s, Q_CLIENT_EXISTS)) == NULL) {
			rc = SD_EDB;
			goto fail;
		}
		bind_text(q, 1, link);
		step = sqlite3_step(q);
		stmt_done(q);
		rc = step == SQLITE_ROW ? SD_EFULL : step == SQLITE_DONE ? SD_ENOTFOUND : SD_EDB;
		goto fail;
	}
	if ((q = stmt_get(s, Q_MSG_INSERT)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	bind_text(q, 1, link);
	bind_text(q, 2, ct);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
	bind_text(q, 4, metadata);
	if ((rc = exec_simple(s, Q_MSG_INSERT, NULL)) != SD_OK)
		goto fail;
	*id = sqlite3_last_insert_rowid(s->db);
	return SD_OK;
fail:
	return rc;
}

static enum sd_err sq_msg_list(struct sd_store *st, const char *link, const struct sd_msg_query *qr,
                               sd_msg_cb cb, void *ctx)
{
	struct sqlite_store *s = S(st);
	enum sql_stmt which =
	    qr->include_seen ? (qr->ascending ? Q_MSG_LIST_ALL_ASC : Q_MSG_LIST_ALL_DESC)
	                     : (qr->ascending ? Q_MSG_LIST_UNSEEN_ASC : Q_MSG_LIST_UNSEEN_DESC);
	sqlite3_stmt *q = stmt_get(s, which);
	int rc;

	if (q == NULL)
		return SD_EDB;
	bind_text(q, 1, link);
	sqlite3_bind_int64(q, 2, qr->before_id);
	sqlite3_bind_int64(q, 3, qr->since_id);
	sqlite3_bind_int64(q, 4, qr->limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct sd_msg m;

		m.id = sqlite3_column_int64(q, 0);
		m.encrypted_message = (const char *)sqlite3_column_text(q, 1);
		m.encrypted_len = (size_t)sqlite3_column_bytes(q, 1);
		m.created_at = (time_t)sqlite3_column_int64(q, 2);
		m.seen = sqlite3_column_int(q, 3) != 0;
		m.metadata = (const char *)sqlite3_column_text(q, 4);
		m.metadata_len = (size_t)sqlite3_column_bytes(q, 4);
		if (m.encrypted_message == NULL)
			continue;
		if (cb(ctx, &m) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	stmt_done(q);
	return rc == SQLITE_DONE ? SD_OK : db_fail(s, "message list");
}

static enum sd_err body_msg_ack(struct sd_store *st, const char *link, const int64_t *ids, size_t n,
                                int del, int64_t *count)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q;
	enum sd_err rc;
	int64_t found = 0, bytes = 0;

	if ((q = stmt_get(s, del ? Q_MSG_DELETE : Q_MSG_SEEN)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		int step;

		sqlite3_bind_int64(q, 1, ids[i]);
		bind_text(q, 2, link);
		if (del) {
			while ((step = sqlite3_step(q)) == SQLITE_ROW) {
				found++;
				bytes += sqlite3_column_int64(q, 0);
			}
		} else {
			step = sqlite3_step(q);
			if (step == SQLITE_DONE)
				found += sqlite3_changes(s->db);
		}
		stmt_done(q);
		if (step != SQLITE_DONE) {
			rc = db_fail(s, "message ack");
			goto fail;
		}
	}
	if (del && found > 0) {
		if ((q = stmt_get(s, Q_CLIENT_RELEASE)) == NULL) {
			rc = SD_EDB;
			goto fail;
		}
		bind_text(q, 1, link);
		sqlite3_bind_int64(q, 2, found);
		sqlite3_bind_int64(q, 3, bytes);
		if ((rc = exec_simple(s, Q_CLIENT_RELEASE, NULL)) != SD_OK)
			goto fail;
	}
	*count = found;
	return SD_OK;
fail:
	return rc;
}

/* ---- challenges ------------------------------------------------------ */

static enum sd_err body_challenge_insert(struct sd_store *st, const char *link,
                                         const char *challenge, const char *caller, time_t now,
                                         const struct sd_limits *lim)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q;
	enum sd_err rc;
	int step;
	int64_t outstanding = 0;

	if ((q = stmt_get(s, Q_CH_EXPIRE_LINK)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	bind_text(q, 1, link);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)now);
	if ((rc = exec_simple(s, Q_CH_EXPIRE_LINK, NULL)) != SD_OK)
		goto fail;
	if ((q = stmt_get(s, Q_CH_COUNT)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	bind_text(q, 1, link);
	bind_text(q, 2, caller);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		outstanding = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (step != SQLITE_ROW) {
		rc = db_fail(s, "challenge count");
		goto fail;
	}
	if (outstanding >= lim->challenges_per_caller) {
		rc = SD_ELIMIT;
		goto fail;
	}
	if ((q = stmt_get(s, Q_CH_INSERT)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	bind_text(q, 1, link);
	bind_text(q, 2, challenge);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)(now + lim->challenge_ttl));
	bind_text(q, 5, caller);
	if ((rc = exec_simple(s, Q_CH_INSERT, NULL)) != SD_OK)
		goto fail;
	return SD_OK;
fail:
	return rc;
}

static enum sd_err body_challenge_consume(struct sd_store *st, const char *link,
                                          const char *challenge, time_t now)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q = stmt_get(s, Q_CH_CONSUME);
	enum sd_err rc;
	int n = 0;

	if (q == NULL)
		return SD_EDB;
	bind_text(q, 1, link);
	bind_text(q, 2, challenge);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
	/* One DELETE: SQLite's write lock makes it atomic, so exactly one of
	 * any number of concurrent consumers sees a changed row. */
	if ((rc = exec_simple(s, Q_CH_CONSUME, &n)) != SD_OK)
		return rc;
	return n >= 1 ? SD_OK : SD_ENOTFOUND;
}

static enum sd_err body_purge(struct sd_store *st, time_t now, time_t msg_cutoff, int64_t *purged)
{
	struct sqlite_store *s = S(st);
	sqlite3_stmt *q;
	enum sd_err rc;
	int step;

	*purged = 0;
	if ((q = stmt_get(s, Q_CH_EXPIRE_ALL)) == NULL) {
		rc = SD_EDB;
		goto fail;
	}
	sqlite3_bind_int64(q, 1, (sqlite3_int64)now);
	if ((rc = exec_simple(s, Q_CH_EXPIRE_ALL, NULL)) != SD_OK)
		goto fail;
	if (msg_cutoff > 0) {
		sqlite3_stmt *rel;

		if ((q = stmt_get(s, Q_MSG_PURGE_SELECT)) == NULL ||
		    (rel = stmt_get(s, Q_CLIENT_RELEASE)) == NULL) {
			rc = SD_EDB;
			goto fail;
		}
		sqlite3_bind_int64(q, 1, (sqlite3_int64)msg_cutoff);
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			/* RETURNING rows: release each message from its inbox. */
			sqlite3_bind_text(rel, 1, (const char *)sqlite3_column_text(q, 0), -1,
			                  SQLITE_TRANSIENT);
			sqlite3_bind_int64(rel, 2, 1);
			sqlite3_bind_int64(rel, 3, sqlite3_column_int64(q, 1));
			if (exec_simple(s, Q_CLIENT_RELEASE, NULL) != SD_OK) {
				stmt_done(q);
				rc = SD_EDB;
				goto fail;
			}
			(*purged)++;
		}
		stmt_done(q);
		if (step != SQLITE_DONE) {
			rc = db_fail(s, "purge");
			goto fail;
		}
	}
	return SD_OK;
fail:
	return rc;
}

/* ---- group commit -----------------------------------------------------
 *
 * With synchronous=FULL every commit costs an fsync, and SQLite commits one
 * connection at a time: N worker threads writing separately would wait for
 * N fsyncs in a row. Instead every write of a process goes to one writer
 * thread per database, which runs all jobs that are waiting in a single
 * transaction (each job in its own savepoint, so one failing job undoes
 * only itself) and commits once. A worker is answered only after that
 * commit, so a 201 still means "on disk". Reads stay on the worker's own
 * connection (WAL lets them run beside the writer). */

enum wop {
	W_CLIENT_INSERT,
	W_SET_HASH,
	W_CLIENT_DELETE,
	W_MSG_INSERT,
	W_MSG_ACK,
	W_CH_INSERT,
	W_CH_CONSUME,
	W_PURGE,
};

struct wjob {
	enum wop op;
	struct sd_client *client;
	const char *link, *text, *meta, *caller;
	int64_t bytes;
	const struct sd_limits *lim;
	time_t now, cutoff;
	int64_t *out;
	const int64_t *ids;
	size_t n;
	int del;
	enum sd_err rc;
	int done;
	struct wjob *next;
};

struct sq_writer {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct wjob *head, *tail;
	int stopping;
	int refs;
	char path[PATH_MAX];
	struct sqlite_store *conn;
	pthread_t tid;
	struct sq_writer *next;
};

static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_writer *writers;

static enum sd_err wjob_body(struct sd_store *w, struct wjob *j)
{
	switch (j->op) {
	case W_CLIENT_INSERT:
		return body_client_insert(w, j->client);
	case W_SET_HASH:
		return body_client_set_fetch_hash(w, j->link, j->text);
	case W_CLIENT_DELETE:
		return body_client_delete(w, j->link);
	case W_MSG_INSERT:
		return body_msg_insert(w, j->link, j->text, j->meta, j->bytes, j->lim, j->now,
		                       j->out);
	case W_MSG_ACK:
		return body_msg_ack(w, j->link, j->ids, j->n, j->del, j->out);
	case W_CH_INSERT:
		return body_challenge_insert(w, j->link, j->text, j->caller, j->now, j->lim);
	case W_CH_CONSUME:
		return body_challenge_consume(w, j->link, j->text, j->now);
	case W_PURGE:
		return body_purge(w, j->now, j->cutoff, j->out);
	}
	return SD_EINVAL;
}

static enum sd_err step_stmt(struct sqlite_store *s, enum sql_stmt q)
{
	return tx(s, q);
}

/* Run a batch in one transaction. Each job's rc is set. */
static void writer_commit(struct sqlite_store *w, struct wjob *batch)
{
	struct wjob *j;
	int any_ok = 0;

	if (tx(w, Q_BEGIN) != SD_OK) {
		for (j = batch; j != NULL; j = j->next)
			j->rc = SD_EDB;
		return;
	}
	for (j = batch; j != NULL; j = j->next) {
		if (step_stmt(w, Q_SAVEPOINT) != SD_OK) {
			j->rc = SD_EDB;
			continue;
		}
		j->rc = wjob_body(&w->base, j);
		if (j->rc != SD_OK)
			(void)step_stmt(w, Q_ROLLBACK_TO);
		if (step_stmt(w, Q_RELEASE) != SD_OK && j->rc == SD_OK)
			j->rc = SD_EDB;
		any_ok |= j->rc == SD_OK;
	}
	if (!any_ok) {
		tx_rollback(w);
		return;
	}
	if (tx(w, Q_COMMIT) != SD_OK) {
		tx_rollback(w);
		for (j = batch; j != NULL; j = j->next)
			if (j->rc == SD_OK)
				j->rc = SD_EDB; /* nothing was stored */
	}
}

static void *writer_main(void *arg)
{
	struct sq_writer *wr = arg;

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		struct wjob *batch, *j, *next;

		while (wr->head == NULL && !wr->stopping)
			pthread_cond_wait(&wr->work, &wr->mu);
		if (wr->head == NULL)
			break;
		batch = wr->head;
		wr->head = wr->tail = NULL;
		pthread_mutex_unlock(&wr->mu);
		writer_commit(wr->conn, batch);
		pthread_mutex_lock(&wr->mu);
		/* A job lives on its worker's stack: read next before done. */
		for (j = batch; j != NULL; j = next) {
			next = j->next;
			j->done = 1;
		}
		pthread_cond_broadcast(&wr->done);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

static enum sd_err sq_open_conn(const char *path, const struct sd_config *cfg,
                                struct sqlite_store **out, char *err, size_t errlen);

/* The process's writer for this database file, started on first use. */
static struct sq_writer *writer_acquire(const char *path, const struct sd_config *cfg, char *err,
                                        size_t errlen)
{
	struct sq_writer *wr;
	char real[PATH_MAX];

	if (realpath(path, real) == NULL)
		snprintf(real, sizeof real, "%s", path);
	pthread_mutex_lock(&writers_mu);
	for (wr = writers; wr != NULL; wr = wr->next)
		if (strcmp(wr->path, real) == 0)
			break;
	if (wr != NULL) {
		wr->refs++;
		pthread_mutex_unlock(&writers_mu);
		return wr;
	}
	wr = calloc(1, sizeof *wr);
	if (wr == NULL || sq_open_conn(path, cfg, &wr->conn, err, errlen) != SD_OK) {
		free(wr);
		pthread_mutex_unlock(&writers_mu);
		return NULL;
	}
	snprintf(wr->path, sizeof wr->path, "%s", real);
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->work, NULL);
	pthread_cond_init(&wr->done, NULL);
	wr->refs = 1;
	if (pthread_create(&wr->tid, NULL, writer_main, wr) != 0) {
		snprintf(err, errlen, "cannot start the SQLite writer thread");
		sq_close(&wr->conn->base);
		free(wr);
		pthread_mutex_unlock(&writers_mu);
		return NULL;
	}
	wr->next = writers;
	writers = wr;
	pthread_mutex_unlock(&writers_mu);
	return wr;
}

static void writer_release(struct sq_writer *wr)
{
	struct sq_writer **pp;

	pthread_mutex_lock(&writers_mu);
	if (--wr->refs > 0) {
		pthread_mutex_unlock(&writers_mu);
		return;
	}
	for (pp = &writers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == wr) {
			*pp = wr->next;
			break;
		}
	pthread_mutex_unlock(&writers_mu);
	pthread_mutex_lock(&wr->mu);
	wr->stopping = 1;
	pthread_cond_signal(&wr->work);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->tid, NULL);
	sq_close(&wr->conn->base);
	pthread_mutex_destroy(&wr->mu);
	pthread_cond_destroy(&wr->work);
	pthread_cond_destroy(&wr->done);
	free(wr);
}

/* Run a write job: through the writer thread, or (no writer: an in-memory
 * database) in a transaction of this connection. */
static enum sd_err write_job(struct sqlite_store *s, struct wjob *j)
{
	struct sq_writer *wr = s->writer;

	if (wr == NULL) {
		if (tx(s, Q_BEGIN) != SD_OK)
			return SD_EDB;
		j->rc = wjob_body(&s->base, j);
		if (j->rc != SD_OK) {
			tx_rollback(s);
			return j->rc;
		}
		if (tx(s, Q_COMMIT) != SD_OK) {
			tx_rollback(s);
			return SD_EDB;
		}
		return SD_OK;
	}
	j->next = NULL;
	j->done = 0;
	pthread_mutex_lock(&wr->mu);
	if (wr->tail != NULL)
		wr->tail->next = j;
	else
		wr->head = j;
	wr->tail = j;
	pthread_cond_signal(&wr->work);
	while (!j->done)
		pthread_cond_wait(&wr->done, &wr->mu);
	pthread_mutex_unlock(&wr->mu);
	return j->rc;
}

static enum sd_err sq_client_insert(struct sd_store *st, struct sd_client *c)
{
	struct wjob j = {.op = W_CLIENT_INSERT, .client = c};

	return write_job(S(st), &j);
}

static enum sd_err sq_client_set_fetch_hash(struct sd_store *st, const char *link, const char *hash)
{
	struct wjob j = {.op = W_SET_HASH, .link = link, .text = hash};

	return write_job(S(st), &j);
}

static enum sd_err sq_client_delete(struct sd_store *st, const char *link)
{
	struct wjob j = {.op = W_CLIENT_DELETE, .link = link};

	return write_job(S(st), &j);
}

static enum sd_err sq_msg_insert(struct sd_store *st, const char *link, const char *ct,
                                 const char *metadata, int64_t bytes, const struct sd_limits *lim,
                                 time_t now, int64_t *id)
{
	struct wjob j = {.op = W_MSG_INSERT,
	                 .link = link,
	                 .text = ct,
	                 .meta = metadata,
	                 .bytes = bytes,
	                 .lim = lim,
	                 .now = now,
	                 .out = id};

	return write_job(S(st), &j);
}

static enum sd_err sq_msg_ack(struct sd_store *st, const char *link, const int64_t *ids, size_t n,
                              int del, int64_t *count)
{
	struct wjob j = {
	    .op = W_MSG_ACK, .link = link, .ids = ids, .n = n, .del = del, .out = count};

	return write_job(S(st), &j);
}

static enum sd_err sq_challenge_insert(struct sd_store *st, const char *link, const char *challenge,
                                       const char *caller, time_t now, const struct sd_limits *lim)
{
	struct wjob j = {.op = W_CH_INSERT,
	                 .link = link,
	                 .text = challenge,
	                 .caller = caller,
	                 .now = now,
	                 .lim = lim};

	return write_job(S(st), &j);
}

static enum sd_err sq_challenge_consume(struct sd_store *st, const char *link,
                                        const char *challenge, time_t now)
{
	struct wjob j = {.op = W_CH_CONSUME, .link = link, .text = challenge, .now = now};

	return write_job(S(st), &j);
}

static enum sd_err sq_purge(struct sd_store *st, time_t now, time_t msg_cutoff, int64_t *purged)
{
	struct wjob j = {.op = W_PURGE, .now = now, .cutoff = msg_cutoff, .out = purged};

	return write_job(S(st), &j);
}

static const struct sd_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .ping = sq_ping,
    .client_insert = sq_client_insert,
    .client_get = sq_client_get,
    .client_set_fetch_hash = sq_client_set_fetch_hash,
    .client_delete = sq_client_delete,
    .msg_insert = sq_msg_insert,
    .msg_list = sq_msg_list,
    .msg_ack = sq_msg_ack,
    .challenge_insert = sq_challenge_insert,
    .challenge_consume = sq_challenge_consume,
    .purge = sq_purge,
};

static enum sd_err sq_open_conn(const char *path, const struct sd_config *cfg,
                                struct sqlite_store **out, char *err, size_t errlen)
{
	struct sqlite_store *s;
	char pragmas[256];

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return SD_ENOMEM;
	s->base.ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open SQLite database %s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return SD_EDB;
	}
	sqlite3_busy_timeout(s->db, 5000);
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF; "
	         "PRAGMA trusted_schema=OFF;",
	         cfg && !cfg->sqlite_sync_full ? "NORMAL" : "FULL");
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up SQLite database %s: %s", path,
		         sqlite3_errmsg(s->db));
		sqlite3_close(s->db);
		free(s);
		return SD_EDB;
	}
	*out = s;
	return SD_OK;
}

static int in_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0 || strncmp(path, "file::memory:", 13) == 0 ||
	       strstr(path, "mode=memory") != NULL;
}

enum sd_err store_sqlite_open(const char *path, const struct sd_config *cfg, struct sd_store **out,
                              char *err, size_t errlen)
{
	struct sqlite_store *s;
	enum sd_err rc = sq_open_conn(path, cfg, &s, err, errlen);

	if (rc != SD_OK)
		return rc;
	if (!in_memory(path)) {
		s->writer = writer_acquire(path, cfg, err, errlen);
		if (s->writer == NULL) {
			sq_close(&s->base);
			return SD_EDB;
		}
	}
	*out = &s->base;
	return SD_OK;
}
