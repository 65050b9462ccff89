/* The purge thread. It opens a store connection of its own for each round
 * and closes it after, so it holds none (SQLite: the schema, statements
 * and page cache; MariaDB: a server thread) in the minute between two
 * rounds, and a database that is down at start-up or goes away later
 * costs a purge round, never the server. */
#include "server/purge.h"

#include <errno.h>
#include <time.h>

#include "core/log.h"
#include "core/metrics.h"
#include "server/pause.h"
#include "store/store.h"

#define PURGE_INTERVAL_SECONDS 60
#define SECONDS_PER_DAY        86400

/* Receipts past SEALDROP_RECEIPT_DAYS, in batches like messages. Closes
 * *st on a failure. */
static void receipts_round(struct purger *p, struct sd_store **st, time_t now)
{
	time_t cutoff = now - (time_t)p->cfg->limits.receipt_days * SECONDS_PER_DAY;
	int64_t purged = 0, total = 0;

	do {
		if (store_receipts_purge(*st, cutoff, &purged) != SD_OK) {
			store_close(*st);
			*st = NULL;
			return;
		}
		total += purged;
	} while (purged == SD_PURGE_BATCH && !*p->stop);
	if (total > 0)
		sd_log_info("purge: removed %lld receipts past retention", (long long)total);
}

/* The release of receipt statuses, when it is due (the store decides, for
 * every instance on the database). Closes *st on a failure. */
static void release_round(struct purger *p, struct sd_store **st, time_t now)
{
	int64_t rows = 0;

	if (store_receipts_release(*st, now, p->cfg->limits.status_interval, &rows) != SD_OK) {
		store_close(*st);
		*st = NULL;
	}
}

/* Seconds between two wakes: the purge's minute, or a quarter of the
 * release interval when that is shorter, so a release comes soon after it
 * is due. */
static time_t wake_interval(const struct purger *p)
{
	int64_t i = p->cfg->limits.status_interval / 4;

	return i < 1 ? 1 : i < PURGE_INTERVAL_SECONDS ? (time_t)i : PURGE_INTERVAL_SECONDS;
}

/* One round: batches of SD_PURGE_BATCH, each its own transaction, until a
 * batch comes back short, so a large purge never holds the database long.
 * Closes *st on a failure so the next round reconnects. */
static void purge_round(struct purger *p, struct sd_store **st, time_t now)
{
	time_t cutoff = p->cfg->limits.retention_days > 0
	                    ? now - (time_t)p->cfg->limits.retention_days * SECONDS_PER_DAY
	                    : 0;
	int64_t purged = 0, total = 0;
	int ok = 1;

	do {
		if (store_purge(*st, now, cutoff, &purged) != SD_OK) {
			store_close(*st);
			*st = NULL;
			ok = 0;
			break;
		}
		total += purged;
	} while (purged == SD_PURGE_BATCH && !*p->stop);
	sd_metrics_purge_round(ok, total);
	if (total > 0)
		sd_log_info("purge: removed %lld messages past retention", (long long)total);
	if (ok)
		receipts_round(p, st, now);
}

static void *purge_run(void *arg)
{
	struct purger *p = arg;
	struct sd_store *st = NULL;
	char err[256];
	time_t next_purge = 0; /* releases may come more often than purges */

	pthread_mutex_lock(&p->mu);
	while (!*p->stop) {
		time_t now = time(NULL);

		pthread_mutex_unlock(&p->mu);
		if (store_open(p->cfg->db, p->cfg, &st, err, sizeof err) != SD_OK)
			st = NULL;
		if (st != NULL && now >= next_purge) {
			purge_round(p, &st, now);
			next_purge = now + PURGE_INTERVAL_SECONDS;
		}
		if (st != NULL)
			release_round(p, &st, now);
		store_close(st);
		st = NULL;
		pthread_mutex_lock(&p->mu);
		pause_unless_stopped(&p->mu, &p->cv, p->stop, wake_interval(p));
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int purger_start(struct purger *p, const struct sd_config *cfg, volatile sig_atomic_t *stop)
{
	p->cfg = cfg;
	p->stop = stop;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	return pthread_create(&p->tid, NULL, purge_run, p) == 0 ? 0 : -1;
}

void purger_stop(struct purger *p)
{
	pthread_mutex_lock(&p->mu);
	*p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void purger_join(struct purger *p)
{
	pthread_join(p->tid, NULL);
}
