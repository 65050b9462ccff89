/* The refresh thread has its own store connection, opened on first use and
 * reopened after a failure, like the purge thread: a database that is down
 * shows as sealdrop_store_up 0, never stops the server. Refreshing every
 * KEEP_BELOW seconds or more, it closes the connection after each refresh
 * rather than hold it (SQLite: schema, statements, page cache; MariaDB: a
 * server thread) for the wait. */
#include "server/metrics_refresh.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/disk.h"
#include "core/metrics.h"
#include "server/pause.h"
#include "store/store.h"

#define KEEP_BELOW 10 /* seconds between refreshes */

/* The free and total space of the file system holding the SQLite file. */
static void disk_space(const struct sd_config *cfg, struct sd_metrics_gauges *g)
{
	int64_t free_b, size_b;

	if (sd_sqlite_disk_space(cfg->db, &free_b, &size_b) != 0)
		return;
	g->disk_free_bytes = free_b;
	g->disk_size_bytes = size_b;
}

/* One refresh. Keeps the last totals when the store fails (store_up 0
 * says they are stale); closes *st then so the next round reconnects. */
static void refresh_once(const struct sd_config *cfg, struct sd_store **st,
                         struct sd_metrics_gauges *g)
{
	char err[256];
	int64_t inboxes, messages, bytes;

	g->store_up = 0;
	if (*st == NULL && store_open(cfg->db, cfg, st, err, sizeof err) != SD_OK)
		*st = NULL;
	if (*st != NULL) {
		if (store_totals(*st, &inboxes, &messages, &bytes) == SD_OK) {
			g->store_up = 1;
			g->inboxes = inboxes;
			g->messages = messages;
			g->stored_bytes = bytes;
			g->refreshed_at = time(NULL);
		} else {
			store_close(*st);
			*st = NULL;
		}
	}
	disk_space(cfg, g);
	sd_metrics_gauges_set(g);
}

static void *refresh_run(void *arg)
{
	struct metrics_refresh *r = arg;
	struct sd_metrics_gauges g = {0, -1, -1, -1, -1, -1, 0};
	struct sd_store *st = NULL;

	pthread_mutex_lock(&r->mu);
	while (!*r->stop) {
		pthread_mutex_unlock(&r->mu);
		refresh_once(r->cfg, &st, &g);
		if (r->cfg->metrics_refresh >= KEEP_BELOW) {
			store_close(st);
			st = NULL;
		}
		pthread_mutex_lock(&r->mu);
		pause_unless_stopped(&r->mu, &r->cv, r->stop, (time_t)r->cfg->metrics_refresh);
	}
	pthread_mutex_unlock(&r->mu);
	store_close(st);
	return NULL;
}

int metrics_refresh_start(struct metrics_refresh *r, const struct sd_config *cfg,
                          volatile sig_atomic_t *stop)
{
	r->cfg = cfg;
	r->stop = stop;
	r->running = 0;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->tid, NULL, refresh_run, r) != 0)
		return -1;
	r->running = 1;
	return 0;
}

void metrics_refresh_stop(struct metrics_refresh *r)
{
	if (!r->running)
		return;
	pthread_mutex_lock(&r->mu);
	*r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->tid, NULL);
	r->running = 0;
}
