/* The pool of FastCGI worker threads that share one listening socket. */
#ifndef SD_WORKERS_H
#define SD_WORKERS_H

#include <pthread.h>
#include <signal.h>

#include "core/config.h"
#include "server/fcgi_io.h"

struct worker_pool {
	struct sd_worker *workers;
	pthread_t *tids;
	struct fcgi_waitset waitset; /* the socket and the idle kept connections */
	int has_waitset;             /* waitset made: workers_join frees it */
	int started;                 /* threads running, to be joined */
};

/* Make listen_fd non-blocking and start cfg->threads workers that serve
 * until *stop is set. Returns 0 (pool->started may be below cfg->threads,
 * even 0), or -1 with the reason on stderr and no thread started. */
int workers_start(struct worker_pool *pool, const struct sd_config *cfg, int listen_fd,
                  volatile sig_atomic_t *stop);

/* Wait for every started worker (after *stop is set) and free the pool,
 * closing the kept connections still idle. */
void workers_join(struct worker_pool *pool);

#endif
