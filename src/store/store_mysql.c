/* MariaDB/MySQL through MariaDB Connector/C (libmysqlclient API): one
 * connection per thread, prepared statements only, utf8mb4, UTC session.
 * A lost connection is dropped and reopened on the next call, so the
 * server recovers by itself when the database comes back. */
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store_impl.h"

enum my_stmt {
	M_PING,
	M_CLIENT_INSERT,
	M_CLIENT_GET,
	M_CLIENT_SET_HASH,
	M_CLIENT_LOCK,
	M_CLIENT_DELETE,
	M_CLIENT_DELETE_MSGS,
	M_CLIENT_DELETE_CHALLENGES,
	M_CLIENT_RESERVE,
	M_CLIENT_RELEASE,
	M_MSG_INSERT,
	M_MSG_LIST_UNSEEN_DESC,
	M_MSG_LIST_UNSEEN_ASC,
	M_MSG_LIST_ALL_DESC,
	M_MSG_LIST_ALL_ASC,
	M_MSG_SEEN,
	M_MSG_SIZE,
	M_MSG_DELETE,
	M_CH_EXPIRE_LINK,
	M_CH_COUNT,
	M_CH_INSERT,
	M_CH_CONSUME,
	M_CH_EXPIRE_ALL,
	M_MSG_OLD,
	M_MSG_DELETE_ID,
	M__MAX
};

#define MSG_COLS "id, encrypted_message, UNIX_TIMESTAMP(created_at), seen, metadata"

static const char *const sqls[M__MAX] = {
    [M_PING] = "SELECT 1",
    [M_CLIENT_INSERT] = "INSERT INTO clients (link_token, public_key, public_key_hash, "
                        "display_name, fetch_token_hash, created_at, key_type, box_public_key) "
                        "VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?), ?, ?)",
    [M_CLIENT_GET] = "SELECT id, link_token, public_key, public_key_hash, display_name, "
                     "fetch_token_hash, UNIX_TIMESTAMP(created_at), key_type, box_public_key "
                     "FROM clients WHERE link_token = ?",
    [M_CLIENT_SET_HASH] = "UPDATE clients SET fetch_token_hash = ? WHERE link_token = ?",
    [M_CLIENT_LOCK] = "SELECT id FROM clients WHERE link_token = ? FOR UPDATE",
    [M_CLIENT_DELETE] = "DELETE FROM clients WHERE link_token = ?",
    [M_CLIENT_DELETE_MSGS] = "DELETE FROM messages WHERE link_token = ?",
    [M_CLIENT_DELETE_CHALLENGES] = "DELETE FROM challenges WHERE link_token = ?",
    [M_CLIENT_RESERVE] = "UPDATE clients SET msg_count = msg_count + 1, "
                         "msg_bytes = msg_bytes + ? WHERE link_token = ? "
                         "AND msg_count < ? AND msg_bytes + ? <= ?",
    [M_CLIENT_RELEASE] = "UPDATE clients SET msg_count = GREATEST(msg_count - ?, 0), "
                         "msg_bytes = GREATEST(msg_bytes - ?, 0) WHERE link_token = ?",
    [M_MSG_INSERT] = "INSERT INTO messages (link_token, encrypted_message, created_at, seen, "
                     "metadata) VALUES (?, ?, FROM_UNIXTIME(?), 0, ?)",
    /* Index hints: right after a bulk load InnoDB's statistics can make the
     * optimizer walk the primary key instead, thousands of rows per page. */
    [M_MSG_LIST_UNSEEN_DESC] = "SELECT " MSG_COLS " FROM messages FORCE INDEX "
                               "(messages_link_seen_id) WHERE link_token = ? "
                               "AND seen = 0 AND id < ? AND id > ? ORDER BY id DESC LIMIT ?",
    [M_MSG_LIST_UNSEEN_ASC] = "SELECT " MSG_COLS " FROM messages FORCE INDEX "
                              "(messages_link_seen_id) WHERE link_token = ? "
                              "AND seen = 0 AND id < ? AND id > ? ORDER BY id ASC LIMIT ?",
    [M_MSG_LIST_ALL_DESC] = "SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_link_id) "
                            "WHERE link_token = ? "
                            "AND id < ? AND id > ? ORDER BY id DESC LIMIT ?",
    [M_MSG_LIST_ALL_ASC] = "SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_link_id) "
                           "WHERE link_token = ? "
                           "AND id < ? AND id > ? ORDER BY id ASC LIMIT ?",
    [M_MSG_SEEN] = "UPDATE messages SET seen = 1 WHERE id = ? AND link_token = ?",
    [M_MSG_SIZE] = "SELECT LENGTH(encrypted_message) + COALESCE(LENGTH(metadata), 0) "
                   "FROM messages WHERE id = ? AND link_token = ? FOR UPDATE",
    [M_MSG_DELETE] = "DELETE FROM messages WHERE id = ? AND link_token = ?",
    [M_CH_EXPIRE_LINK] = "DELETE FROM challenges WHERE link_token = ? "
                         "AND expires_at <= FROM_UNIXTIME(?)",
    [M_CH_COUNT] = "SELECT COUNT(*) FROM challenges WHERE link_token = ? AND caller = ? "
                   "AND expires_at > FROM_UNIXTIME(?)",
    [M_CH_INSERT] = "INSERT INTO challenges (link_token, challenge_nonce, created_at, "
                    "expires_at, used, caller) VALUES (?, ?, FROM_UNIXTIME(?), "
                    "FROM_UNIXTIME(?), 0, ?)",
    [M_CH_CONSUME] = "DELETE FROM challenges WHERE link_token = ? AND challenge_nonce = ? "
                     "AND used = 0 AND expires_at > FROM_UNIXTIME(?)",
    [M_CH_EXPIRE_ALL] = "DELETE FROM challenges WHERE expires_at <= FROM_UNIXTIME(?)",
    [M_MSG_OLD] = "SELECT id, link_token, LENGTH(encrypted_message) + "
                  "COALESCE(LENGTH(metadata), 0) FROM messages "
                  "WHERE created_at < FROM_UNIXTIME(?) ORDER BY id LIMIT 500",
    [M_MSG_DELETE_ID] = "DELETE FROM messages WHERE id = ?",
};

struct my_dsn {
	char user[128];
	char pass[256];
	char host[256];
	char socket[512];
	unsigned port;
	char db[128];
};

struct mysql_store {
	struct sd_store base;
	struct my_dsn dsn;
	MYSQL *conn;
	MYSQL_STMT *stmt[M__MAX];
	char *big; /* result buffer for message text, grown on demand */
	unsigned long big_cap;
	char *meta;
	unsigned long meta_cap;
	unsigned int last_errno; /* of the last failure, for retry decisions */
};

static struct mysql_store *M(struct sd_store *st)
{
	return (struct mysql_store *)st;
}

/* ---- DSN ------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy s[0..n) percent-decoded into out. */
static int pct_copy(char *out, size_t cap, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (k + 1 >= cap)
			return -1;
		out[k++] = c;
	}
	out[k] = '\0';
	return 0;
}

/* mysql://user:pass@host:port/db or mysql://user:pass@unix(/path)/db */
static int dsn_parse(const char *dsn, struct my_dsn *d)
{
	const char *p = strstr(dsn, "://"), *at, *colon, *slash, *hp;
	size_t n;

	memset(d, 0, sizeof *d);
	d->port = 3306;
	if (p == NULL)
		return -1;
	p += 3;
	at = strrchr(p, '@');
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (pct_copy(d->user, sizeof d->user, p, (size_t)((colon ? colon : at) - p)) != 0)
			return -1;
		if (colon != NULL &&
		    pct_copy(d->pass, sizeof d->pass, colon + 1, (size_t)(at - colon - 1)) != 0)
			return -1;
		p = at + 1;
	}
	if (strncmp(p, "unix(", 5) == 0) {
		const char *close = strchr(p, ')');
		if (close == NULL || (size_t)(close - p - 5) >= sizeof d->socket)
			return -1;
		memcpy(d->socket, p + 5, (size_t)(close - p - 5));
		p = close + 1;
		if (*p != '/')
			return -1;
		slash = p;
	} else {
		slash = strchr(p, '/');
		if (slash == NULL)
			return -1;
		hp = memchr(p, ':', (size_t)(slash - p));
		n = (size_t)((hp ? hp : slash) - p);
		if (n == 0 || n >= sizeof d->host)
			return -1;
		memcpy(d->host, p, n);
		if (hp != NULL) {
			char *end;
			unsigned long port = strtoul(hp + 1, &end, 10);
			if (end != slash || port == 0 || port > 65535)
				return -1;
			d->port = (unsigned)port;
		}
	}
	n = strcspn(slash + 1, "?");
	if (n == 0 || n >= sizeof d->db)
		return -1;
	memcpy(d->db, slash + 1, n);
	return 0;
}

/* ---- connection ------------------------------------------------------ */

static void my_drop(struct mysql_store *s)
{
	for (int i = 0; i < M__MAX; i++) {
		if (s->stmt[i] != NULL)
			mysql_stmt_close(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	if (s->conn != NULL)
		mysql_close(s->conn);
	s->conn = NULL;
}

static int my_connect(struct mysql_store *s, char *err, size_t errlen)
{
	unsigned int timeout = 3, rw_timeout = 10;
	my_bool off = 0;

	s->conn = mysql_init(NULL);
	if (s->conn == NULL) {
		snprintf(err, errlen, "mysql_init: out of memory");
		return -1;
	}
	mysql_options(s->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(s->conn, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(s->conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_options(s->conn, MYSQL_OPT_RECONNECT, &off); /* we reconnect ourselves */
	mysql_options(s->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(s->conn, MYSQL_INIT_COMMAND,
	              "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE'");
	/* Correctness never rests on gap locks (each inbox's row is locked
	 * explicitly where it matters), and without them concurrent writes to
	 * different inboxes cannot deadlock on neighbouring index gaps. */
	mysql_options(s->conn, MYSQL_INIT_COMMAND,
	              "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (mysql_real_connect(s->conn, s->dsn.socket[0] ? NULL : s->dsn.host, s->dsn.user,
	                       s->dsn.pass, s->dsn.db, s->dsn.socket[0] ? 0 : s->dsn.port,
	                       s->dsn.socket[0] ? s->dsn.socket : NULL,
	                       CLIENT_FOUND_ROWS) == NULL) {
		snprintf(err, errlen, "cannot connect to MySQL/MariaDB %s/%s: %s",
		         s->dsn.socket[0] ? s->dsn.socket : s->dsn.host, s->dsn.db,
		         mysql_error(s->conn));
		mysql_close(s->conn);
		s->conn = NULL;
		return -1;
	}
	return 0;
}

/* A connection that answers, or NULL (logged). */
static MYSQL *my_conn(struct mysql_store *s)
{
	char err[512];

	if (s->conn == NULL && my_connect(s, err, sizeof err) != 0) {
		sd_log_error("mysql: %s", err);
		return NULL;
	}
	return s->conn;
}

/* Errors that mean the connection is gone: drop it so the next call
 * reconnects. */
static int lost(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
	       e == CR_CONN_HOST_ERROR || e == ER_CONNECTION_KILLED ||
	       e == CR_COMMANDS_OUT_OF_SYNC || e == 1927 /* ER_CONNECTION_KILLED in MariaDB */ ||
	       e == ER_SERVER_SHUTDOWN;
}

static enum sd_err my_fail(struct mysql_store *s, MYSQL_STMT *st, const char *what)
{
	unsigned int e = st ? mysql_stmt_errno(st) : (s->conn ? mysql_errno(s->conn) : 0);

	s->last_errno = e;
	sd_log_error("mysql: %s: %u %s", what, e,
	             st ? mysql_stmt_error(st)
	                : (s->conn ? mysql_error(s->conn) : "no connection"));
	if (lost(e) || e >= 2000) /* client-side errors: the connection is unusable */
		my_drop(s);
	else if (s->conn != NULL)
		(void)mysql_rollback(s->conn);
	return SD_EDB;
}

static int simple(struct mysql_store *s, const char *sql)
{
	return mysql_real_query(s->conn, sql, strlen(sql)) == 0 ? 0 : -1;
}

/* ---- statements ------------------------------------------------------ */

struct params {
	MYSQL_BIND b[8];
	unsigned long len[8];
	long long v[8];
	int n;
};

static void p_str(struct params *p, const char *s)
{
	MYSQL_BIND *b = &p->b[p->n];

	memset(b, 0, sizeof *b);
	if (s == NULL) {
		b->buffer_type = MYSQL_TYPE_NULL;
	} else {
		b->buffer_type = MYSQL_TYPE_STRING;
		b->buffer = (void *)s;
		p->len[p->n] = (unsigned long)strlen(s);
		b->buffer_length = p->len[p->n];
		b->length = &p->len[p->n];
	}
	p->n++;
}

static void p_i64(struct params *p, long long v)
{
	MYSQL_BIND *b = &p->b[p->n];

	memset(b, 0, sizeof *b);
	p->v[p->n] = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->v[p->n];
	p->n++;
}

/* Prepare (once per connection), bind and execute. NULL on failure, with
 * the failure already handled (logged, connection dropped if lost) — except
 * for the server error `tolerate`, which is only stored in *got. */
static MYSQL_STMT *my_exec_tolerant(struct mysql_store *s, enum my_stmt q, struct params *p,
                                    unsigned int tolerate, unsigned int *got)
{
	MYSQL_STMT *st;

	if (my_conn(s) == NULL)
		return NULL;
	st = s->stmt[q];
	if (st == NULL) {
		st = mysql_stmt_init(s->conn);
		if (st == NULL) {
			my_fail(s, NULL, "stmt_init");
			return NULL;
		}
		if (mysql_stmt_prepare(st, sqls[q], strlen(sqls[q])) != 0) {
			my_fail(s, st, "prepare");
			mysql_stmt_close(st);
			return NULL;
		}
		s->stmt[q] = st;
	}
	if (p != NULL && p->n > 0 && mysql_stmt_bind_param(st, p->b) != 0) {
		my_fail(s, st, sqls[q]);
		return NULL;
	}
	if (mysql_stmt_execute(st) != 0) {
		if (tolerate != 0 && mysql_stmt_errno(st) == tolerate) {
			*got = tolerate;
			return NULL;
		}
		my_fail(s, st, sqls[q]);
		return NULL;
	}
	return st;
}

static MYSQL_STMT *my_exec(struct mysql_store *s, enum my_stmt q, struct params *p)
{
	return my_exec_tolerant(s, q, p, 0, NULL);
}

static enum sd_err my_exec_rows(struct mysql_store *s, enum my_stmt q, struct params *p,
                                long long *affected)
{
	MYSQL_STMT *st = my_exec(s, q, p);

	if (st == NULL)
		return SD_EDB;
	if (affected)
		*affected = (long long)mysql_stmt_affected_rows(st);
	return SD_OK;
}

/* Run a query whose result is a single integer (or no row: *found = 0). */
static enum sd_err my_exec_int(struct mysql_store *s, enum my_stmt q, struct params *p,
                               long long *out, int *found)
{
	MYSQL_STMT *st = my_exec(s, q, p);
	MYSQL_BIND r;
	my_bool is_null = 0;
	int rc;

	*found = 0;
	*out = 0;
	if (st == NULL)
		return SD_EDB;
	memset(&r, 0, sizeof r);
	r.buffer_type = MYSQL_TYPE_LONGLONG;
	r.buffer = out;
	r.is_null = &is_null;
	if (mysql_stmt_bind_result(st, &r) != 0)
		return my_fail(s, st, "bind result");
	rc = mysql_stmt_fetch(st);
	if (rc == 0)
		*found = 1;
	while (rc == 0)
		rc = mysql_stmt_fetch(st);
	mysql_stmt_free_result(st);
	if (rc != MYSQL_NO_DATA)
		return my_fail(s, st, "fetch");
	return SD_OK;
}

static enum sd_err tx_begin(struct mysql_store *s)
{
	if (my_conn(s) == NULL)
		return SD_EDB;
	if (simple(s, "START TRANSACTION") != 0)
		return my_fail(s, NULL, "begin");
	return SD_OK;
}

static enum sd_err tx_commit(struct mysql_store *s)
{
	if (s->conn == NULL || mysql_commit(s->conn) != 0)
		return my_fail(s, NULL, "commit");
	return SD_OK;
}

static void tx_rollback(struct mysql_store *s)
{
	if (s->conn != NULL)
		(void)mysql_rollback(s->conn);
}

/* ---- life cycle ------------------------------------------------------ */

static void my_close(struct sd_store *st)
{
	struct mysql_store *s = M(st);

	my_drop(s);
	free(s->big);
	free(s->meta);
	memset(s->dsn.pass, 0, sizeof s->dsn.pass);
	free(s);
}

/* Run one migration file statement by statement. DDL commits implicitly in
 * MySQL, so a half-applied migration is possible after a crash: adding a
 * column or index that already exists is therefore treated as done. */
static enum sd_err run_migration(struct mysql_store *s, const struct sd_migration *m)
{
	const char *p = m->sql;

	while (*p) {
		const char *end = strstr(p, ";\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *q = p;

		while (n > 0 && (*q == ' ' || *q == '\n')) {
			q++;
			n--;
		}
		/* Skip comment-only chunks. */
		while (n > 0 && q[0] == '-' && n > 1 && q[1] == '-') {
			const char *nl = memchr(q, '\n', n);
			if (nl == NULL) {
				n = 0;
				break;
			}
			n -= (size_t)(nl + 1 - q);
			q = nl + 1;
		}
		if (n > 0 && mysql_real_query(s->conn, q, (unsigned long)n) != 0) {
			unsigned int e = mysql_errno(s->conn);
			if (e != ER_DUP_FIELDNAME && e != ER_DUP_KEYNAME) {
				sd_log_error("mysql: migration %s: %s", m->name,
				             mysql_error(s->conn));
				return SD_EDB;
			}
		}
		if (end == NULL)
			break;
		p = end + 2;
	}
	return SD_OK;
}

static enum sd_err my_migrate(struct sd_store *st)
{
	struct mysql_store *s = M(st);
	enum sd_err rc = SD_OK;
	long long got = 0;
	int found;
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (my_conn(s) == NULL)
		return SD_EDB;
	/* Several sealdropd instances may start at once: one migrates. */
	if (simple(s, "SELECT GET_LOCK('sealdrop_migrate', 60)") != 0)
		return my_fail(s, NULL, "migration lock");
	res = mysql_store_result(s->conn);
	row = res ? mysql_fetch_row(res) : NULL;
	found = row && row[0] && strcmp(row[0], "1") == 0;
	mysql_free_result(res);
	if (!found) {
		sd_log_error("mysql: could not take the migration lock");
		return SD_EDB;
	}
	if (simple(s, "CREATE TABLE IF NOT EXISTS schema_version (version INT PRIMARY KEY, "
	              "name VARCHAR(128) NOT NULL, applied_at TIMESTAMP DEFAULT "
	              "CURRENT_TIMESTAMP) ENGINE=InnoDB") != 0) {
		rc = my_fail(s, NULL, "schema_version");
		goto out;
	}
	for (const struct sd_migration *m = sd_migrations_mysql; m->sql != NULL; m++) {
		char q[160];

		snprintf(q, sizeof q, "SELECT COUNT(*) FROM schema_version WHERE version = %d",
		         m->version);
		if (simple(s, q) != 0 || (res = mysql_store_result(s->conn)) == NULL) {
			rc = my_fail(s, NULL, "schema_version lookup");
			goto out;
		}
		row = mysql_fetch_row(res);
		got = row && row[0] ? atoll(row[0]) : 0;
		mysql_free_result(res);
		if (got > 0)
			continue;
		if ((rc = run_migration(s, m)) != SD_OK)
			goto out;
		snprintf(q, sizeof q,
		         "INSERT INTO schema_version (version, name) VALUES (%d, '%s')", m->version,
		         m->name);
		/* m->name comes from our own sql/ file names, never from input. */
		if (simple(s, q) != 0) {
			rc = my_fail(s, NULL, "record migration");
			goto out;
		}
		sd_log_info("mysql: applied migration %s", m->name);
	}
out:
	if (s->conn != NULL) {
		if (simple(s, "SELECT RELEASE_LOCK('sealdrop_migrate')") == 0)
			mysql_free_result(mysql_store_result(s->conn));
	}
	return rc;
}

static enum sd_err my_ping(struct sd_store *st)
{
	struct mysql_store *s = M(st);
	long long v;
	int found;

	return my_exec_int(s, M_PING, NULL, &v, &found) == SD_OK && found ? SD_OK : SD_EDB;
}

/* ---- clients --------------------------------------------------------- */

static enum sd_err my_client_insert(struct sd_store *st, struct sd_client *c)
{
	struct mysql_store *s = M(st);
	struct params p = {0};
	MYSQL_STMT *q;
	unsigned int dup = 0;

	p_str(&p, c->link_token);
	p_str(&p, c->public_key);
	p_str(&p, c->public_key_hash);
	p_str(&p, c->has_display_name ? c->display_name : NULL);
	p_str(&p, c->fetch_token_hash);
	p_i64(&p, (long long)c->created_at);
	p_str(&p, c->key_type);
	p_str(&p, c->box_public_key[0] ? c->box_public_key : NULL);
	q = my_exec_tolerant(s, M_CLIENT_INSERT, &p, ER_DUP_ENTRY, &dup);
	if (q == NULL)
		return dup == ER_DUP_ENTRY ? SD_ECONFLICT : SD_EDB;
	c->id = (int64_t)mysql_stmt_insert_id(q);
	return SD_OK;
}

static void bind_out(MYSQL_BIND *b, char *buf, size_t cap, unsigned long *len, my_bool *is_null)
{
	memset(b, 0, sizeof *b);
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = (unsigned long)cap - 1;
	b->length = len;
	b->is_null = is_null;
}

static void terminate(char *buf, size_t cap, unsigned long len, my_bool is_null)
{
	size_t n = is_null ? 0 : (len < cap - 1 ? len : cap - 1);

	buf[n] = '\0';
	/* CHAR(n) columns come back padded in some servers' modes. */
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
}

static enum sd_err my_client_get(struct sd_store *st, const char *link, struct sd_client *c)
{
	struct mysql_store *s = M(st);
	struct params p = {0};
	MYSQL_STMT *q;
	MYSQL_BIND r[9];
	unsigned long len[9] = {0};
	my_bool nul[9] = {0};
	long long id = 0, created = 0;
	int rc;

	p_str(&p, link);
	if ((q = my_exec(s, M_CLIENT_GET, &p)) == NULL)
		return SD_EDB;
	memset(c, 0, sizeof *c);
	memset(r, 0, sizeof r);
	r[0].buffer_type = MYSQL_TYPE_LONGLONG;
	r[0].buffer = &id;
	bind_out(&r[1], c->link_token, sizeof c->link_token, &len[1], &nul[1]);
	bind_out(&r[2], c->public_key, sizeof c->public_key, &len[2], &nul[2]);
	bind_out(&r[3], c->public_key_hash, sizeof c->public_key_hash, &len[3], &nul[3]);
	bind_out(&r[4], c->display_name, sizeof c->display_name, &len[4], &nul[4]);
	bind_out(&r[5], c->fetch_token_hash, sizeof c->fetch_token_hash, &len[5], &nul[5]);
	r[6].buffer_type = MYSQL_TYPE_LONGLONG;
	r[6].buffer = &created;
	r[6].is_null = &nul[6];
	bind_out(&r[7], c->key_type, sizeof c->key_type, &len[7], &nul[7]);
	bind_out(&r[8], c->box_public_key, sizeof c->box_public_key, &len[8], &nul[8]);
	if (mysql_stmt_bind_result(q, r) != 0)
		return my_fail(s, q, "bind result");
	rc = mysql_stmt_fetch(q);
	if (rc == 0 || rc == MYSQL_DATA_TRUNCATED) {
		c->id = id;
		terminate(c->link_token, sizeof c->link_token, len[1], nul[1]);
		terminate(c->public_key, sizeof c->public_key, len[2], nul[2]);
		terminate(c->public_key_hash, sizeof c->public_key_hash, len[3], nul[3]);
		terminate(c->display_name, sizeof c->display_name, len[4], nul[4]);
		c->has_display_name = !nul[4];
		terminate(c->fetch_token_hash, sizeof c->fetch_token_hash, len[5], nul[5]);
		c->created_at = (time_t)created;
		terminate(c->key_type, sizeof c->key_type, len[7], nul[7]);
		terminate(c->box_public_key, sizeof c->box_public_key, len[8], nul[8]);
		while (mysql_stmt_fetch(q) == 0)
			;
		mysql_stmt_free_result(q);
		return SD_OK;
	}
	mysql_stmt_free_result(q);
	if (rc == MYSQL_NO_DATA)
		return SD_ENOTFOUND;
	return my_fail(s, q, "client get");
}

static enum sd_err my_client_set_fetch_hash(struct sd_store *st, const char *link, const char *hash)
{
	struct mysql_store *s = M(st);
	struct params p = {0};
	long long n = 0;

	p_str(&p, hash);
	p_str(&p, link);
	if (my_exec_rows(s, M_CLIENT_SET_HASH, &p, &n) != SD_OK)
		return SD_EDB;
	return n >= 1 ? SD_OK : SD_ENOTFOUND;
}

static enum sd_err my_client_delete_once(struct sd_store *st, const char *link)
{
	struct mysql_store *s = M(st);
	static const enum my_stmt steps[] = {M_CLIENT_DELETE_MSGS, M_CLIENT_DELETE_CHALLENGES,
	                                     M_CLIENT_DELETE};
	long long n = 0;
	enum sd_err rc;

	if ((rc = tx_begin(s)) != SD_OK)
		return rc;
	for (size_t i = 0; i < SD_ARRAY_LEN(steps); i++) {
		struct params p = {0};

		p_str(&p, link);
		if (my_exec_rows(s, steps[i], &p, &n) != SD_OK)
			return SD_EDB;
	}
	if (n != 1) {
		tx_rollback(s);
		return SD_ENOTFOUND;
	}
	return tx_commit(s);
}

/* ---- messages -------------------------------------------------------- */

static enum sd_err my_msg_insert_once(struct sd_store *st, const char *link, const char *ct,
                                      const char *metadata, int64_t bytes,
                                      const struct sd_limits *lim, time_t now, int64_t *id)
{
	struct mysql_store *s = M(st);
	struct params p = {0}, p2 = {0};
	MYSQL_STMT *q;
	long long n = 0, v;
	int found;
	enum sd_err rc;

	if ((rc = tx_begin(s)) != SD_OK)
		return rc;
	p_i64(&p, bytes);
	p_str(&p, link);
	p_i64(&p, lim->inbox_max_messages);
	p_i64(&p, bytes);
	p_i64(&p, lim->inbox_max_bytes);
	if (my_exec_rows(s, M_CLIENT_RESERVE, &p, &n) != SD_OK)
		return SD_EDB;
	if (n != 1) {
		struct params pl = {0};

		p_str(&pl, link);
		rc = my_exec_int(s, M_CLIENT_LOCK, &pl, &v, &found);
		tx_rollback(s);
		if (rc != SD_OK)
			return rc;
		return found ? SD_EFULL : SD_ENOTFOUND;
	}
	p_str(&p2, link);
	p_str(&p2, ct);
	p_i64(&p2, (long long)now);
	p_str(&p2, metadata);
	if ((q = my_exec(s, M_MSG_INSERT, &p2)) == NULL)
		return SD_EDB;
	*id = (int64_t)mysql_stmt_insert_id(q);
	return tx_commit(s);
}

/* Grow a result buffer to hold need bytes plus a NUL. */
static int grow(char **buf, unsigned long *cap, unsigned long need)
{
	char *p;

	if (need + 1 <= *cap)
		return 0;
	p = realloc(*buf, need + 1);
	if (p == NULL)
		return -1;
	*buf = p;
	*cap = need + 1;
	return 0;
}

static enum sd_err my_msg_list(struct sd_store *st, const char *link, const struct sd_msg_query *qr,
                               sd_msg_cb cb, void *ctx)
{
	struct mysql_store *s = M(st);
	enum my_stmt which = qr->include_seen
	                         ? (qr->ascending ? M_MSG_LIST_ALL_ASC : M_MSG_LIST_ALL_DESC)
	                         : (qr->ascending ? M_MSG_LIST_UNSEEN_ASC : M_MSG_LIST_UNSEEN_DESC);
	struct params p = {0};
	MYSQL_STMT *q;
	MYSQL_BIND r[5];
	unsigned long len[5] = {0};
	my_bool nul[5] = {0};
	long long id = 0, created = 0;
	signed char seen = 0;
	int rc, stop = 0;

	if (grow(&s->big, &s->big_cap, 32 * 1024) != 0 || grow(&s->meta, &s->meta_cap, 8192) != 0)
		return SD_ENOMEM;
	p_str(&p, link);
	p_i64(&p, qr->before_id);
	p_i64(&p, qr->since_id);
	p_i64(&p, qr->limit);
	if ((q = my_exec(s, which, &p)) == NULL)
		return SD_EDB;
	memset(r, 0, sizeof r);
	r[0].buffer_type = MYSQL_TYPE_LONGLONG;
	r[0].buffer = &id;
	bind_out(&r[1], s->big, s->big_cap, &len[1], &nul[1]);
	r[2].buffer_type = MYSQL_TYPE_LONGLONG;
	r[2].buffer = &created;
	r[2].is_null = &nul[2];
	r[3].buffer_type = MYSQL_TYPE_TINY;
	r[3].buffer = &seen;
	r[3].is_null = &nul[3];
	bind_out(&r[4], s->meta, s->meta_cap, &len[4], &nul[4]);
	if (mysql_stmt_bind_result(q, r) != 0)
		return my_fail(s, q, "bind result");
	while ((rc = mysql_stmt_fetch(q)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		struct sd_msg m;

		if (stop)
			continue; /* drain the result set */
		if (rc == MYSQL_DATA_TRUNCATED) {
			/* A longer text than the buffers hold (PyCrypt had no
			 * limit): grow them and fetch those columns again. */
			if (len[1] + 1 > s->big_cap) {
				if (grow(&s->big, &s->big_cap, len[1]) != 0)
					break;
				r[1].buffer = s->big;
				r[1].buffer_length = s->big_cap - 1;
				if (mysql_stmt_fetch_column(q, &r[1], 1, 0) != 0)
					break;
			}
			if (!nul[4] && len[4] + 1 > s->meta_cap) {
				if (grow(&s->meta, &s->meta_cap, len[4]) != 0)
					break;
				r[4].buffer = s->meta;
				r[4].buffer_length = s->meta_cap - 1;
				if (mysql_stmt_fetch_column(q, &r[4], 4, 0) != 0)
					break;
			}
		}
		s->big[len[1]] = '\0';
		if (!nul[4])
			s->meta[len[4]] = '\0';
		m.id = id;
		m.encrypted_message = s->big;
		m.encrypted_len = len[1];
		m.created_at = (time_t)created;
		m.seen = seen != 0;
		m.metadata = nul[4] ? NULL : s->meta;
		m.metadata_len = nul[4] ? 0 : len[4];
		if (cb(ctx, &m) != 0)
			stop = 1;
		if (rc == MYSQL_DATA_TRUNCATED &&
		    mysql_stmt_bind_result(q, r) != 0) /* rebind grown buffers */
			break;
	}
	mysql_stmt_free_result(q);
	if (rc != MYSQL_NO_DATA)
		return my_fail(s, q, "message list");
	return SD_OK;
}

static enum sd_err my_msg_ack_once(struct sd_store *st, const char *link, const int64_t *ids,
                                   size_t n, int del, int64_t *count)
{
	struct mysql_store *s = M(st);
	long long found = 0, bytes = 0, rows, size;
	int have;
	enum sd_err rc;

	if ((rc = tx_begin(s)) != SD_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct params p = {0};

		p_i64(&p, ids[i]);
		p_str(&p, link);
		if (del) {
			if (my_exec_int(s, M_MSG_SIZE, &p, &size, &have) != SD_OK)
				return SD_EDB;
			if (!have)
				continue;
			if (my_exec_rows(s, M_MSG_DELETE, &p, &rows) != SD_OK)
				return SD_EDB;
			found += rows;
			bytes += size;
		} else {
			if (my_exec_rows(s, M_MSG_SEEN, &p, &rows) != SD_OK)
				return SD_EDB;
			found += rows;
		}
	}
	if (del && found > 0) {
		struct params p = {0};

		p_i64(&p, found);
		p_i64(&p, bytes);
		p_str(&p, link);
		if (my_exec_rows(s, M_CLIENT_RELEASE, &p, NULL) != SD_OK)
			return SD_EDB;
	}
	if ((rc = tx_commit(s)) != SD_OK)
		return rc;
	*count = found;
	return SD_OK;
}

/* ---- challenges ------------------------------------------------------ */

static enum sd_err my_challenge_insert_once(struct sd_store *st, const char *link,
                                            const char *challenge, const char *caller, time_t now,
                                            const struct sd_limits *lim)
{
	struct mysql_store *s = M(st);
	struct params pl = {0}, pe = {0}, pc = {0}, pi = {0};
	long long v, outstanding = 0;
	int found;
	enum sd_err rc;

	if ((rc = tx_begin(s)) != SD_OK)
		return rc;
	/* Lock the inbox row: issuance for one link is serialised, so the
	 * per-caller count cannot be raced past. */
	p_str(&pl, link);
	if (my_exec_int(s, M_CLIENT_LOCK, &pl, &v, &found) != SD_OK)
		return SD_EDB;
	if (!found) {
		tx_rollback(s);
		return SD_ENOTFOUND;
	}
	p_str(&pe, link);
	p_i64(&pe, (long long)now);
	if (my_exec_rows(s, M_CH_EXPIRE_LINK, &pe, NULL) != SD_OK)
		return SD_EDB;
	p_str(&pc, link);
	p_str(&pc, caller);
	p_i64(&pc, (long long)now);
	if (my_exec_int(s, M_CH_COUNT, &pc, &outstanding, &found) != SD_OK)
		return SD_EDB;
	if (outstanding >= lim->challenges_per_caller) {
		tx_rollback(s);
		return SD_ELIMIT;
	}
	p_str(&pi, link);
	p_str(&pi, challenge);
	p_i64(&pi, (long long)now);
	p_i64(&pi, (long long)(now + lim->challenge_ttl));
	p_str(&pi, caller);
	if (my_exec_rows(s, M_CH_INSERT, &pi, NULL) != SD_OK)
		return SD_EDB;
	return tx_commit(s);
}

static enum sd_err my_challenge_consume(struct sd_store *st, const char *link,
                                        const char *challenge, time_t now)
{
	struct mysql_store *s = M(st);
	struct params p = {0};
	long long n = 0;

	p_str(&p, link);
	p_str(&p, challenge);
	p_i64(&p, (long long)now);
	/* One DELETE in autocommit: InnoDB's row lock lets exactly one of any
	 * number of concurrent consumers remove the row. */
	if (my_exec_rows(s, M_CH_CONSUME, &p, &n) != SD_OK)
		return SD_EDB;
	return n >= 1 ? SD_OK : SD_ENOTFOUND;
}

static enum sd_err my_purge(struct sd_store *st, time_t now, time_t msg_cutoff, int64_t *purged)
{
	struct mysql_store *s = M(st);
	struct params p = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	int locked;

	*purged = 0;
	if (my_conn(s) == NULL)
		return SD_EDB;
	/* Several instances share one database: one purges at a time. */
	if (simple(s, "SELECT GET_LOCK('sealdrop_purge', 0)") != 0)
		return my_fail(s, NULL, "purge lock");
	res = mysql_store_result(s->conn);
	row = res ? mysql_fetch_row(res) : NULL;
	locked = row && row[0] && strcmp(row[0], "1") == 0;
	mysql_free_result(res);
	if (!locked)
		return SD_OK;
	p_i64(&p, (long long)now);
	if (my_exec_rows(s, M_CH_EXPIRE_ALL, &p, NULL) != SD_OK)
		return SD_EDB;
	/* One batch per call (the caller repeats while a full batch went), so
	 * no transaction here is ever large. */
	if (msg_cutoff > 0) {
		struct params pq = {0};
		MYSQL_STMT *q;
		MYSQL_BIND r[3];
		long long ids[500], sizes[500], id = 0, size = 0;
		char links[500][SD_LINK_TOKEN_MAX + 1], link[SD_LINK_TOKEN_MAX + 1];
		unsigned long llen = 0;
		my_bool lnul = 0;
		int n = 0, rc;

		p_i64(&pq, (long long)msg_cutoff);
		if ((q = my_exec(s, M_MSG_OLD, &pq)) == NULL)
			return SD_EDB;
		memset(r, 0, sizeof r);
		r[0].buffer_type = MYSQL_TYPE_LONGLONG;
		r[0].buffer = &id;
		bind_out(&r[1], link, sizeof link, &llen, &lnul);
		r[2].buffer_type = MYSQL_TYPE_LONGLONG;
		r[2].buffer = &size;
		if (mysql_stmt_bind_result(q, r) != 0)
			return my_fail(s, q, "bind result");
		while ((rc = mysql_stmt_fetch(q)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
			terminate(link, sizeof link, llen, lnul);
			ids[n] = id;
			sizes[n] = size;
			memcpy(links[n], link, sizeof link);
			n++;
		}
		mysql_stmt_free_result(q);
		if (rc != MYSQL_NO_DATA)
			return my_fail(s, q, "purge list");
		for (int i = 0; i < n; i++) {
			struct params pd = {0}, pr = {0};
			long long rows = 0;

			if (tx_begin(s) != SD_OK)
				return SD_EDB;
			p_i64(&pd, ids[i]);
			if (my_exec_rows(s, M_MSG_DELETE_ID, &pd, &rows) != SD_OK)
				return SD_EDB;
			if (rows == 1) {
				p_i64(&pr, 1);
				p_i64(&pr, sizes[i]);
				p_str(&pr, links[i]);
				if (my_exec_rows(s, M_CLIENT_RELEASE, &pr, NULL) != SD_OK)
					return SD_EDB;
				(*purged)++;
			}
			if (tx_commit(s) != SD_OK)
				return SD_EDB;
		}
	}
	if (s->conn != NULL && simple(s, "SELECT RELEASE_LOCK('sealdrop_purge')") == 0)
		mysql_free_result(mysql_store_result(s->conn));
	return SD_OK;
}

/* A transaction that lost a deadlock or a lock wait (or, on Galera, a
 * certification conflict, reported as a deadlock) did nothing: run it
 * again, a few times, before telling the client to retry. */
static int retryable(struct mysql_store *s, enum sd_err rc)
{
	return rc == SD_EDB &&
	       (s->last_errno == ER_LOCK_DEADLOCK || s->last_errno == ER_LOCK_WAIT_TIMEOUT);
}

#define RETRY(call)                                    \
	do {                                           \
		enum sd_err rc_ = SD_EDB;              \
		for (int try_ = 0; try_ < 4; try_++) { \
			s->last_errno = 0;             \
			rc_ = (call);                  \
			if (!retryable(s, rc_))        \
				break;                 \
		}                                      \
		return rc_;                            \
	} while (0)

static enum sd_err my_msg_insert(struct sd_store *st, const char *link, const char *ct,
                                 const char *metadata, int64_t bytes, const struct sd_limits *lim,
                                 time_t now, int64_t *id)
{
	struct mysql_store *s = M(st);

	RETRY(my_msg_insert_once(st, link, ct, metadata, bytes, lim, now, id));
}

static enum sd_err my_msg_ack(struct sd_store *st, const char *link, const int64_t *ids, size_t n,
                              int del, int64_t *count)
{
	struct mysql_store *s = M(st);

	RETRY(my_msg_ack_once(st, link, ids, n, del, count));
}

static enum sd_err my_challenge_insert(struct sd_store *st, const char *link, const char *challenge,
                                       const char *caller, time_t now, const struct sd_limits *lim)
{
	struct mysql_store *s = M(st);

	RETRY(my_challenge_insert_once(st, link, challenge, caller, now, lim));
}

static enum sd_err my_client_delete(struct sd_store *st, const char *link)
{
	struct mysql_store *s = M(st);

	RETRY(my_client_delete_once(st, link));
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

/* mysql_library_init is not thread-safe: run it once, before any connect. */
static void lib_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

static const struct sd_store_ops mysql_ops = {
    .name = "mysql",
    .close = my_close,
    .migrate = my_migrate,
    .ping = my_ping,
    .client_insert = my_client_insert,
    .client_get = my_client_get,
    .client_set_fetch_hash = my_client_set_fetch_hash,
    .client_delete = my_client_delete,
    .msg_insert = my_msg_insert,
    .msg_list = my_msg_list,
    .msg_ack = my_msg_ack,
    .challenge_insert = my_challenge_insert,
    .challenge_consume = my_challenge_consume,
    .purge = my_purge,
};

enum sd_err store_mysql_open(const char *dsn, const struct sd_config *cfg, struct sd_store **out,
                             char *err, size_t errlen)
{
	struct mysql_store *s;

	(void)cfg;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return SD_ENOMEM;
	s->base.ops = &mysql_ops;
	if (dsn_parse(dsn, &s->dsn) != 0) {
		snprintf(err, errlen,
		         "bad MySQL DSN (want mysql://user:pass@host:port/db or "
		         "mysql://user:pass@unix(/path/to/socket)/db)");
		free(s);
		return SD_EINVAL;
	}
	pthread_once(&lib_once, lib_init);
	/* Connect now to report a bad configuration at start; a database that
	 * is merely down is retried on every call. */
	if (my_connect(s, err, errlen) != 0) {
		my_close(&s->base);
		return SD_EDB;
	}
	*out = &s->base;
	return SD_OK;
}
