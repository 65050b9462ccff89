/* Receipts, their statuses and the owner's replies (store.h, "receipts").
 * Writes to one inbox's receipts serialise by its row (inbox_claim, or the
 * reservation a message insert makes), on every node of a cluster. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/ops.h"
#include "store/store.h"

static const char *const status_names[] = {
    [SD_RCPT_STORED] = "stored",
    [SD_RCPT_READ] = "read",
    [SD_RCPT_DELETED] = "deleted",
    [SD_RCPT_EXPIRED] = "expired",
};

const char *store_receipt_status_name(enum sd_rcpt_status s)
{
	return (unsigned)s < SD_ARRAY_LEN(status_names) ? status_names[s] : "stored";
}

static enum sd_rcpt_status status_of(int64_t v)
{
	return v >= SD_RCPT_STORED && v <= SD_RCPT_EXPIRED ? (enum sd_rcpt_status)v
	                                                   : SD_RCPT_STORED;
}

/* ---- inside message writes (ops.h) ---------------------------------------- */

static int receipt_row(void *p, const struct sd_row *r)
{
	struct sd_receipt *out = p;

	out->key = sd_row_i64(r, 0);
	row_copy(r, 1, out->link_token, sizeof out->link_token);
	out->thread_id = sd_row_i64(r, 2);
	out->created_at = (time_t)sd_row_i64(r, 3);
	out->released_at = (time_t)sd_row_i64(r, 4);
	return 1;
}

enum sd_err receipt_thread_of(const struct on *o, const char *link, const struct sd_msg_new *m,
                              int64_t *key, int64_t *thread)
{
	struct sd_receipt r = {0};
	enum sd_err rc;

	*key = *thread = 0;
	if (m->receipt_id == NULL || !m->answer)
		return SD_OK;
	if ((rc = run(o, SQ_RCPT_GET, ARGS(TXT(m->receipt_id)), receipt_row, &r, NULL)) != SD_OK)
		return rc;
	/* The handler found it in this inbox; erased meanwhile, it is gone. */
	if (r.key == 0 || strcmp(r.link_token, link) != 0)
		return SD_ENOTFOUND;
	*key = r.key;
	*thread = r.thread_id;
	return SD_OK;
}

enum sd_err receipt_attach(const struct on *o, const char *link, const struct sd_msg_new *m,
                           int64_t msg_id, int64_t key, time_t now)
{
	struct sd_exec_result res = {0, 0};
	int64_t n = 0;
	enum sd_err rc;

	if (m->receipt_id == NULL)
		return SD_OK;
	if (!m->answer) {
		/* A receipt id in use is a unique key violation: SD_ECONFLICT,
		 * and the whole send rolls back. */
		if ((rc = run(o, SQ_RCPT_INSERT,
		              ARGS(TXT(m->receipt_id), TXT(link), I64(msg_id), I64(now), I64(now),
		                   I64(now)),
		              NULL, NULL, &res)) != SD_OK ||
		    (rc = run_changes(o, SQ_MSG_SET_THREAD, ARGS(I64(msg_id), I64(msg_id)), &n)) !=
		        SD_OK)
			return rc;
		key = res.last_id;
	} else {
		/* Erased by retention since receipt_thread_of: nothing to join. */
		if ((rc = run_changes(o, SQ_RCPT_TOUCH, ARGS(I64(now), I64(key)), &n)) != SD_OK)
			return rc;
		if (n != 1)
			return SD_ENOTFOUND;
	}
	return run_changes(o, SQ_RCPT_STATUS_INSERT, ARGS(I64(msg_id), I64(key), I64(now)), &n);
}

enum sd_err receipt_status_set(const struct on *o, int64_t msg_id, enum sd_rcpt_status s)
{
	int64_t n = 0;

	/* Only forward (stored, read, then deleted or expired). */
	return run_changes(o, SQ_RCPT_STATUS_SET, ARGS(I64(s), I64(msg_id), I64(s)), &n);
}

enum sd_err receipts_erase_inbox(const struct on *o, const char *link)
{
	int64_t n = 0;
	enum sd_err rc;

	if ((rc = run_changes(o, SQ_CLIENT_DELETE_RCPT_STATUSES, ARGS(TXT(link)), &n)) != SD_OK ||
	    (rc = run_changes(o, SQ_CLIENT_DELETE_REPLIES, ARGS(TXT(link)), &n)) != SD_OK)
		return rc;
	return run_changes(o, SQ_CLIENT_DELETE_RECEIPTS, ARGS(TXT(link)), &n);
}

/* ---- reading ---------------------------------------------------------------- */

enum sd_err store_receipt_get(struct sd_store *st, const char *receipt_id, struct sd_receipt *out)
{
	struct on o = on_reader(st);
	enum sd_err rc;

	memset(out, 0, sizeof *out);
	rc = run(&o, SQ_RCPT_GET, ARGS(TXT(receipt_id)), receipt_row, out, NULL);
	return rc != SD_OK ? rc : out->key != 0 ? SD_OK : SD_ENOTFOUND;
}

struct rmsg_list {
	sd_receipt_msg_cb cb;
	void *ctx;
};

static int rmsg_row(void *p, const struct sd_row *r)
{
	struct rmsg_list *l = p;
	struct sd_receipt_msg m;

	m.id = sd_row_i64(r, 0);
	m.status = status_of(sd_row_i64(r, 1));
	m.created_at = (time_t)sd_row_i64(r, 2);
	return l->cb(l->ctx, &m);
}

enum sd_err store_receipt_messages(struct sd_store *st, int64_t key, int64_t limit,
                                   sd_receipt_msg_cb cb, void *ctx)
{
	struct on o = on_reader(st);
	struct rmsg_list l = {cb, ctx};

	return run(&o, SQ_RCPT_STATUSES, ARGS(I64(key), I64(limit)), rmsg_row, &l, NULL);
}

struct reply_list {
	sd_reply_cb cb;
	void *ctx;
};

static int reply_row(void *p, const struct sd_row *r)
{
	struct reply_list *l = p;
	struct sd_reply m;

	if (r->v[1] == NULL)
		return 0;
	m.id = sd_row_i64(r, 0);
	m.encrypted_reply = r->v[1];
	m.encrypted_len = r->len[1];
	m.created_at = (time_t)sd_row_i64(r, 2);
	return l->cb(l->ctx, &m);
}

enum sd_err store_receipt_replies(struct sd_store *st, int64_t key, int64_t limit, sd_reply_cb cb,
                                  void *ctx)
{
	struct on o = on_reader(st);
	struct reply_list l = {cb, ctx};

	return run(&o, SQ_RCPT_REPLIES, ARGS(I64(key), I64(limit)), reply_row, &l, NULL);
}

/* ---- replies ------------------------------------------------------------------ */

struct reply_job {
	const struct sd_driver *drv;
	const char *link, *text;
	int64_t msg_id;
	const struct sd_limits *lim;
	time_t now;
	int64_t id;
};

struct thread_receipt {
	int found;
	int64_t key, replies;
};

static int thread_receipt_row(void *p, const struct sd_row *r)
{
	struct thread_receipt *t = p;

	t->found = 1;
	t->key = sd_row_i64(r, 0);
	t->replies = sd_row_i64(r, 1);
	return 1;
}

static enum sd_err reply_insert_tx(struct sd_conn *c, void *arg)
{
	struct reply_job *j = arg;
	struct on o = {j->drv, c};
	struct sd_exec_result res = {0, 0};
	struct thread_receipt t = {0, 0, 0};
	int64_t thread = 0, in_inbox = 0, n;
	int found = 0;
	enum sd_err rc;

	j->id = 0;
	/* Every reply of this inbox waits here for the one before: the caps
	 * below are counted behind it, on every node of a cluster. */
	if ((rc = inbox_claim(&o, j->link)) != SD_OK)
		return rc;
	if ((rc = run_int(&o, SQ_MSG_THREAD, ARGS(I64(j->msg_id), TXT(j->link)), &thread,
	                  &found)) != SD_OK)
		return rc;
	if (!found)
		return SD_ENOTFOUND;
	if (thread == 0)
		return SD_ECONFLICT;
	if ((rc = run(&o, SQ_RCPT_BY_THREAD, ARGS(TXT(j->link), I64(thread)), thread_receipt_row,
	              &t, NULL)) != SD_OK)
		return rc;
	if (!t.found)
		return SD_ECONFLICT;
	if ((rc = run_int(&o, SQ_REPLY_COUNT_LINK, ARGS(TXT(j->link)), &in_inbox, NULL)) != SD_OK)
		return rc;
	if (t.replies >= j->lim->replies_per_receipt || in_inbox >= j->lim->replies_per_inbox)
		return SD_ELIMIT;
	/* The per-receipt cap is checked again inside the write that counts
	 * the reply, on the receipt's own row, so check and count are one
	 * step: a 3-node Galera run once stored one reply past the cap with
	 * the count read above alone. */
	if ((rc = run_changes(&o, SQ_RCPT_REPLIED,
	                      ARGS(I64(j->now), I64(t.key), I64(j->lim->replies_per_receipt)),
	                      &n)) != SD_OK)
		return rc;
	if (n != 1) {
		/* At the cap, or erased by retention meanwhile. */
		t.found = 0;
		if ((rc = run(&o, SQ_RCPT_BY_THREAD, ARGS(TXT(j->link), I64(thread)),
		              thread_receipt_row, &t, NULL)) != SD_OK)
			return rc;
		return t.found ? SD_ELIMIT : SD_ECONFLICT;
	}
	if ((rc =
	         run(&o, SQ_REPLY_INSERT, ARGS(I64(t.key), TXT(j->link), TXT(j->text), I64(j->now)),
	             NULL, NULL, &res)) != SD_OK)
		return rc;
	j->id = res.last_id;
	return SD_OK;
}

enum sd_err store_reply_insert(struct sd_store *st, const char *link, int64_t msg_id,
                               const char *encrypted_b64, const struct sd_limits *lim, time_t now,
                               int64_t *id)
{
	struct reply_job j = {st->drv, link, encrypted_b64, msg_id, lim, now, 0};
	enum sd_err rc = st->drv->write(st->conn, reply_insert_tx, &j);

	*id = j.id;
	return rc;
}

/* ---- release and retention ------------------------------------------------------ */

struct release_job {
	const struct sd_driver *drv;
	time_t now, next_at, latest;
	int claimed;
	int64_t rows, last_id, released;
};

static int pending_row(void *p, const struct sd_row *r)
{
	struct release_job *j = p;

	j->rows++;
	j->last_id = sd_row_i64(r, 0);
	return 0;
}

/* The next SD_PURGE_BATCH pending status rows, shown. */
static enum sd_err release_batch(const struct on *o, struct release_job *j)
{
	int64_t n = 0;
	enum sd_err rc;

	j->rows = j->last_id = 0;
	if ((rc = run(o, SQ_RCPT_PENDING, ARGS(I64(SD_PURGE_BATCH)), pending_row, j, NULL)) !=
	        SD_OK ||
	    j->rows == 0)
		return rc;
	if ((rc = run_changes(o, SQ_RCPT_RELEASE_MARK, ARGS(I64(j->now), I64(j->last_id)), &n)) !=
	    SD_OK)
		return rc;
	return run_changes(o, SQ_RCPT_RELEASE, ARGS(I64(j->last_id)), &n);
}

/* The claim of the schedule and, when it is due, the first batch: one
 * transaction, so a release either happened before a change or the change
 * waits for the next one (the usual release is this one transaction). */
static enum sd_err release_claim_tx(struct sd_conn *c, void *arg)
{
	struct release_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	enum sd_err rc;

	j->claimed = 0;
	j->rows = 0;
	/* One row decides for every instance: the first to move next_at on
	 * releases; the others find it moved (a write conflict on a cluster,
	 * after which this runs again and finds it moved). A schedule further
	 * off than this interval allows was set under a longer one (or by a
	 * wrong clock): due, so a shorter interval takes effect at once. */
	rc = run_changes(&o, SQ_RCPT_RELEASE_CLAIM,
	                 ARGS(I64(j->next_at), I64(j->now), I64(j->latest)), &n);
	if (rc != SD_OK || n != 1)
		return rc;
	j->claimed = 1;
	return release_batch(&o, j);
}

static enum sd_err release_batch_tx(struct sd_conn *c, void *arg)
{
	struct release_job *j = arg;
	struct on o = {j->drv, c};

	return release_batch(&o, j);
}

enum sd_err store_receipts_release(struct sd_store *st, time_t now, int64_t interval,
                                   int64_t *released)
{
	struct release_job j = {.drv = st->drv, .now = now};
	enum sd_err rc;

	*released = -1;
	if (interval < 1)
		interval = 1;
	/* The delay hides even the release's own schedule. */
	j.next_at = now + interval + (time_t)randombytes_uniform((uint32_t)(interval / 2 + 1));
	j.latest = now + interval + interval / 2;
	if ((rc = st->drv->write(st->conn, release_claim_tx, &j)) != SD_OK || !j.claimed)
		return rc;
	/* More than a batch: the rest in batches, one after another within
	 * moments. On a cluster every transaction is a write-set each node
	 * applies, so none may grow with the number of pending changes. A row
	 * that changes meanwhile goes with a later batch of this release, as
	 * if it had come a moment earlier; a failure part-way leaves the rest
	 * to the next release. */
	j.released = j.rows;
	while (j.rows == SD_PURGE_BATCH) {
		if ((rc = st->drv->write(st->conn, release_batch_tx, &j)) != SD_OK)
			break;
		j.released += j.rows;
	}
	*released = j.released;
	return rc;
}

struct rcpt_purge_job {
	const struct sd_driver *drv;
	time_t cutoff;
	int64_t ids[SD_PURGE_BATCH];
	size_t n;
	int64_t purged;
};

static int old_receipt_row(void *p, const struct sd_row *r)
{
	struct rcpt_purge_job *j = p;

	if (j->n == SD_PURGE_BATCH)
		return 1;
	j->ids[j->n++] = sd_row_i64(r, 0);
	return 0;
}

static enum sd_err rcpt_purge_tx(struct sd_conn *c, void *arg)
{
	struct rcpt_purge_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	enum sd_err rc;

	j->n = 0;
	j->purged = 0;
	if ((rc = run(&o, SQ_RCPT_OLD, ARGS(I64(j->cutoff), I64(SD_PURGE_BATCH)), old_receipt_row,
	              j, NULL)) != SD_OK)
		return rc;
	/* The receipt row first, and only if still inactive: a reply or an
	 * answer that touched it meanwhile keeps it (and they find it gone
	 * otherwise, their touch changing no row). */
	for (size_t i = 0; i < j->n; i++) {
		if ((rc = run_changes(&o, SQ_RCPT_DELETE_OLD, ARGS(I64(j->ids[i]), I64(j->cutoff)),
		                      &n)) != SD_OK)
			return rc;
		if (n != 1)
			continue;
		if ((rc = run_changes(&o, SQ_RCPT_DELETE_STATUSES, ARGS(I64(j->ids[i])), &n)) !=
		        SD_OK ||
		    (rc = run_changes(&o, SQ_RCPT_DELETE_REPLIES, ARGS(I64(j->ids[i])), &n)) !=
		        SD_OK)
			return rc;
		j->purged++;
	}
	return SD_OK;
}

enum sd_err store_receipts_purge(struct sd_store *st, time_t cutoff, int64_t *purged)
{
	struct rcpt_purge_job *j = calloc(1, sizeof *j);
	enum sd_err rc;

	*purged = 0;
	if (j == NULL)
		return SD_ENOMEM;
	j->drv = st->drv;
	j->cutoff = cutoff;
	rc = st->drv->write(st->conn, rcpt_purge_tx, j);
	if (rc == SD_OK)
		*purged = j->purged;
	free(j);
	return rc;
}
