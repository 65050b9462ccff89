/* Webhooks and their outbox: the owner's notification URL, and the at most
 * one pending ping per inbox that senders claim, deliver and retry. */
#include <stdio.h>

#include "store/ops.h"

#define DUE_BATCH 8 /* pings looked at per claim: others may win some */

enum sd_err webhook_enqueue_tx(const struct on *o, const char *link, time_t now,
                               const struct sd_limits *lim)
{
	int64_t n = 0;

	return run_changes(o, SQ_HOOK_ENQUEUE,
	                   ARGS(I64(lim->webhook_interval), I64(now), I64(now), TXT(link)), &n);
}

/* Whether a send must enqueue pings, on the inbox row (a write, which
 * serialises with sends and with an erase like inbox_claim). SD_ENOTFOUND:
 * no inbox. */
static enum sd_err inbox_flag_webhook(const struct on *o, const char *link, int on)
{
	int64_t n = 0;
	enum sd_err rc = run_changes(o, SQ_CLIENT_HOOK_FLAG, ARGS(I64(on), TXT(link)), &n);

	return rc != SD_OK ? rc : n == 1 ? SD_OK : SD_ENOTFOUND;
}

/* Rows are locked in one order by every transaction that writes both:
 * the webhook, then its outbox row (a send's enqueue reads the webhook with
 * a lock, then writes the outbox row). The other order could deadlock with
 * a send. */
enum sd_err webhook_forget_tx(const struct on *o, const char *link)
{
	int64_t n = 0;
	enum sd_err rc = run_changes(o, SQ_HOOK_DELETE, ARGS(TXT(link)), &n);

	return rc != SD_OK ? rc : run_changes(o, SQ_HOOK_OUTBOX_DELETE, ARGS(TXT(link)), &n);
}

/* The webhook row first, for the sender's outcome transactions (above). */
static enum sd_err hook_lock(const struct on *o, const char *link)
{
	int64_t one = 0;
	int found = 0;

	return run_int(o, SQ_HOOK_LOCK, ARGS(TXT(link)), &one, &found);
}

struct hook_set_job {
	const struct sd_driver *drv;
	const char *link, *url, *kind;
	time_t now;
};

static enum sd_err hook_set_tx(struct sd_conn *c, void *arg)
{
	struct hook_set_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	enum sd_err rc;

	/* The inbox row first: an erase racing this either went before (no
	 * inbox) or waits and erases the webhook too. */
	if ((rc = inbox_flag_webhook(&o, j->link, 1)) != SD_OK ||
	    (rc = run_changes(&o, SQ_HOOK_SET,
	                      ARGS(TXT(j->link), TXT(j->url), TXT(j->kind), I64(j->now)), &n)) !=
	        SD_OK)
		return rc;
	return run_changes(&o, SQ_HOOK_OUTBOX_DELETE, ARGS(TXT(j->link)), &n);
}

enum sd_err store_webhook_set(struct sd_store *st, const char *link, const char *url,
                              const char *kind, time_t now)
{
	struct hook_set_job j = {st->drv, link, url, kind, now};

	return st->drv->write(st->conn, hook_set_tx, &j);
}

struct hook_link_job {
	const struct sd_driver *drv;
	const char *link;
};

static enum sd_err hook_clear_tx(struct sd_conn *c, void *arg)
{
	struct hook_link_job *j = arg;
	struct on o = {j->drv, c};
	enum sd_err rc = inbox_flag_webhook(&o, j->link, 0);

	/* No inbox, no webhook: nothing to clear, as before. */
	if (rc == SD_ENOTFOUND)
		rc = SD_OK;
	return rc != SD_OK ? rc : webhook_forget_tx(&o, j->link);
}

enum sd_err store_webhook_clear(struct sd_store *st, const char *link)
{
	struct hook_link_job j = {st->drv, link};

	return st->drv->write(st->conn, hook_clear_tx, &j);
}

static int hook_row(void *p, const struct sd_row *r)
{
	struct sd_webhook *w = p;

	row_copy(r, 0, w->url, sizeof w->url);
	row_copy(r, 1, w->kind, sizeof w->kind);
	w->failing = r->v[2] != NULL && strcmp(r->v[2], "failing") == 0;
	row_copy(r, 3, w->last_error, sizeof w->last_error);
	w->failed_at = (time_t)sd_row_i64(r, 4);
	w->last_sent_at = (time_t)sd_row_i64(r, 5);
	w->pending = r->v[6] != NULL;
	w->attempts = sd_row_i64(r, 6);
	w->due_at = (time_t)sd_row_i64(r, 7);
	return 1;
}

enum sd_err store_webhook_get(struct sd_store *st, const char *link, struct sd_webhook *out)
{
	struct on o = on_reader(st);
	enum sd_err rc;

	memset(out, 0, sizeof *out);
	out->url[0] = '\0';
	rc = run(&o, SQ_HOOK_GET, ARGS(TXT(link)), hook_row, out, NULL);
	return rc != SD_OK ? rc : out->url[0] != '\0' ? SD_OK : SD_ENOTFOUND;
}

struct due_list {
	int n;
	char link[DUE_BATCH][SD_LINK_TOKEN_MAX + 1];
};

static int due_row(void *p, const struct sd_row *r)
{
	struct due_list *d = p;

	if (d->n < DUE_BATCH)
		row_copy(r, 0, d->link[d->n++], sizeof d->link[0]);
	return d->n >= DUE_BATCH;
}

struct hook_claim_job {
	const struct sd_driver *drv;
	const char *link, *claim;
	time_t now;
	int64_t lease;
	int won;
};

static enum sd_err hook_claim_tx(struct sd_conn *c, void *arg)
{
	struct hook_claim_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;
	enum sd_err rc = run_changes(
	    &o, SQ_HOOK_CLAIM,
	    ARGS(TXT(j->claim), I64(j->now + j->lease), TXT(j->link), I64(j->now), I64(j->now)),
	    &n);

	j->won = rc == SD_OK && n == 1;
	return rc;
}

static int target_row(void *p, const struct sd_row *r)
{
	struct sd_webhook_job *job = p;

	row_copy(r, 0, job->url, sizeof job->url);
	row_copy(r, 1, job->kind, sizeof job->kind);
	job->attempts = sd_row_i64(r, 2);
	job->failing = r->v[3] != NULL && strcmp(r->v[3], "failing") == 0;
	return 1;
}

struct hook_drop_job {
	const struct sd_driver *drv;
	const struct sd_webhook_job *job;
};

static enum sd_err hook_drop_tx(struct sd_conn *c, void *arg)
{
	struct hook_drop_job *j = arg;
	struct on o = {j->drv, c};
	int64_t n = 0;

	return run_changes(&o, SQ_HOOK_DROP, ARGS(TXT(j->job->link), TXT(j->job->claim)), &n);
}

enum sd_err store_webhook_claim(struct sd_store *st, const char *claim, time_t now, int64_t lease,
                                struct sd_webhook_job *job)
{
	struct on o = on_reader(st);
	struct due_list d = {0};
	enum sd_err rc;

	if ((rc = run(&o, SQ_HOOK_DUE, ARGS(I64(now), I64(now), I64(DUE_BATCH)), due_row, &d,
	              NULL)) != SD_OK)
		return rc;
	for (int i = 0; i < d.n; i++) {
		struct hook_claim_job j = {st->drv, d.link[i], claim, now, lease, 0};
		struct hook_drop_job drop = {st->drv, job};

		/* A conditional write: of two instances claiming at once, one
		 * changes the row; the other finds it claimed and moves on. */
		if ((rc = write_lone(st, hook_claim_tx, &j)) != SD_OK)
			return rc;
		if (!j.won)
			continue;
		memset(job, 0, sizeof *job);
		snprintf(job->link, sizeof job->link, "%s", d.link[i]);
		snprintf(job->claim, sizeof job->claim, "%s", claim);
		if ((rc = run(&o, SQ_HOOK_TARGET, ARGS(TXT(job->link), TXT(claim)), target_row, job,
		              NULL)) != SD_OK)
			return rc;
		if (job->url[0] != '\0')
			return SD_OK;
		/* A ping without a webhook (none should outlive it): dropped, so
		 * it is not claimed again every lease. */
		if ((rc = write_lone(st, hook_drop_tx, &drop)) != SD_OK)
			return rc;
	}
	return SD_ENOTFOUND;
}

struct hook_done_job {
	const struct sd_driver *drv;
	const struct sd_webhook_job *job;
	const char *error;
	time_t now, next; /* delivered: when a dirty ping is due; failed: retry_at */
};

static enum sd_err hook_delivered_tx(struct sd_conn *c, void *arg)
{
	struct hook_done_job *j = arg;
	struct on o = {j->drv, c};
	const char *link = j->job->link, *claim = j->job->claim;
	int64_t n = 0, again = 0;
	enum sd_err rc;

	if ((rc = hook_lock(&o, link)) != SD_OK ||
	    (rc = run_changes(&o, SQ_HOOK_DONE, ARGS(TXT(link), TXT(claim)), &n)) != SD_OK)
		return rc;
	/* Still there: a message came after the claim, which this ping may
	 * not have announced; it waits for the next window. */
	if (n == 0 &&
	    (rc = run_changes(&o, SQ_HOOK_REQUEUE, ARGS(I64(j->next), TXT(link), TXT(claim)),
	                      &again)) != SD_OK)
		return rc;
	if (n == 0 && again == 0)
		return SD_OK; /* the claim was lost (expired, URL replaced): not ours */
	return run_changes(&o, SQ_HOOK_SENT, ARGS(I64(j->now), TXT(link)), &n);
}

enum sd_err store_webhook_delivered(struct sd_store *st, const struct sd_webhook_job *job,
                                    time_t now, int64_t interval)
{
	struct hook_done_job j = {st->drv, job, NULL, now, now + interval};

	return st->drv->write(st->conn, hook_delivered_tx, &j);
}

static enum sd_err hook_failed_tx(struct sd_conn *c, void *arg)
{
	struct hook_done_job *j = arg;
	struct on o = {j->drv, c};
	const char *link = j->job->link, *claim = j->job->claim;
	int64_t n = 0;
	enum sd_err rc;

	if ((rc = hook_lock(&o, link)) != SD_OK)
		return rc;
	if (j->next != 0)
		rc = run_changes(&o, SQ_HOOK_RETRY, ARGS(I64(j->next), TXT(link), TXT(claim)), &n);
	else
		rc = run_changes(&o, SQ_HOOK_DROP, ARGS(TXT(link), TXT(claim)), &n);
	if (rc != SD_OK || n == 0)
		return rc; /* n == 0: the claim was lost, the outcome is not ours */
	return run_changes(&o, j->next != 0 ? SQ_HOOK_FAILED : SQ_HOOK_FAILING,
	                   ARGS(TXT(j->error), I64(j->now), TXT(link)), &n);
}

enum sd_err store_webhook_failed(struct sd_store *st, const struct sd_webhook_job *job,
                                 const char *error, time_t now, time_t retry_at)
{
	struct hook_done_job j = {st->drv, job, error, now, retry_at};

	return st->drv->write(st->conn, hook_failed_tx, &j);
}
