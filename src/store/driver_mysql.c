/* The MariaDB/MySQL driver, through MariaDB Connector/C (the libmysqlclient
 * API): one connection per thread, prepared statements cached on it,
 * utf8mb4, a UTC session. A lost connection is dropped and reopened by the
 * next call, so the server recovers by itself when the database comes
 * back. The same code serves one server and a Galera cluster: writes are
 * retried whole after a conflict, reads wait for the cluster's earlier
 * commits (wsrep_sync_wait), and advisory locks are leases in a table, not
 * the node-local GET_LOCK. What the statements mean is store.c's business. */
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/num.h"
#include "store/driver.h"

#define CONNECT_TIMEOUT_S  3
/* A hung server must not hold a worker for long; a reply that takes longer
 * than this reads as a lost connection (the option cannot be changed on an
 * open connection), hence the two values below. */
#define RW_TIMEOUT_S       10
/* CREATE INDEX on a large table takes its time (script()). */
#define DDL_TIMEOUT_S      3600
/* A transaction that lost a conflict runs again after a random pause
 * below RETRY_PAUSE_MS << attempt, at most RETRY_PAUSE_MAX_MS: concurrent
 * losers spread out instead of colliding again in step. On a cluster one
 * inbox written through every node at once (its counter row) loses often:
 * ten tries wait about a second at most before the client hears 503. */
#define WRITE_TRIES        10
#define RETRY_PAUSE_MS     4
#define RETRY_PAUSE_MAX_MS 256
/* A lease outlives a crashed holder by at most this long. Its holder
 * renews it by taking it again (the migration runner does, per file). */
#define LEASE_TTL_S        60
#define LEASE_POLL_MS      200
/* Read-your-writes on a Galera cluster: reads (1) and UPDATE/DELETE (2)
 * first wait until this node has applied every transaction the cluster
 * committed before they started; mysql://...?wsrep_sync_wait=N changes it.
 * Without Galera the setting does nothing. */
#define SYNC_WAIT_DEFAULT  3
/* Result column buffers: they start small and grow for long values; one
 * over COL_KEEP (a rare huge message, PyCrypt had no limit) is freed after
 * the call instead of being held by the thread for the life of the
 * process. 64 KiB keeps an ordinary 16 KiB message's base64 text. */
#define COL_START          256
#define COL_KEEP           (64 * 1024)

/* Statements of the driver's own, cached after the named ones: leases,
 * the advisory locks that hold across a cluster (see my_lock). */
enum { L_LEASE_CLAIM = SQ__MAX, L_LEASE_HOLDER, L_LEASE_RELEASE, SLOTS };

static const char *const lock_sql[] = {
    /* Insert, or take over an expired lease, or renew our own; the
     * assignments run left to right, so the second sees the new holder. */
    "INSERT INTO sealdrop_leases (name, holder, expires_at) "
    "VALUES (?, ?, NOW() + INTERVAL ? SECOND) ON DUPLICATE KEY UPDATE "
    "holder = IF(expires_at < NOW() OR holder = VALUES(holder), VALUES(holder), holder), "
    "expires_at = IF(holder = VALUES(holder), VALUES(expires_at), expires_at)",
    "SELECT holder FROM sealdrop_leases WHERE name = ?",
    "DELETE FROM sealdrop_leases WHERE name = ? AND holder = ?",
};

static const char lease_table_sql[] =
    "CREATE TABLE IF NOT EXISTS sealdrop_leases (name VARCHAR(64) NOT NULL PRIMARY KEY, "
    "holder CHAR(32) NOT NULL, expires_at TIMESTAMP NOT NULL) ENGINE=InnoDB";
static const char lease_table_exists_sql[] =
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
    "AND TABLE_NAME = 'sealdrop_leases'";

struct my_dsn {
	char user[128];
	char pass[256];
	char host[256];
	char socket[512];
	unsigned port;
	char db[128];
	int sync_wait; /* wsrep_sync_wait for every session */
	/* TLS to a remote server: with ssl_ca the connection is encrypted and
	 * the server's certificate verified against it, or refused. */
	char ssl_ca[512], ssl_cert[512], ssl_key[512];
};

struct col_buf {
	char *p;
	unsigned long cap;
};

struct sd_conn {
	struct my_dsn dsn;
	MYSQL *db;  /* NULL after a loss, until the next call reconnects */
	MYSQL *ddl; /* script()'s, kept until the end of the write() */
	MYSQL_STMT *stmt[SLOTS];
	struct col_buf col[SD_COLS_MAX];
	int in_tx;        /* inside write(): a loss must not reconnect */
	int leases_ready; /* the lease table is known to exist */
	char holder[33];  /* this connection's name in the lease table (hex) */
};

/* A failure, copied out of the library before the handle is reset. */
struct dberr {
	unsigned int e;
	char msg[256];
};

static const char *slot_sql(int slot)
{
	return slot < SQ__MAX ? sd_sql_mysql[slot] : lock_sql[slot - SQ__MAX];
}

/* ---- DSN ------------------------------------------------------------- */

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
			h = sd_hex_digit(s[i + 1]);
			l = sd_hex_digit(s[i + 2]);
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

/* user[:pass]@ (the last @: a password may hold an unencoded one). Returns
 * what follows, or NULL. */
static const char *dsn_userinfo(const char *p, struct my_dsn *d)
{
	const char *at = strrchr(p, '@'), *colon;

	if (at == NULL)
		return p;
	colon = memchr(p, ':', (size_t)(at - p));
	if (pct_copy(d->user, sizeof d->user, p, (size_t)((colon ? colon : at) - p)) != 0)
		return NULL;
	if (colon != NULL &&
	    pct_copy(d->pass, sizeof d->pass, colon + 1, (size_t)(at - colon - 1)) != 0)
		return NULL;
	return at + 1;
}

/* unix(/path) or host[:port]. Returns the '/' before the database, or NULL. */
static const char *dsn_server(const char *p, struct my_dsn *d)
{
	const char *slash, *hp;
	size_t n;

	if (strncmp(p, "unix(", 5) == 0) {
		const char *close = strchr(p, ')');

		if (close == NULL || (size_t)(close - p - 5) >= sizeof d->socket)
			return NULL;
		memcpy(d->socket, p + 5, (size_t)(close - p - 5));
		return close[1] == '/' ? close + 1 : NULL;
	}
	slash = strchr(p, '/');
	if (slash == NULL)
		return NULL;
	hp = memchr(p, ':', (size_t)(slash - p));
	n = (size_t)((hp ? hp : slash) - p);
	if (n == 0 || n >= sizeof d->host)
		return NULL;
	memcpy(d->host, p, n);
	if (hp != NULL) {
		char *end;
		unsigned long port = strtoul(hp + 1, &end, 10);

		if (end != slash || port == 0 || port > 65535)
			return NULL;
		d->port = (unsigned)port;
	}
	return slash;
}

/* The ?query after the database: wsrep_sync_wait=N (0..15) is ours; any
 * other parameter is ignored. */
/* One key=value of the query into out: 1 when q starts with key, -1 when
 * its value is empty or does not fit, 0 when q is another key. */
static int dsn_text(const char *q, size_t n, const char *key, char *out, size_t cap)
{
	size_t k = strlen(key);

	if (n < k || strncmp(q, key, k) != 0)
		return 0;
	if (n == k || n - k >= cap)
		return -1;
	memcpy(out, q + k, n - k);
	out[n - k] = '\0';
	return 1;
}

/* The ?query after the database: wsrep_sync_wait=N (0..15), ssl-ca=PATH,
 * ssl-cert=PATH and ssl-key=PATH are ours, any other key starting with ssl
 * or tls is refused (a typo must not mean plain text), and the rest is
 * left to whoever else reads the DSN. A client certificate without the CA that
 * verifies the server is refused: TLS here always verifies. */
static int dsn_query(const char *q, struct my_dsn *d)
{
	static const char key[] = "wsrep_sync_wait=";

	while (*q != '\0') {
		size_t n = strcspn(q, "&");
		int t;

		if (n >= sizeof key - 1 && strncmp(q, key, sizeof key - 1) == 0) {
			const char *digits = q + sizeof key - 1;
			char *end;
			long v = strtol(digits, &end, 10);

			if (end == digits || end != q + n || v < 0 || v > 15)
				return -1;
			d->sync_wait = (int)v;
		} else if ((t = dsn_text(q, n, "ssl-ca=", d->ssl_ca, sizeof d->ssl_ca)) < 0 ||
		           (t == 0 && (t = dsn_text(q, n, "ssl-cert=", d->ssl_cert,
		                                    sizeof d->ssl_cert)) < 0) ||
		           (t == 0 &&
		            (t = dsn_text(q, n, "ssl-key=", d->ssl_key, sizeof d->ssl_key)) < 0)) {
			return -1;
		} else if (t == 0 && (strncmp(q, "ssl", 3) == 0 || strncmp(q, "tls", 3) == 0)) {
			/* A mistyped TLS setting must not quietly mean plain text. */
			return -1;
		}
		q += n + (q[n] == '&');
	}
	if ((d->ssl_cert[0] != '\0' || d->ssl_key[0] != '\0') && d->ssl_ca[0] == '\0')
		return -1;
	return (d->ssl_cert[0] != '\0') == (d->ssl_key[0] != '\0') ? 0 : -1;
}

/* mysql://user:pass@host:port/db or mysql://user:pass@unix(/path)/db, also
 * as mariadb://, optionally ?wsrep_sync_wait=N and ssl-ca=, ssl-cert=, ssl-key=
 * (paths, taken as written: no %-decoding). */
static int dsn_parse(const char *dsn, struct my_dsn *d)
{
	const char *p;
	size_t n;

	memset(d, 0, sizeof *d);
	d->port = 3306;
	d->sync_wait = SYNC_WAIT_DEFAULT;
	if (strncmp(dsn, "mysql://", 8) == 0)
		p = dsn + 8;
	else if (strncmp(dsn, "mariadb://", 10) == 0)
		p = dsn + 10;
	else
		return -1;
	if ((p = dsn_userinfo(p, d)) == NULL || (p = dsn_server(p, d)) == NULL)
		return -1;
	n = strcspn(p + 1, "?");
	if (n == 0 || n >= sizeof d->db)
		return -1;
	memcpy(d->db, p + 1, n);
	return p[1 + n] == '?' ? dsn_query(p + 2 + n, d) : 0;
}

/* ---- connections ----------------------------------------------------- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

/* mysql_library_init is not thread-safe: run it once, before any connect. */
static void lib_init(void)
{
	lib_rc = mysql_library_init(0, NULL, NULL);
}

/* TLS, when the DSN names a CA: required (never a fallback to plain
 * text), TLS 1.2 or newer, and the server's certificate verified against
 * the CA and the host name. */
static int set_tls(MYSQL *m, const struct my_dsn *d)
{
	my_bool on = 1;

	if (d->ssl_ca[0] == '\0')
		return 0;
	if (mysql_options(m, MYSQL_OPT_SSL_CA, d->ssl_ca) != 0 ||
	    (d->ssl_cert[0] != '\0' && (mysql_options(m, MYSQL_OPT_SSL_CERT, d->ssl_cert) != 0 ||
	                                mysql_options(m, MYSQL_OPT_SSL_KEY, d->ssl_key) != 0)) ||
	    mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on) != 0 ||
	    mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on) != 0 ||
	    mysql_options(m, MARIADB_OPT_TLS_VERSION, "TLSv1.2,TLSv1.3") != 0)
		return -1;
	return 0;
}

static void set_options(MYSQL *m, unsigned int rw_timeout)
{
	unsigned int timeout = CONNECT_TIMEOUT_S;
	my_bool off = 0;

	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	/* We reconnect ourselves, never silently inside a transaction. */
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_INIT_COMMAND,
	              "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE'");
	/* Correctness never rests on gap locks (each inbox's row is locked
	 * explicitly where it matters), and without them concurrent writes to
	 * different inboxes cannot deadlock on neighbouring index gaps. */
	mysql_options(m, MYSQL_INIT_COMMAND,
	              "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
}

/* Galera's causal reads for this session. A server without the variable
 * (MySQL) has no Galera either: nothing to set there. */
static int sync_wait_set(MYSQL *m, int sync_wait)
{
	char sql[64];

	snprintf(sql, sizeof sql, "SET SESSION wsrep_sync_wait = %d", sync_wait);
	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) == 0 ||
	    mysql_errno(m) == ER_UNKNOWN_SYSTEM_VARIABLE)
		return 0;
	return -1;
}

/* A new connection, or NULL with the reason in err (never the password). */
static MYSQL *my_connect(const struct my_dsn *d, unsigned int rw_timeout, char *err, size_t errlen)
{
	const int sock = d->socket[0] != '\0';
	MYSQL *m = mysql_init(NULL);

	if (m == NULL) {
		snprintf(err, errlen, "mysql_init: out of memory");
		return NULL;
	}
	set_options(m, rw_timeout);
	if (set_tls(m, d) != 0) {
		snprintf(err, errlen, "MySQL/MariaDB client library refused a TLS setting");
		mysql_close(m);
		return NULL;
	}
	/* CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, so one
	 * that changes nothing is still told apart from a missing row. */
	if (mysql_real_connect(m, sock ? NULL : d->host, d->user, d->pass, d->db,
	                       sock ? 0 : d->port, sock ? d->socket : NULL,
	                       CLIENT_FOUND_ROWS) == NULL) {
		snprintf(err, errlen, "cannot connect to MySQL/MariaDB %s/%s: %s",
		         sock ? d->socket : d->host, d->db, mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	if (sync_wait_set(m, d->sync_wait) != 0) {
		snprintf(err, errlen, "cannot set wsrep_sync_wait on %s/%s: %s",
		         sock ? d->socket : d->host, d->db, mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* Statements belong to their connection: they go with it. */
static void conn_drop(struct sd_conn *c)
{
	for (int i = 0; i < SLOTS; i++) {
		if (c->stmt[i] != NULL)
			mysql_stmt_close(c->stmt[i]);
		c->stmt[i] = NULL;
	}
	if (c->db != NULL)
		mysql_close(c->db);
	c->db = NULL;
}

/* The open connection, or a new one. Not inside a transaction: its work
 * went with the lost connection, and what follows must not autocommit. */
static enum sd_err conn_get(struct sd_conn *c)
{
	char err[512];

	if (c->db != NULL)
		return SD_OK;
	if (c->in_tx)
		return SD_EDB; /* the loss was logged */
	c->db = my_connect(&c->dsn, RW_TIMEOUT_S, err, sizeof err);
	if (c->db == NULL) {
		sd_log_error("mysql: %s", err);
		return SD_EDB;
	}
	return SD_OK;
}

/* script()'s connection, whose read timeout lets CREATE INDEX or an UPDATE
 * of every row of a big table finish (c->db gives up after RW_TIMEOUT_S). */
static enum sd_err ddl_get(struct sd_conn *c)
{
	char err[512];

	if (c->ddl != NULL)
		return SD_OK;
	c->ddl = my_connect(&c->dsn, DDL_TIMEOUT_S, err, sizeof err);
	if (c->ddl == NULL) {
		sd_log_error("mysql: %s", err);
		return SD_EDB;
	}
	return SD_OK;
}

static void ddl_drop(struct sd_conn *c)
{
	if (c->ddl != NULL)
		mysql_close(c->ddl);
	c->ddl = NULL;
}

/* ---- failures -------------------------------------------------------- */

static void dberr_stmt(struct dberr *f, MYSQL_STMT *st)
{
	f->e = mysql_stmt_errno(st);
	snprintf(f->msg, sizeof f->msg, "%s", mysql_stmt_error(st));
}

static void dberr_conn(struct dberr *f, MYSQL *m)
{
	f->e = mysql_errno(m);
	snprintf(f->msg, sizeof f->msg, "%s", mysql_error(m));
}

/* Errors after which the connection is unusable (CR_SERVER_GONE_ERROR,
 * CR_SERVER_LOST and every other client-side error leave the protocol in
 * an unknown state). */
static int is_lost(unsigned int e)
{
	return (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) ||
	       (e >= CER_MIN_ERROR && e <= CER_MAX_ERROR) || e == ER_CONNECTION_KILLED ||
	       e == ER_SERVER_SHUTDOWN;
}

/* Server messages that quote a value, which can be a token. */
static int quotes_values(unsigned int e)
{
	switch (e) {
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
	case ER_TRUNCATED_WRONG_VALUE:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_ILLEGAL_VALUE_FOR_TYPE:
	case ER_WRONG_VALUE_FOR_TYPE:
	case ER_WRONG_VALUE:
	case ER_INVALID_CHARACTER_STRING:
	case ER_DATA_OUT_OF_RANGE:
		return 1;
	default:
		return 0;
	}
}

static void log_dberr(const struct dberr *f, const char *what)
{
	sd_log_error("mysql: %s: %u %s", what, f->e,
	             quotes_values(f->e) ? "(message withheld: it quotes a value)" : f->msg);
}

/* Galera reports a certification failure as a deadlock too. */
static enum sd_err classify(unsigned int e)
{
	switch (e) {
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		return SD_ECONFLICT;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return SD_ERETRY;
	case CR_OUT_OF_MEMORY:
	case ER_OUTOFMEMORY:
		return SD_ENOMEM;
	default:
		return SD_EDB;
	}
}

/* Map a failure on c->db to our vocabulary: a conflict is an answer for the
 * caller, anything else is logged; a lost connection is dropped. */
static enum sd_err settle(struct sd_conn *c, const struct dberr *f, const char *what)
{
	enum sd_err rc = classify(f->e);

	if (rc != SD_ECONFLICT && rc != SD_ERETRY)
		log_dberr(f, what);
	if (is_lost(f->e))
		conn_drop(c);
	return rc;
}

/* For the log: which statement, never its values. */
static const char *label(int slot, char *buf, size_t n)
{
	snprintf(buf, n, "statement %d (%.48s)", slot, slot_sql(slot));
	return buf;
}

static enum sd_err stmt_failed(struct sd_conn *c, MYSQL_STMT *st, int slot)
{
	struct dberr f;
	char what[80];

	dberr_stmt(&f, st);
	return settle(c, &f, label(slot, what, sizeof what));
}

/* A bug in the caller or in a SQL table, not a database failure. */
static enum sd_err misuse(int slot, const char *why)
{
	char what[80];

	sd_log_error("mysql: %s: %s", label(slot, what, sizeof what), why);
	return SD_EINVAL;
}

/* ---- statements ------------------------------------------------------ */

/* The prepared statement of slot, prepared on first use. */
static enum sd_err stmt_get(struct sd_conn *c, int slot, MYSQL_STMT **out)
{
	const char *sql = slot_sql(slot);
	MYSQL_STMT *st = c->stmt[slot];
	struct dberr f;
	char what[80];

	if (st != NULL) {
		*out = st;
		return SD_OK;
	}
	if ((st = mysql_stmt_init(c->db)) == NULL) {
		dberr_conn(&f, c->db);
		return settle(c, &f, "mysql_stmt_init");
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		dberr_stmt(&f, st);
		mysql_stmt_close(st); /* not cached: conn_drop would miss it */
		return settle(c, &f, label(slot, what, sizeof what));
	}
	if (mysql_stmt_field_count(st) > SD_COLS_MAX) {
		mysql_stmt_close(st);
		return misuse(slot, "more columns than SD_COLS_MAX");
	}
	*out = c->stmt[slot] = st;
	return SD_OK;
}

struct params {
	MYSQL_BIND b[SD_ARGS_MAX];
	unsigned long len[SD_ARGS_MAX];
	long long v[SD_ARGS_MAX];
};

/* Fill p from args; -1 for an unknown type. Text is not copied. */
static int bind_args(struct params *p, const struct sd_arg *args, int nargs)
{
	memset(p->b, 0, sizeof p->b);
	for (int i = 0; i < nargs; i++) {
		const struct sd_arg *a = &args[i];
		MYSQL_BIND *b = &p->b[i];

		if (a->type == SD_ARG_NULL || (a->type == SD_ARG_TEXT && a->text == NULL)) {
			b->buffer_type = MYSQL_TYPE_NULL;
		} else if (a->type == SD_ARG_I64) {
			p->v[i] = a->i64;
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &p->v[i];
		} else if (a->type == SD_ARG_TEXT) {
			p->len[i] = (unsigned long)a->len;
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = (void *)a->text;
			b->buffer_length = p->len[i];
			b->length = &p->len[i];
		} else {
			return -1;
		}
	}
	return 0;
}

/* ---- result rows ----------------------------------------------------- */

struct outcols {
	int n;
	MYSQL_BIND b[SD_COLS_MAX];
	unsigned long len[SD_COLS_MAX];
	my_bool nul[SD_COLS_MAX];
};

/* At least need bytes in b, doubling so a run of growing rows reallocates
 * seldom. */
static int col_reserve(struct col_buf *b, unsigned long need)
{
	unsigned long cap = b->cap * 2 > need ? b->cap * 2 : need;
	char *p;

	if (need <= b->cap)
		return 0;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Point column i's binding at its buffer, one byte kept for the NUL. */
static void col_bind(struct sd_conn *c, struct outcols *o, int i)
{
	MYSQL_BIND *b = &o->b[i];

	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = c->col[i].p;
	b->buffer_length = c->col[i].cap - 1;
	b->length = &o->len[i];
	b->is_null = &o->nul[i];
}

/* The fetched row truncated a value longer than its buffer: grow that
 * buffer, fetch the column again, and bind the grown buffers for the rows
 * to come. SD_EDB: see mysql_stmt_errno. */
static enum sd_err refetch_long(struct sd_conn *c, MYSQL_STMT *st, struct outcols *o)
{
	for (int i = 0; i < o->n; i++) {
		if (o->nul[i] || o->len[i] <= o->b[i].buffer_length)
			continue;
		if (col_reserve(&c->col[i], o->len[i] + 1) != 0) {
			sd_log_error("mysql: out of memory for a %lu-byte value", o->len[i]);
			return SD_ENOMEM;
		}
		col_bind(c, o, i);
		if (mysql_stmt_fetch_column(st, &o->b[i], (unsigned int)i, 0) != 0)
			return SD_EDB;
	}
	return mysql_stmt_bind_result(st, o->b) == 0 ? SD_OK : SD_EDB;
}

/* Hand the fetched row to cb; its return value (non-zero: stop). */
static int deliver(struct sd_conn *c, const struct outcols *o, sd_row_cb cb, void *ctx)
{
	struct sd_row r;

	memset(&r, 0, sizeof r);
	r.ncols = o->n;
	for (int i = 0; i < o->n; i++) {
		if (o->nul[i])
			continue;
		c->col[i].p[o->len[i]] = '\0';
		r.v[i] = c->col[i].p;
		r.len[i] = o->len[i];
	}
	return cb(ctx, &r);
}

/* Every column of st's result as text (the library prints the integers).
 * SD_EDB: see mysql_stmt_errno. */
static enum sd_err bind_result(struct sd_conn *c, MYSQL_STMT *st, struct outcols *o)
{
	memset(o, 0, sizeof *o);
	o->n = (int)mysql_stmt_field_count(st);
	for (int i = 0; i < o->n; i++) {
		if (col_reserve(&c->col[i], COL_START) != 0)
			return SD_ENOMEM;
		col_bind(c, o, i);
	}
	return mysql_stmt_bind_result(st, o->b) == 0 ? SD_OK : SD_EDB;
}

/* Every row to cb until it says stop, then the rest drained (a result left
 * unread would put the connection out of sync); the result always freed. */
static enum sd_err fetch_rows(struct sd_conn *c, MYSQL_STMT *st, int slot, sd_row_cb cb, void *ctx)
{
	struct outcols o;
	struct dberr f;
	char what[80];
	int got = 0, stop = cb == NULL;
	enum sd_err rc = bind_result(c, st, &o);

	while (rc == SD_OK && ((got = mysql_stmt_fetch(st)) == 0 || got == MYSQL_DATA_TRUNCATED)) {
		if (stop)
			continue;
		if (got == MYSQL_DATA_TRUNCATED && (rc = refetch_long(c, st, &o)) != SD_OK)
			break;
		stop = deliver(c, &o, cb, ctx) != 0;
	}
	if (rc == SD_OK && got != MYSQL_NO_DATA)
		rc = SD_EDB;
	if (rc == SD_EDB)
		dberr_stmt(&f, st); /* before free_result resets it */
	mysql_stmt_free_result(st);
	if (rc == SD_EDB)
		return settle(c, &f, label(slot, what, sizeof what));
	return rc;
}

/* A rare huge value must not keep its buffer for the life of the thread. */
static void cols_shrink(struct sd_conn *c)
{
	for (int i = 0; i < SD_COLS_MAX; i++) {
		if (c->col[i].cap > COL_KEEP) {
			free(c->col[i].p);
			c->col[i].p = NULL;
			c->col[i].cap = 0;
		}
	}
}

/* ---- exec ------------------------------------------------------------ */

static enum sd_err run(struct sd_conn *c, int slot, const struct sd_arg *args, int nargs,
                       sd_row_cb cb, void *ctx, struct sd_exec_result *res)
{
	struct params p;
	MYSQL_STMT *st = NULL;
	enum sd_err rc;

	if (nargs < 0 || nargs > SD_ARGS_MAX || bind_args(&p, args, nargs) != 0)
		return misuse(slot, "bad arguments");
	if ((rc = conn_get(c)) != SD_OK || (rc = stmt_get(c, slot, &st)) != SD_OK)
		return rc;
	if (mysql_stmt_param_count(st) != (unsigned long)nargs)
		return misuse(slot, "wrong number of arguments");
	if (nargs > 0 && mysql_stmt_bind_param(st, p.b) != 0)
		return stmt_failed(c, st, slot);
	if (mysql_stmt_execute(st) != 0)
		return stmt_failed(c, st, slot);
	if (mysql_stmt_field_count(st) > 0) {
		rc = fetch_rows(c, st, slot, cb, ctx);
		cols_shrink(c);
		return rc;
	}
	if (res != NULL) {
		/* With CLIENT_FOUND_ROWS: rows matched, for an UPDATE. */
		res->changes = (int64_t)mysql_stmt_affected_rows(st);
		res->last_id = (int64_t)mysql_stmt_insert_id(st);
	}
	return SD_OK;
}

static enum sd_err my_exec(struct sd_conn *c, enum sd_stmt q, const struct sd_arg *args, int nargs,
                           sd_row_cb cb, void *ctx, struct sd_exec_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof *res);
	if ((int)q < 0 || q >= SQ__MAX || sd_sql_mysql[q] == NULL) {
		sd_log_error("mysql: no statement %d", (int)q);
		return SD_EINVAL;
	}
	return run(c, (int)q, args, nargs, cb, ctx, res);
}

/* ---- transactions ---------------------------------------------------- */

static enum sd_err tx_query(struct sd_conn *c, const char *sql)
{
	struct dberr f;

	if (c->db == NULL)
		return SD_EDB; /* lost earlier, and logged */
	if (mysql_real_query(c->db, sql, (unsigned long)strlen(sql)) == 0)
		return SD_OK;
	dberr_conn(&f, c->db);
	return settle(c, &f, sql);
}

/* One attempt. A connection lost before COMMIT answered leaves the outcome
 * unknown (the COMMIT may have gone through): SD_EDB, never a retry. */
static enum sd_err tx_once(struct sd_conn *c, sd_write_fn fn, void *arg)
{
	enum sd_err rc;

	if ((rc = conn_get(c)) != SD_OK || (rc = tx_query(c, "START TRANSACTION")) != SD_OK)
		return rc;
	c->in_tx = 1;
	rc = fn(c, arg);
	if (rc == SD_OK)
		rc = tx_query(c, "COMMIT");
	if (rc != SD_OK)
		(void)tx_query(c, "ROLLBACK");
	c->in_tx = 0;
	ddl_drop(c);
	return rc;
}

/* Sleep a random while before attempt `attempt` (1, 2, ...) of a unit that
 * lost a conflict: below RETRY_PAUSE_MS << attempt milliseconds, capped. */
static void retry_pause(int attempt)
{
	uint32_t cap = attempt < 7 ? (uint32_t)RETRY_PAUSE_MS << attempt : RETRY_PAUSE_MAX_MS;
	uint32_t ms;

	if (cap > RETRY_PAUSE_MAX_MS)
		cap = RETRY_PAUSE_MAX_MS;
	ms = randombytes_uniform(cap) + 1;
	struct timespec ts = {0, (long)ms * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* A unit that lost a deadlock or a lock wait, or on Galera a
 * certification conflict (reported as a deadlock, at COMMIT or at any
 * statement an applied write-set aborted), did nothing: the whole unit
 * runs again, a few times with random pauses, before the client is told
 * to retry. A lost connection is never retried here: a COMMIT it cut may
 * have gone through (tx_once). */
static enum sd_err retried(struct sd_conn *c,
                           enum sd_err (*once)(struct sd_conn *, sd_write_fn, void *),
                           sd_write_fn fn, void *arg)
{
	enum sd_err rc = SD_ERETRY;

	if (c->in_tx) {
		sd_log_error("mysql: write() inside write()");
		return SD_EINVAL;
	}
	for (int i = 0; i < WRITE_TRIES && rc == SD_ERETRY; i++) {
		if (i > 0) {
			sd_metrics_store_retry();
			retry_pause(i);
		}
		rc = once(c, fn, arg);
	}
	if (rc == SD_ERETRY)
		sd_log_error("mysql: a transaction lost %d conflicts in a row", WRITE_TRIES);
	return rc;
}

static enum sd_err my_write(struct sd_conn *c, sd_write_fn fn, void *arg)
{
	return retried(c, tx_once, fn, arg);
}

/* A one-statement unit alone in autocommit: already a durable transaction. */
static enum sd_err lone_once(struct sd_conn *c, sd_write_fn fn, void *arg)
{
	return fn(c, arg);
}

static enum sd_err my_write_lone(struct sd_conn *c, sd_write_fn fn, void *arg)
{
	return retried(c, lone_once, fn, arg);
}

/* ---- migrations ------------------------------------------------------ */

static enum sd_err script_failed(struct sd_conn *c)
{
	struct dberr f;

	dberr_conn(&f, c->ddl);
	/* DDL commits implicitly in MySQL, so a half-applied migration is
	 * possible after a crash: what it added already is there. */
	if (f.e == ER_DUP_FIELDNAME || f.e == ER_DUP_KEYNAME)
		return SD_ECONFLICT;
	if (f.e == ER_EMPTY_QUERY)
		return SD_OK; /* a chunk of comments only */
	log_dberr(&f, "migration statement");
	if (is_lost(f.e))
		ddl_drop(c);
	return SD_EDB;
}

/* On a connection of its own (ddl_get). Inside write() the transaction is
 * committed first, as MySQL commits it before any DDL anyway: what follows
 * autocommits, and the DDL cannot wait for locks our own transaction holds.
 * Session state carries from one call to the next only within a write(). */
static enum sd_err my_script(struct sd_conn *c, const char *sql, size_t len)
{
	enum sd_err rc;

	if (c->in_tx && (rc = tx_query(c, "COMMIT")) != SD_OK)
		return rc;
	if ((rc = ddl_get(c)) != SD_OK)
		return rc;
	if (mysql_real_query(c->ddl, sql, (unsigned long)len) != 0)
		rc = script_failed(c);
	else
		mysql_free_result(mysql_store_result(c->ddl)); /* a SELECT's rows, if any */
	if (!c->in_tx)
		ddl_drop(c);
	return rc;
}

/* ---- advisory locks: leases ---------------------------------------------
 * GET_LOCK is local to one server: two Galera nodes grant the same lock at
 * once. A lease is a row of sealdrop_leases instead, taken by a conditional
 * write (my_lock) that replicates like any other: of two nodes inserting
 * the same name at once, certification lets one through and the other
 * loses with a deadlock (or, applied later, finds the row and leaves it).
 * Whoever the row names afterwards holds the lease. A holder that dies
 * leaves it to expire after LEASE_TTL_S; taking it again renews it. */

static int holder_row(void *ctx, const struct sd_row *r)
{
	char *out = ctx;

	snprintf(out, 33, "%s", r->v[0] != NULL ? r->v[0] : "");
	return 1;
}

static struct sd_arg name_arg(const char *name)
{
	return (struct sd_arg){.type = SD_ARG_TEXT, .text = name, .len = strlen(name)};
}

/* The lease table, created on first use (a database migrated by an older
 * sealdrop, or a lock taken before the first migration). */
static enum sd_err leases_ensure(struct sd_conn *c)
{
	MYSQL_RES *res;
	int exists;
	enum sd_err rc;

	if (c->leases_ready)
		return SD_OK;
	if ((rc = conn_get(c)) != SD_OK || (rc = tx_query(c, lease_table_exists_sql)) != SD_OK)
		return rc;
	res = mysql_store_result(c->db);
	exists = res != NULL && mysql_num_rows(res) > 0;
	mysql_free_result(res);
	if (!exists && (rc = tx_query(c, lease_table_sql)) != SD_OK)
		return rc;
	c->leases_ready = 1;
	return SD_OK;
}

/* One attempt: SD_OK when this connection holds name afterwards, SD_ELIMIT
 * when someone else does. */
static enum sd_err lease_try(struct sd_conn *c, const char *name)
{
	struct sd_arg claim[3] = {name_arg(name), name_arg(c->holder), sd_arg_i64(LEASE_TTL_S)};
	struct sd_arg who = name_arg(name);
	char holder[33] = "";
	enum sd_err rc = run(c, L_LEASE_CLAIM, claim, 3, NULL, NULL, NULL);

	if (rc == SD_ERETRY || rc == SD_ECONFLICT)
		return SD_ELIMIT; /* another node's claim certified first */
	if (rc != SD_OK ||
	    (rc = run(c, L_LEASE_HOLDER, &who, 1, holder_row, holder, NULL)) != SD_OK)
		return rc;
	return strcmp(holder, c->holder) == 0 ? SD_OK : SD_ELIMIT;
}

static void lease_pause(void)
{
	struct timespec ts = {0, (long)(LEASE_POLL_MS / 2 + randombytes_uniform(LEASE_POLL_MS)) *
	                             1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static enum sd_err my_lock(struct sd_conn *c, const char *name, int wait_s)
{
	struct timespec start, now;
	enum sd_err rc;

	if (c->in_tx) {
		sd_log_error("mysql: lock() inside write()");
		return SD_EINVAL;
	}
	if ((rc = leases_ensure(c)) != SD_OK)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if ((rc = lease_try(c, name)) != SD_ELIMIT)
			return rc;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= wait_s)
			return SD_ELIMIT;
		lease_pause();
	}
}

/* How often a release that lost a conflict is tried again. */
#define UNLOCK_TRIES 10

static void my_unlock(struct sd_conn *c, const char *name)
{
	struct sd_arg a[2] = {name_arg(name), name_arg(c->holder)};

	/* A lost connection is reopened to give the lease back: otherwise the
	 * others would wait for it to expire. On a cluster the release can
	 * lose certification to another node's claim of the same row, and is
	 * then worth a few more tries for the same reason. */
	for (int tries = 0; tries < UNLOCK_TRIES; tries++) {
		if (run(c, L_LEASE_RELEASE, a, 2, NULL, NULL, NULL) != SD_ERETRY)
			return;
		lease_pause();
	}
}

/* ---- life cycle ------------------------------------------------------ */

static void my_close(struct sd_conn *c)
{
	if (c == NULL)
		return;
	conn_drop(c);
	ddl_drop(c);
	for (int i = 0; i < SD_COLS_MAX; i++)
		free(c->col[i].p);
	sodium_memzero(c->dsn.pass, sizeof c->dsn.pass);
	free(c);
}

/* Our name in the lease table: random, so two connections never mistake
 * each other's lease for their own. */
static void holder_name(struct sd_conn *c)
{
	unsigned char id[16];

	randombytes_buf(id, sizeof id);
	sodium_bin2hex(c->holder, sizeof c->holder, id, sizeof id);
}

static enum sd_err my_open(const char *dsn, const struct sd_config *cfg, struct sd_conn **out,
                           char *err, size_t errlen)
{
	struct sd_conn *c = calloc(1, sizeof *c);

	(void)cfg;
	*out = NULL;
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return SD_ENOMEM;
	}
	if (dsn_parse(dsn, &c->dsn) != 0) {
		snprintf(err, errlen,
		         "bad MySQL DSN (want mysql://user:pass@host:port/db or "
		         "mysql://user:pass@unix(/path/to/socket)/db)");
		my_close(c);
		return SD_EINVAL;
	}
	holder_name(c);
	pthread_once(&lib_once, lib_init);
	if (lib_rc != 0) {
		snprintf(err, errlen, "mysql_library_init failed");
		my_close(c);
		return SD_EDB;
	}
	/* Connect now to report a bad configuration at start; a database that
	 * is merely down later is retried on every call. */
	if ((c->db = my_connect(&c->dsn, RW_TIMEOUT_S, err, errlen)) == NULL) {
		my_close(c);
		return SD_EDB;
	}
	*out = c;
	return SD_OK;
}

const struct sd_driver sd_driver_mysql = {
    .name = "mysql",
    .sql = sd_sql_mysql,
    .migrations = sd_migrations_mysql,
    .links_fold_case = 1,
    .reserve_reports_webhook = 1,
    .open = my_open,
    .close = my_close,
    .exec = my_exec,
    .write = my_write,
    .write_lone = my_write_lone,
    .script = my_script,
    .lock = my_lock,
    .unlock = my_unlock,
};
