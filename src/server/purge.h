/* The purge thread: once a minute it drops expired challenges, messages
 * past a retention period and receipts past theirs; every quarter of
 * SEALDROP_STATUS_INTERVAL (at most a minute apart) it lets the store
 * release receipt statuses when due. */
#ifndef SD_PURGE_H
#define SD_PURGE_H

#include <pthread.h>
#include <signal.h>

#include "core/config.h"

struct purger {
	const struct sd_config *cfg;
	volatile sig_atomic_t *stop; /* shared with the workers */
	pthread_mutex_t mu;          /* guards the wait on cv against a missed wake */
	pthread_cond_t cv;
	pthread_t tid;
};

/* Start the thread. Returns 0, or -1 when it could not be created. */
int purger_start(struct purger *p, const struct sd_config *cfg, volatile sig_atomic_t *stop);

/* Set *stop and wake the thread from its wait between purges. */
void purger_stop(struct purger *p);

/* Wait for the thread to finish (after purger_stop). */
void purger_join(struct purger *p);

#endif
