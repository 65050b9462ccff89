/* Every store operation, written once above the backend driver (driver.h).
 * Reads run on the handle's own connection; each write is one function run
 * by the driver as one transaction (grouped with others on SQLite, retried
 * after a lost conflict on MySQL), so it may run more than once and sets
 * its outputs afresh each time. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/log.h"
#include "core/metrics.h"
#include "store/driver.h"
#include "store/ops.h"

struct sd_arg sd_arg_text(const char *s)
{
	return s == NULL ? (struct sd_arg){.type = SD_ARG_NULL}
	                 : (struct sd_arg){.type = SD_ARG_TEXT, .text = s, .len = strlen(s)};
}

struct sd_arg sd_arg_textn(const char *s, size_t n)
{
	return (struct sd_arg){.type = SD_ARG_TEXT, .text = s, .len = n};
}

int64_t sd_row_i64(const struct sd_row *r, int i)
{
	int64_t v = 0;
	size_t k;

	if (i >= r->ncols || r->v[i] == NULL)
		return 0;
	/* Every id and count of every row: plain digits that cannot overflow
	 * are read here, the rest (a sign, a DECIMAL's fraction) by strtoll. */
	for (k = 0; k < r->len[i] && k < 18 && r->v[i][k] >= '0' && r->v[i][k] <= '9'; k++)
		v = v * 10 + (r->v[i][k] - '0');
	return k > 0 && k == r->len[i] ? v : strtoll(r->v[i], NULL, 10);
}

/* ---- life cycle ------------------------------------------------------- */

enum sd_err store_open(const char *dsn, const struct sd_config *cfg, struct sd_store **out,
                       char *err, size_t errlen)
{
	const struct sd_driver *drv;
	struct sd_store *st;
	enum sd_err rc;

	*out = NULL;
	if (strncmp(dsn, "sqlite:", 7) == 0) {
		drv = &sd_driver_sqlite;
		dsn += 7;
	} else if (strncmp(dsn, "mysql://", 8) == 0 || strncmp(dsn, "mariadb://", 10) == 0) {
		drv = &sd_driver_mysql;
	} else {
		snprintf(err, errlen, "unknown database kind (want sqlite:PATH or mysql://...)");
		return SD_EINVAL;
	}
	if ((st = calloc(1, sizeof *st)) == NULL)
		return SD_ENOMEM;
	st->drv = drv;
	if ((rc = drv->open(dsn, cfg, &st->conn, err, errlen)) != SD_OK) {
		sd_metrics_store_connect_failed();
		free(st);
		return rc;
	}
	*out = st;
	return SD_OK;
}

void store_close(struct sd_store *st)
{
	if (st == NULL)
		return;
	st->drv->close(st->conn);
	free(st);
}

const char *store_backend(const struct sd_store *st)
{
	return st->drv->name;
}

int store_links_fold_case(const struct sd_store *st)
{
	return st->drv->links_fold_case;
}

enum sd_err store_ping(struct sd_store *st)
{
	struct on o = on_reader(st);
	int64_t v;
	int found;
	enum sd_err rc = run_int(&o, SQ_PING, NULL, 0, &v, &found);

	return rc == SD_OK && !found ? SD_EDB : rc;
}

/* ---- migrations --------------------------------------------------------
 * Each file is applied statement by statement, and every statement is
 * idempotent on its own (CREATE ... IF NOT EXISTS, one column or index per
 * statement, a column or index that exists counts as added, UPDATEs that
 * compute rather than accumulate): a migration interrupted at any point
 * (MySQL's DDL commits as it goes) is simply run again. */

struct migration_job {
	const struct sd_driver *drv;
	const struct sd_migration *m;
	int applied;
};

/* The next statement of a script at *p: skips blank and comment lines;
 * returns its length (0 at the end) and moves *p past it. */
static size_t next_statement(const char **p, const char **start)
{
	const char *s = *p, *end;
	size_t n;

	for (;;) {
		while (*s == ' ' || *s == '\n' || *s == '\t')
			s++;
		if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
			continue;
		}
		break;
	}
	end = strstr(s, ";\n");
	n = end != NULL ? (size_t)(end - s) : strlen(s);
	while (n > 0 && (s[n - 1] == ';' || s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	*start = s;
	*p = end != NULL ? end + 2 : s + strlen(s);
	return n;
}

static enum sd_err migration_tx(struct sd_conn *c, void *arg)
{
	struct migration_job *j = arg;
	struct on o = {j->drv, c};
	const char *p = j->m->sql, *s;
	enum sd_err rc;
	int64_t v;
	int found;
	size_t n;

	j->applied = 0;
	rc =
	    j->drv->script(c, j->drv->sql[SQ_SCHEMA_CREATE], strlen(j->drv->sql[SQ_SCHEMA_CREATE]));
	if (rc != SD_OK)
		return rc;
	if ((rc = run_int(&o, SQ_SCHEMA_HAS, ARGS(I64(j->m->version)), &v, &found)) != SD_OK ||
	    found)
		return rc;
	while ((n = next_statement(&p, &s)) > 0) {
		rc = sd_fault_hit(SD_FAULT_STORE) ? SD_EDB : j->drv->script(c, s, n);
		if (rc == SD_ECONFLICT)
			continue; /* the column or index is there already */
		if (rc != SD_OK) {
			sd_log_error("%s: migration %s failed", j->drv->name, j->m->name);
			return rc;
		}
	}
	rc = run_changes(&o, SQ_SCHEMA_RECORD,
	                 ARGS(I64(j->m->version), TXT(j->m->name), I64(time(NULL))), &v);
	j->applied = rc == SD_OK;
	/* Recorded meanwhile by another instance, which took the lease over
	 * while a long statement of ours ran: the same statements, applied. */
	return rc == SD_ECONFLICT ? SD_OK : rc;
}

/* Longer than a lease outlives a holder that died (a minute, driver.h):
 * an instance started after a crash in the middle of a migration takes
 * over instead of giving up. */
#define MIGRATE_WAIT_S 90

enum sd_err store_migrate(struct sd_store *st)
{
	enum sd_err rc = SD_OK;

	/* Several instances may start at once, on several nodes of a cluster:
	 * one migrates, the others wait for the lock, then find every version
	 * recorded and do nothing. */
	for (const struct sd_migration *m = st->drv->migrations; m->sql != NULL; m++) {
		struct migration_job j = {st->drv, m, 0};

		/* Taken again before each file: renews the lease. */
		if (st->drv->lock(st->conn, "sealdrop_migrate", MIGRATE_WAIT_S) != SD_OK) {
			sd_log_error("%s: could not take the migration lock", st->drv->name);
			rc = SD_EDB;
			break;
		}
		if ((rc = st->drv->write(st->conn, migration_tx, &j)) != SD_OK)
			break;
		if (j.applied)
			sd_log_info("%s: applied migration %s", st->drv->name, m->name);
	}
	st->drv->unlock(st->conn, "sealdrop_migrate");
	return rc;
}

struct recount_job {
	const struct sd_driver *drv;
};

static enum sd_err recount_tx(struct sd_conn *c, void *arg)
{
	static const enum sd_stmt steps[] = {SQ_MSG_CHARGE_FILL, SQ_CLIENT_RECOUNT};
	struct recount_job *j = arg;
	enum sd_err rc = SD_OK;

	/* Each step touches every row of a table: run as migration statements
	 * are (on MySQL, a connection without the 10 s read timeout). Both
	 * compute rather than accumulate, so a cut between them is harmless. */
	for (size_t i = 0; i < SD_ARRAY_LEN(steps) && rc == SD_OK; i++)
		rc = sd_fault_hit(SD_FAULT_STORE)
		         ? SD_EDB
		         : j->drv->script(c, j->drv->sql[steps[i]], strlen(j->drv->sql[steps[i]]));
	return rc;
}

enum sd_err store_recount(struct sd_store *st)
{
	struct recount_job j = {st->drv};
	enum sd_err rc;

	if (st->drv->lock(st->conn, "sealdrop_migrate", MIGRATE_WAIT_S) != SD_OK)
		return SD_EDB;
	rc = st->drv->write(st->conn, recount_tx, &j);
	st->drv->unlock(st->conn, "sealdrop_migrate");
	return rc;
}

/* ---- clients ---------------------------------------------------------- */

struct client_job {
	const struct sd_driver *drv;
	struct sd_client *client;
	const char *link, *hash;
};

static enum sd_err client_insert_tx(struct sd_conn *c, void *arg)
{
	struct client_job *j = arg;
	struct sd_client *cl = j->client;
	struct on o = {j->drv, c};
	struct sd_exec_result res = {0, 0};
	enum sd_err rc;

	rc =
	    run(&o, SQ_CLIENT_INSERT,
	        ARGS(TXT(cl->link_token), TXT(cl->public_key), TXT(cl->public_key_hash),
	             TXT(cl->has_display_name ? cl->display_name : NULL), TXT(cl->fetch_token_hash),
	             I64(cl->created_at), TXT(cl->key_type),
	             TXT(cl->box_public_key[0] ? cl->box_public_key : NULL), I64(cl->capabilities)),
	        NULL, NULL, &res);
	cl->id = res.last_id;
	return rc;
}

enum sd_err store_client_insert(struct sd_store *st, struct sd_client *c)
{
	struct client_job j = {.drv = st->drv, .client = c};

	return write_lone(st, client_insert_tx, &j);
}

static int client_row(void *p, const struct sd_row *r)
{
	struct sd_client *c = p;

	memset(c, 0, sizeof *c);
	c->id = sd_row_i64(r, 0);
	row_copy(r, 1, c->link_token, sizeof c->link_token);
	row_copy(r, 2, c->public_key, sizeof c->public_key);
	row_copy(r, 3, c->public_key_hash, sizeof c->public_key_hash);
	c->has_display_name = r->v[4] != NULL;
	row_copy(r, 4, c->display_name, sizeof c->display_name);
	row_copy(r, 5, c->fetch_token_hash, sizeof c->fetch_token_hash);
	c->created_at = (time_t)sd_row_i64(r, 6);
	row_copy(r, 7, c->key_type, sizeof c->key_type);
	row_copy(r, 8, c->box_public_key, sizeof c->box_public_key);
	c->capabilities = sd_row_i64(r, 9);
	/* CHAR(n) columns come back padded in some servers' modes. */
	for (size_t n = strlen(c->fetch_token_hash); n > 0 && c->fetch_token_hash[n - 1] == ' ';)
		c->fetch_token_hash[--n] = '\0';
	for (size_t n = strlen(c->public_key_hash); n > 0 && c->public_key_hash[n - 1] == ' ';)
		c->public_key_hash[--n] = '\0';
	return 1;
}

enum sd_err store_client_get(struct sd_store *st, const char *link, struct sd_client *out)
{
	struct on o = on_reader(st);
	enum sd_err rc;

	out->id = 0;
	out->link_token[0] = '\0';
	rc = run(&o, SQ_CLIENT_GET, ARGS(TXT(link)), client_row, out, NULL);
	if (rc == SD_OK && out->link_token[0] == '\0')
		return SD_ENOTFOUND;
	return rc;
}

struct usage {
	int found;
	int64_t messages, bytes;
};

static int usage_row(void *p, const struct sd_row *r)
{
	struct usage *u = p;

	u->found = 1;
	u->messages = sd_row_i64(r, 0);
	u->bytes = sd_row_i64(r, 1);
	return 1;
}

enum sd_err store_client_usage(struct sd_store *st, const char *link, int64_t *messages,
                               int64_t *bytes)
{
	struct on o = on_reader(st);
	struct usage u = {0, 0, 0};
	enum sd_err rc = run(&o, SQ_CLIENT_USAGE, ARGS(TXT(link)), usage_row, &u, NULL);

	*messages = u.messages;
	*bytes = u.bytes;
	return rc != SD_OK ? rc : u.found ? SD_OK : SD_ENOTFOUND;
}

struct totals {
	int64_t inboxes, bytes, messages;
};

static int totals_row(void *p, const struct sd_row *r)
{
	struct totals *t = p;

	t->inboxes = sd_row_i64(r, 0);
	t->bytes = sd_row_i64(r, 1);
	t->messages = sd_row_i64(r, 2);
	return 1;
}

enum sd_err store_totals(struct sd_store *st, int64_t *inboxes, int64_t *messages, int64_t *bytes)
{
	struct on o = on_reader(st);
	struct totals t = {0, 0, 0};
	enum sd_err rc = run(&o, SQ_CLIENT_TOTALS, NULL, 0, totals_row, &t, NULL);

	*inboxes = t.inboxes;
	*messages = t.messages;
	*bytes = t.bytes;
	return rc;
}

static enum sd_err set_hash_tx(struct sd_conn *c, void *arg)
{
	struct client_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	enum sd_err rc = run_changes(&o, SQ_CLIENT_SET_HASH, ARGS(TXT(j->hash), TXT(j->link)), &n);

	return rc != SD_OK ? rc : n == 1 ? SD_OK : SD_ENOTFOUND;
}

enum sd_err store_client_set_fetch_hash(struct sd_store *st, const char *link, const char *hash)
{
	struct client_job j = {.drv = st->drv, .link = link, .hash = hash};

	return write_lone(st, set_hash_tx, &j);
}

static enum sd_err client_delete_tx(struct sd_conn *c, void *arg)
{
	struct client_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	int found;
	enum sd_err rc;

	/* The inbox row first: a send reserves its place on that row, so one
	 * racing the erase either committed before (its message is erased
	 * below) or waits and then finds no inbox. Deleting the messages first
	 * let such a send, under READ COMMITTED, leave one behind. */
	if ((rc = run_int(&o, SQ_CLIENT_LOCK, ARGS(TXT(j->link)), &n, &found)) != SD_OK)
		return rc;
	if (!found)
		return SD_ENOTFOUND;
	if ((rc = run_changes(&o, SQ_CLIENT_DELETE_MSGS, ARGS(TXT(j->link)), &n)) != SD_OK ||
	    (rc = run_changes(&o, SQ_CLIENT_DELETE_CHALLENGES, ARGS(TXT(j->link)), &n)) != SD_OK ||
	    (rc = run_changes(&o, SQ_CLIENT_DELETE_REQUESTS, ARGS(TXT(j->link), TXT(j->link)),
	                      &n)) != SD_OK ||
	    (rc = receipts_erase_inbox(&o, j->link)) != SD_OK ||
	    (rc = webhook_forget_tx(&o, j->link)) != SD_OK ||
	    (rc = run_changes(&o, SQ_CLIENT_DELETE, ARGS(TXT(j->link)), &n)) != SD_OK)
		return rc;
	return n == 1 ? SD_OK : SD_ENOTFOUND;
}

enum sd_err store_client_delete(struct sd_store *st, const char *link)
{
	struct client_job j = {.drv = st->drv, .link = link};

	return st->drv->write(st->conn, client_delete_tx, &j);
}

/* ---- messages --------------------------------------------------------- */

struct msg_insert_job {
	const struct sd_driver *drv;
	const char *link;
	const struct sd_msg_new *m;
	size_t text_len, meta_len;
	int64_t charge;
	const struct sd_limits *lim;
	time_t now;
	int64_t id;
	int stored; /* this run inserted the row */
};

/* Take one place and `charge` bytes in the inbox, if it has room, and
 * learn from the same row whether it may have a webhook (*has_webhook:
 * always 1 where the driver's reserve does not report it). */
static enum sd_err inbox_reserve(const struct on *o, const char *link, int64_t charge,
                                 const struct sd_limits *lim, int *has_webhook)
{
	struct sd_exec_result res = {0, 0};
	int64_t v;
	int found;
	enum sd_err rc;

	rc = run(o, SQ_CLIENT_RESERVE,
	         ARGS(I64(charge), TXT(link), I64(lim->inbox_max_messages), I64(charge),
	              I64(lim->inbox_max_bytes)),
	         NULL, NULL, &res);
	*has_webhook = !o->drv->reserve_reports_webhook || res.last_id != 0;
	if (rc != SD_OK || res.changes == 1)
		return rc;
	/* No row changed: the inbox is full, or gone. */
	if ((rc = run_int(o, SQ_CLIENT_LOCK, ARGS(TXT(link)), &v, &found)) != SD_OK)
		return rc;
	return found ? SD_EFULL : SD_ENOTFOUND;
}

static enum sd_err msg_insert_tx(struct sd_conn *c, void *arg)
{
	struct msg_insert_job *j = arg;
	struct on o = {j->drv, c};
	struct sd_exec_result res = {0, 0};
	int64_t receipt = 0, thread = 0;
	int found = 0, has_webhook = 0;
	enum sd_err rc;

	j->id = 0;
	j->stored = 0;
	if (j->m->idempotency_key != NULL &&
	    ((rc = run_int(&o, SQ_MSG_BY_KEY, ARGS(TXT(j->link), TXT(j->m->idempotency_key)),
	                   &j->id, &found)) != SD_OK ||
	     found))
		return rc; /* a retry: the first send's id, nothing stored */
	if ((rc = receipt_thread_of(&o, j->link, j->m, &receipt, &thread)) != SD_OK ||
	    (rc = inbox_reserve(&o, j->link, j->charge, j->lim, &has_webhook)) != SD_OK)
		return rc;
	rc = run(&o, SQ_MSG_INSERT,
	         ARGS(TXT(j->link), sd_arg_textn(j->m->encrypted_b64, j->text_len), I64(j->now),
	              j->m->metadata ? sd_arg_textn(j->m->metadata, j->meta_len) : TXT(NULL),
	              I64(j->m->size_bytes), I64(j->charge), TXT(j->m->idempotency_key),
	              thread ? I64(thread) : TXT(NULL)),
	         NULL, NULL, &res);
	j->id = res.last_id;
	if (rc != SD_OK)
		return rc;
	/* The message, its receipt and its status row: one transaction. */
	rc = receipt_attach(&o, j->link, j->m, j->id, receipt, j->now);
	/* The ping in the message's transaction: a 201 survives a crash with
	 * it. Only for an inbox with a webhook: most have none, and the flag
	 * was read under the row lock a webhook set or clear also takes. */
	if (rc == SD_OK && has_webhook)
		rc = webhook_enqueue_tx(&o, j->link, j->now, j->lim);
	j->stored = rc == SD_OK;
	return rc;
}

enum sd_err store_msg_insert(struct sd_store *st, const char *link, const struct sd_msg_new *m,
                             const struct sd_limits *lim, time_t now, int64_t *id, int *stored)
{
	struct msg_insert_job j = {.drv = st->drv,
	                           .link = link,
	                           .m = m,
	                           .text_len = strlen(m->encrypted_b64),
	                           .meta_len = m->metadata ? strlen(m->metadata) : 0,
	                           .lim = lim,
	                           .now = now};
	enum sd_err rc;

	j.charge = (int64_t)(j.text_len + j.meta_len);
	rc = st->drv->write(st->conn, msg_insert_tx, &j);
	/* Two sends with one key at once: the unique index let one in; the
	 * other is a retry of it, and its id is the answer. */
	if (rc == SD_ECONFLICT && m->idempotency_key != NULL) {
		j.stored = 0;
		rc = store_msg_by_key(st, link, m->idempotency_key, &j.id);
		if (rc == SD_ENOTFOUND)
			rc = SD_ECONFLICT;
	}
	*id = j.id;
	if (stored != NULL)
		*stored = rc == SD_OK && j.stored;
	return rc;
}

enum sd_err store_msg_by_key(struct sd_store *st, const char *link, const char *key, int64_t *id)
{
	struct on o = on_reader(st);
	int found = 0;
	enum sd_err rc = run_int(&o, SQ_MSG_BY_KEY, ARGS(TXT(link), TXT(key)), id, &found);

	return rc != SD_OK ? rc : found ? SD_OK : SD_ENOTFOUND;
}

struct msg_list_ctx {
	sd_msg_cb cb;
	void *ctx;
};

static int msg_row(void *p, const struct sd_row *r)
{
	struct msg_list_ctx *l = p;
	struct sd_msg m;

	if (r->v[1] == NULL)
		return 0;
	m.id = sd_row_i64(r, 0);
	m.encrypted_message = r->v[1];
	m.encrypted_len = r->len[1];
	m.created_at = (time_t)sd_row_i64(r, 2);
	m.seen = sd_row_i64(r, 3) != 0;
	m.metadata = r->v[4];
	m.metadata_len = r->v[4] != NULL ? r->len[4] : 0;
	m.thread_id = sd_row_i64(r, 5);
	m.replies = sd_row_i64(r, 6);
	return l->cb(l->ctx, &m);
}

enum sd_err store_msg_list(struct sd_store *st, const char *link, const struct sd_msg_query *q,
                           sd_msg_cb cb, void *ctx)
{
	struct on o = on_reader(st);
	struct msg_list_ctx l = {cb, ctx};
	enum sd_stmt which =
	    q->include_seen ? (q->ascending ? SQ_MSG_LIST_ALL_ASC : SQ_MSG_LIST_ALL_DESC)
	                    : (q->ascending ? SQ_MSG_LIST_UNSEEN_ASC : SQ_MSG_LIST_UNSEEN_DESC);

	return run(&o, which, ARGS(TXT(link), I64(q->before_id), I64(q->since_id), I64(q->limit)),
	           msg_row, &l, NULL);
}

struct msg_ack_job {
	const struct sd_driver *drv;
	const char *link;
	const int64_t *ids;
	size_t n;
	int del;
	int64_t count;
};

/* Erase one message of the inbox: *gone says whether it was this inbox's
 * and went now, *charge what it gives back. */
static enum sd_err msg_delete_one(const struct on *o, const char *link, int64_t id, int *gone,
                                  int64_t *charge)
{
	int64_t n = 0;
	int found;
	enum sd_err rc;

	*gone = 0;
	if ((rc = run_int(o, SQ_MSG_CHARGE, ARGS(I64(id), TXT(link)), charge, &found)) != SD_OK ||
	    !found)
		return rc;
	if ((rc = run_changes(o, SQ_MSG_DELETE, ARGS(I64(id), TXT(link)), &n)) != SD_OK)
		return rc;
	*gone = n == 1;
	return *gone ? receipt_status_set(o, id, SD_RCPT_DELETED) : SD_OK;
}

static enum sd_err msg_ack_tx(struct sd_conn *c, void *arg)
{
	struct msg_ack_job *j = arg;
	struct on o = {j->drv, c};
	int64_t found = 0, bytes = 0, v;
	int gone;
	enum sd_err rc;

	j->count = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (j->del) {
			if ((rc = msg_delete_one(&o, j->link, j->ids[i], &gone, &v)) != SD_OK)
				return rc;
			found += gone;
			bytes += gone ? v : 0;
			continue;
		}
		if ((rc = run_changes(&o, SQ_MSG_SEEN, ARGS(I64(j->ids[i]), TXT(j->link)), &v)) !=
		        SD_OK ||
		    (v == 1 && (rc = receipt_status_set(&o, j->ids[i], SD_RCPT_READ)) != SD_OK))
			return rc;
		found += v;
	}
	if (j->del && found > 0 &&
	    (rc = run_changes(&o, SQ_CLIENT_RELEASE, ARGS(I64(found), I64(bytes), TXT(j->link)),
	                      &v)) != SD_OK)
		return rc;
	j->count = found;
	return SD_OK;
}

enum sd_err store_msg_ack(struct sd_store *st, const char *link, const int64_t *ids, size_t n,
                          int del, int64_t *count)
{
	struct msg_ack_job j = {.drv = st->drv, .link = link, .ids = ids, .n = n, .del = del};
	enum sd_err rc = st->drv->write(st->conn, msg_ack_tx, &j);

	*count = j.count;
	return rc;
}

struct ids_page {
	int64_t ids[SD_ACK_BATCH];
	size_t n;
};

static int id_row(void *p, const struct sd_row *r)
{
	struct ids_page *pg = p;

	pg->ids[pg->n++] = sd_row_i64(r, 0);
	return pg->n == SD_ACK_BATCH;
}

enum sd_err store_msg_ack_upto(struct sd_store *st, const char *link, int64_t up_to, int del,
                               int64_t *count)
{
	struct ids_page *pg = sd_malloc(sizeof *pg);
	struct on o = on_reader(st);
	int64_t after = 0, n;
	enum sd_err rc = SD_OK;

	*count = 0;
	if (pg == NULL)
		return SD_ENOMEM;
	do {
		pg->n = 0;
		rc = run(&o, SQ_MSG_IDS_UPTO,
		         ARGS(TXT(link), I64(after), I64(up_to), I64(SD_ACK_BATCH)), id_row, pg,
		         NULL);
		if (rc != SD_OK || pg->n == 0)
			break;
		if ((rc = store_msg_ack(st, link, pg->ids, pg->n, del, &n)) != SD_OK)
			break;
		*count += n;
		after = pg->ids[pg->n - 1];
	} while (pg->n == SD_ACK_BATCH);
	free(pg);
	return rc;
}

/* ---- challenges ------------------------------------------------------- */

struct challenge_job {
	const struct sd_driver *drv;
	const char *link, *challenge, *purpose, *caller;
	time_t now;
	const struct sd_limits *lim;
};

static enum sd_err challenge_insert_tx(struct sd_conn *c, void *arg)
{
	struct challenge_job *j = arg;
	struct on o = {j->drv, c};
	int64_t v, outstanding = 0;
	int found;
	enum sd_err rc;

	/* Claim the inbox row: issuance for one link is serialised, on every
	 * node of a cluster, so the per-caller count cannot be raced past. */
	if ((rc = inbox_claim(&o, j->link)) != SD_OK)
		return rc;
	if ((rc = run_changes(&o, SQ_CH_EXPIRE_LINK, ARGS(TXT(j->link), I64(j->now)), &v)) !=
	        SD_OK ||
	    (rc = run_int(&o, SQ_CH_COUNT, ARGS(TXT(j->link), TXT(j->caller), I64(j->now)),
	                  &outstanding, &found)) != SD_OK)
		return rc;
	if (outstanding >= j->lim->challenges_per_caller)
		return SD_ELIMIT;
	return run_changes(&o, SQ_CH_INSERT,
	                   ARGS(TXT(j->link), TXT(j->challenge), I64(j->now),
	                        I64(j->now + j->lim->challenge_ttl), TXT(j->caller),
	                        TXT(j->purpose)),
	                   &v);
}

enum sd_err store_challenge_insert(struct sd_store *st, const char *link, const char *challenge,
                                   const char *purpose, const char *caller, time_t now,
                                   const struct sd_limits *lim)
{
	struct challenge_job j = {st->drv, link, challenge, purpose, caller, now, lim};

	return st->drv->write(st->conn, challenge_insert_tx, &j);
}

static enum sd_err challenge_consume_tx(struct sd_conn *c, void *arg)
{
	struct challenge_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	enum sd_err rc;

	/* One DELETE: of any number of concurrent consumers exactly one sees
	 * a removed row (SQLite's single writer, InnoDB's row lock). */
	rc = run_changes(&o, SQ_CH_CONSUME,
	                 ARGS(TXT(j->link), TXT(j->challenge), I64(j->now), TXT(j->purpose)), &n);
	return rc != SD_OK ? rc : n == 1 ? SD_OK : SD_ENOTFOUND;
}

enum sd_err store_challenge_consume(struct sd_store *st, const char *link, const char *challenge,
                                    const char *purpose, time_t now)
{
	struct challenge_job j = {st->drv, link, challenge, purpose, NULL, now, NULL};

	return write_lone(st, challenge_consume_tx, &j);
}

/* ---- housekeeping ----------------------------------------------------- */

struct old_msg {
	int64_t id, charge;
	char link[SD_LINK_TOKEN_MAX + 1];
};

struct purge_job {
	const struct sd_driver *drv;
	time_t now, cutoff;
	struct old_msg *old; /* SD_PURGE_BATCH entries */
	size_t n_old;
	int64_t purged;
};

static int old_row(void *p, const struct sd_row *r)
{
	struct purge_job *j = p;
	struct old_msg *m;

	if (j->n_old == SD_PURGE_BATCH)
		return 1;
	m = &j->old[j->n_old++];
	m->id = sd_row_i64(r, 0);
	row_copy(r, 1, m->link, sizeof m->link);
	m->charge = sd_row_i64(r, 2);
	return 0;
}

static enum sd_err purge_tx(struct sd_conn *c, void *arg)
{
	struct purge_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n;
	enum sd_err rc;

	j->purged = 0;
	j->n_old = 0;
	/* Rows are collected first: no statement may run inside a listing. */
	if ((rc = run(&o, SQ_MSG_OLD, ARGS(I64(j->cutoff), I64(SD_PURGE_BATCH)), old_row, j,
	              NULL)) != SD_OK)
		return rc;
	for (size_t i = 0; i < j->n_old; i++) {
		const struct old_msg *m = &j->old[i];

		if ((rc = run_changes(&o, SQ_MSG_DELETE_ID, ARGS(I64(m->id)), &n)) != SD_OK)
			return rc;
		if (n != 1)
			continue;
		if ((rc = run_changes(&o, SQ_CLIENT_RELEASE,
		                      ARGS(I64(1), I64(m->charge), TXT(m->link)), &n)) != SD_OK ||
		    (rc = receipt_status_set(&o, m->id, SD_RCPT_EXPIRED)) != SD_OK)
			return rc;
		j->purged++;
	}
	return SD_OK;
}

struct expire_job {
	const struct sd_driver *drv;
	time_t now;
	int64_t expired;
};

static enum sd_err challenges_expire_tx(struct sd_conn *c, void *arg)
{
	struct expire_job *j = arg;
	struct on o = {j->drv, c};

	return run_changes(&o, SQ_CH_EXPIRE_ALL, ARGS(I64(j->now), I64(SD_PURGE_BATCH)),
	                   &j->expired);
}

/* Expired challenges, SD_PURGE_BATCH per transaction: on a cluster every
 * transaction is one write-set that each node certifies and applies, so
 * none may grow with the table. */
static enum sd_err challenges_expire(struct sd_store *st, time_t now)
{
	struct expire_job j = {.drv = st->drv, .now = now};
	enum sd_err rc;

	do
		rc = st->drv->write(st->conn, challenges_expire_tx, &j);
	while (rc == SD_OK && j.expired == SD_PURGE_BATCH);
	return rc;
}

enum sd_err store_purge(struct sd_store *st, time_t now, time_t msg_cutoff, int64_t *purged)
{
	struct purge_job j = {.drv = st->drv, .now = now, .cutoff = msg_cutoff};
	enum sd_err rc;

	*purged = 0;
	/* Several instances share one database: one purges at a time. Not for
	 * correctness (a row two purges race for is deleted, and its place
	 * given back, by the one whose DELETE removed it), to spare work. */
	rc = st->drv->lock(st->conn, "sealdrop_purge", 0);
	if (rc == SD_ELIMIT)
		return SD_OK;
	if (rc != SD_OK)
		return rc;
	if ((j.old = calloc(SD_PURGE_BATCH, sizeof *j.old)) == NULL)
		rc = SD_ENOMEM;
	else if ((rc = challenges_expire(st, now)) == SD_OK && msg_cutoff > 0)
		rc = st->drv->write(st->conn, purge_tx, &j);
	st->drv->unlock(st->conn, "sealdrop_purge");
	free(j.old);
	if (rc == SD_OK)
		*purged = j.purged;
	return rc;
}

/* ---- message requests --------------------------------------------------- */

static const char *const req_status_names[] = {
    [SD_REQ_PENDING] = "pending",
    [SD_REQ_ACCEPTED] = "accepted",
    [SD_REQ_REJECTED] = "rejected",
};

static enum sd_req_status req_status_parse(const char *s)
{
	if (s != NULL && strcmp(s, "accepted") == 0)
		return SD_REQ_ACCEPTED;
	if (s != NULL && strcmp(s, "rejected") == 0)
		return SD_REQ_REJECTED;
	return SD_REQ_PENDING;
}

struct req_open_job {
	const struct sd_driver *drv;
	const char *from, *to, *nickname, *caller;
	int verified;
	time_t now;
	const struct sd_limits *lim;
	int64_t id;
	enum sd_req_status status;
	int existing, existing_verified, created;
};

/* Of the requests from -> to, the one that decides: accepted before
 * pending before rejected, the newest of each. A rejection of a merely
 * claimed request does not bind a sender who proves it owns `from`: that
 * may have been someone else using its name. */
static int req_find_row(void *p, const struct sd_row *r)
{
	struct req_open_job *j = p;
	enum sd_req_status s = req_status_parse(r->v[1]);
	int proven = sd_row_i64(r, 2) != 0;
	static const int rank[] = {
	    [SD_REQ_ACCEPTED] = 3, [SD_REQ_PENDING] = 2, [SD_REQ_REJECTED] = 1};

	if (j->verified && s == SD_REQ_REJECTED && !proven)
		return 0;
	if (!j->existing || rank[s] > rank[j->status]) {
		j->existing = 1;
		j->existing_verified = proven;
		j->status = s;
		j->id = sd_row_i64(r, 0);
	}
	return 0;
}

/* The request from -> to that decides, if any (req_find_row). */
static enum sd_err req_find(const struct on *o, struct req_open_job *j)
{
	j->id = 0;
	j->status = SD_REQ_PENDING;
	j->existing = j->existing_verified = 0;
	return run(o, SQ_REQ_FIND, ARGS(TXT(j->from), TXT(j->to)), req_find_row, j, NULL);
}

static enum sd_err req_open_tx(struct sd_conn *c, void *arg)
{
	struct req_open_job *j = arg;
	struct on o = {j->drv, c};
	struct sd_exec_result res = {0, 0};
	int64_t v, to_inbox = 0, from_caller = 0;
	enum sd_err rc;

	j->created = 0;
	/* Looked up first, without writing: the many concurrent copies of one
	 * request that find it stored write nothing, so on a cluster they
	 * cannot lose a conflict over the recipient's row. */
	if ((rc = req_find(&o, j)) != SD_OK)
		return rc;
	/* A new request: the recipient's row serialises requests to it, on
	 * every node of a cluster, so a request is stored once and its cap
	 * holds; then look again, behind whoever claimed it before us. */
	if (!j->existing &&
	    ((rc = inbox_claim(&o, j->to)) != SD_OK || (rc = req_find(&o, j)) != SD_OK))
		return rc;
	/* A proven sender takes over a pending request someone only claimed
	 * in its name, nickname and all. */
	if (j->existing && j->verified && !j->existing_verified && j->status == SD_REQ_PENDING)
		return run_changes(&o, SQ_REQ_SET_VERIFIED, ARGS(TXT(j->nickname), I64(j->id)), &v);
	if (j->existing)
		return SD_OK;
	if ((rc = run_int(&o, SQ_REQ_COUNT_TO, ARGS(TXT(j->to)), &to_inbox, NULL)) != SD_OK ||
	    (rc = run_int(&o, SQ_REQ_COUNT_CALLER, ARGS(TXT(j->caller)), &from_caller, NULL)) !=
	        SD_OK)
		return rc;
	if (to_inbox >= j->lim->requests_per_inbox || from_caller >= j->lim->requests_per_caller)
		return SD_ELIMIT;
	rc = run(&o, SQ_REQ_INSERT,
	         ARGS(TXT(j->from), TXT(j->to), TXT(j->nickname), I64(j->now), I64(j->now),
	              I64(j->verified != 0), TXT(j->caller)),
	         NULL, NULL, &res);
	j->id = res.last_id;
	j->created = rc == SD_OK;
	return rc;
}

enum sd_err store_msgreq_open(struct sd_store *st, const char *from, const char *to,
                              const char *nickname, int verified, const char *caller, time_t now,
                              const struct sd_limits *lim, int64_t *id, enum sd_req_status *status,
                              int *created)
{
	struct req_open_job j = {.drv = st->drv,
	                         .from = from,
	                         .to = to,
	                         .nickname = nickname ? nickname : "",
	                         .caller = caller ? caller : "",
	                         .verified = verified,
	                         .now = now,
	                         .lim = lim};
	enum sd_err rc = st->drv->write(st->conn, req_open_tx, &j);

	*id = j.id;
	*status = j.status;
	*created = j.created;
	return rc;
}

struct req_list_ctx {
	sd_msgreq_cb cb;
	void *ctx;
};

static int req_row(void *p, const struct sd_row *r)
{
	struct req_list_ctx *l = p;
	struct sd_msgreq m;

	m.id = sd_row_i64(r, 0);
	m.from_link_token = r->v[1] != NULL ? r->v[1] : "";
	m.from_nickname = r->v[2] != NULL ? r->v[2] : "";
	m.created_at = (time_t)sd_row_i64(r, 3);
	m.verified = sd_row_i64(r, 4) != 0;
	return l->cb(l->ctx, &m);
}

enum sd_err store_msgreq_list(struct sd_store *st, const char *to, int64_t limit, sd_msgreq_cb cb,
                              void *ctx)
{
	struct on o = on_reader(st);
	struct req_list_ctx l = {cb, ctx};

	return run(&o, SQ_REQ_LIST_PENDING, ARGS(TXT(to), I64(limit)), req_row, &l, NULL);
}

struct req_answer_job {
	const struct sd_driver *drv;
	const char *to;
	int64_t id;
	int accept;
	time_t now;
	int found, mine;
	enum sd_req_status was;
};

static int req_get_row(void *p, const struct sd_row *r)
{
	struct req_answer_job *j = p;

	j->found = 1;
	j->mine = r->v[0] != NULL && strcmp(r->v[0], j->to) == 0;
	j->was = req_status_parse(r->v[1]);
	return 1;
}

static enum sd_err req_answer_tx(struct sd_conn *c, void *arg)
{
	struct req_answer_job *j = arg;
	struct on o = {j->drv, c};
	enum sd_req_status to = j->accept ? SD_REQ_ACCEPTED : SD_REQ_REJECTED;
	int64_t n = 0;
	enum sd_err rc;

	j->found = j->mine = 0;
	j->was = SD_REQ_PENDING;
	if ((rc = run(&o, SQ_REQ_GET, ARGS(I64(j->id)), req_get_row, j, NULL)) != SD_OK)
		return rc;
	if (!j->found)
		return SD_ENOTFOUND;
	if (!j->mine)
		return SD_EFORBIDDEN;
	if (j->was != SD_REQ_PENDING)
		return SD_ECONFLICT;
	rc = run_changes(&o, SQ_REQ_SET_STATUS,
	                 ARGS(TXT(req_status_names[to]), I64(j->now), I64(j->id)), &n);
	return rc != SD_OK ? rc : n == 1 ? SD_OK : SD_ECONFLICT;
}

enum sd_err store_msgreq_answer(struct sd_store *st, const char *to, int64_t id, int accept,
                                time_t now, enum sd_req_status *was)
{
	struct req_answer_job j = {
	    .drv = st->drv, .to = to, .id = id, .accept = accept, .now = now};
	enum sd_err rc = st->drv->write(st->conn, req_answer_tx, &j);

	*was = j.was;
	return rc;
}

enum sd_err store_msgreq_allowed(struct sd_store *st, const char *from, const char *to)
{
	struct on o = on_reader(st);
	int64_t v;
	int found;
	enum sd_err rc = run_int(&o, SQ_REQ_ALLOWED, ARGS(TXT(from), TXT(to)), &v, &found);

	return rc != SD_OK ? rc : found ? SD_OK : SD_ENOTFOUND;
}
