/* What every file of store operations shares (not part of the store's
 * interface): the handle, where a statement runs, argument macros and the
 * one path every statement takes. Operations are grouped by concern, one
 * file each (store.c: inboxes, messages, challenges, requests). */
#ifndef SD_STORE_OPS_H
#define SD_STORE_OPS_H

#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/metrics.h"
#include "store/driver.h"
#include "store/store.h"

struct sd_store {
	const struct sd_driver *drv;
	struct sd_conn *conn;
};

/* Where a statement runs: the driver, and the connection it was handed. */
struct on {
	const struct sd_driver *drv;
	struct sd_conn *c;
};

#define ARGV(...) ((const struct sd_arg[]){__VA_ARGS__})
#define ARGC(...) ((int)SD_ARRAY_LEN(ARGV(__VA_ARGS__)))
#define ARGS(...) ARGV(__VA_ARGS__), ARGC(__VA_ARGS__)
#define I64(v)    sd_arg_i64((int64_t)(v))
#define TXT(s)    sd_arg_text(s)

/* Copy column i into dst (cut to cap-1 bytes), "" for NULL. */
static inline void row_copy(const struct sd_row *r, int i, char *dst, size_t cap)
{
	size_t n = i < r->ncols && r->v[i] != NULL ? r->len[i] : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, r->v[i], n);
	dst[n] = '\0';
}

/* Every statement of every operation goes through here: the one place a
 * fault-injection build makes the N-th call fail. */
static inline enum sd_err run(const struct on *o, enum sd_stmt q, const struct sd_arg *a, int n,
                              sd_row_cb cb, void *ctx, struct sd_exec_result *res)
{
	enum sd_err rc;

	if (sd_fault_hit(SD_FAULT_STORE))
		return SD_EDB;
	rc = o->drv->exec(o->c, q, a, n, cb, ctx, res);
	sd_metrics_store_error(rc);
	return rc;
}

static inline enum sd_err run_changes(const struct on *o, enum sd_stmt q, const struct sd_arg *a,
                                      int n, int64_t *changes)
{
	struct sd_exec_result res = {0, 0};
	enum sd_err rc = run(o, q, a, n, NULL, NULL, &res);

	*changes = res.changes;
	return rc;
}

struct first_int {
	int found;
	int64_t v;
};

static inline int first_int_row(void *p, const struct sd_row *r)
{
	struct first_int *f = p;

	f->found = 1;
	f->v = sd_row_i64(r, 0);
	return 1;
}

/* The first column of the first row: *found 0 when there is no row. */
static inline enum sd_err run_int(const struct on *o, enum sd_stmt q, const struct sd_arg *a, int n,
                                  int64_t *v, int *found)
{
	struct first_int f = {0, 0};
	enum sd_err rc = run(o, q, a, n, first_int_row, &f, NULL);

	*v = f.v;
	if (found != NULL)
		*found = f.found;
	return rc;
}

static inline struct on on_reader(struct sd_store *st)
{
	return (struct on){st->drv, st->conn};
}

/* A write that is one statement (fn runs exactly one). Where a lone
 * statement commits by itself it runs so, retried like write() after a
 * lost conflict; elsewhere through write(). */
static inline enum sd_err write_lone(struct sd_store *st, sd_write_fn fn, void *arg)
{
	if (st->drv->write_lone == NULL)
		return st->drv->write(st->conn, fn, arg);
	return st->drv->write_lone(st->conn, fn, arg);
}

/* Serialise this transaction with every other that claims or writes the
 * inbox's row: a write (row_version + 1), because on a Galera cluster a
 * row lock holds on one node only, while two writes of one row conflict
 * at certification and one of them runs again. SD_ENOTFOUND: no inbox. */
static inline enum sd_err inbox_claim(const struct on *o, const char *link)
{
	int64_t n = 0;
	enum sd_err rc = run_changes(o, SQ_CLIENT_CLAIM, ARGS(TXT(link)), &n);

	return rc != SD_OK ? rc : n == 1 ? SD_OK : SD_ENOTFOUND;
}

/* receipts.c: what message writes (store.c) do to receipts, inside their
 * own transaction. */

/* Before a message with m->receipt_id and m->answer is inserted: the
 * answered receipt's row and thread in this inbox (*key, *thread), or
 * SD_ENOTFOUND. Without answer: *key = *thread = 0. */
enum sd_err receipt_thread_of(const struct on *o, const char *link, const struct sd_msg_new *m,
                              int64_t *key, int64_t *thread);

/* After message msg_id was inserted: a new receipt (m->receipt_id taken:
 * SD_ECONFLICT) whose thread it opens, or the answered receipt `key`
 * touched; then its status row. */
enum sd_err receipt_attach(const struct on *o, const char *link, const struct sd_msg_new *m,
                           int64_t msg_id, int64_t key, time_t now);

/* Message msg_id was read, deleted or expired: its status row (if any)
 * says so, pending release. */
enum sd_err receipt_status_set(const struct on *o, int64_t msg_id, enum sd_rcpt_status s);

/* The inbox is being erased: its receipts, statuses and replies go too. */
enum sd_err receipts_erase_inbox(const struct on *o, const char *link);

#endif
