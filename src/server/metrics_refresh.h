/* The metrics' periodic step: every --metrics-refresh seconds it reads the
 * inbox, message and byte totals (one scan, never per scrape), notes
 * whether the store answered, and for SQLite the free space of the
 * database's file system. */
#ifndef SD_METRICS_REFRESH_H
#define SD_METRICS_REFRESH_H

#include <pthread.h>
#include <signal.h>

#include "core/config.h"

struct metrics_refresh {
	const struct sd_config *cfg;
	volatile sig_atomic_t *stop; /* shared with the workers */
	pthread_mutex_t mu;          /* guards the wait on cv against a missed wake */
	pthread_cond_t cv;
	pthread_t tid;
	int running;
};

/* Start the thread (it refreshes at once, then every interval). Returns 0,
 * or -1 when it could not be created. */
int metrics_refresh_start(struct metrics_refresh *r, const struct sd_config *cfg,
                          volatile sig_atomic_t *stop);

/* Set *stop, wake the thread and wait for it. Safe when never started. */
void metrics_refresh_stop(struct metrics_refresh *r);

#endif
