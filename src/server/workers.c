/* Worker threads. Each owns its store connection and buffers and takes its
 * turn waiting on the shared socket and the idle kept connections
 * (fcgi_io.c, fcgi_waitset.c). The socket is non-blocking so a connection
 * another process took between the wait and accept costs a worker one more
 * round, instead of leaving it stuck in accept past a stop. */
#include "server/workers.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

int workers_start(struct worker_pool *pool, const struct sd_config *cfg, int listen_fd,
                  volatile sig_atomic_t *stop)
{
	pool->workers = NULL;
	pool->tids = NULL;
	pool->started = 0;
	pool->has_waitset = 0;
	if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) != 0) {
		perror("sealdropd: fcntl");
		return -1;
	}
	if (fcgi_waitset_init(&pool->waitset, listen_fd) != 0) {
		perror("sealdropd: epoll");
		return -1;
	}
	pool->has_waitset = 1;
	pool->workers = calloc((size_t)cfg->threads, sizeof *pool->workers);
	pool->tids = calloc((size_t)cfg->threads, sizeof *pool->tids);
	if (pool->workers == NULL || pool->tids == NULL) {
		fprintf(stderr, "sealdropd: out of memory\n");
		workers_join(pool);
		return -1;
	}
	for (int i = 0; i < cfg->threads; i++) {
		struct sd_worker *w = &pool->workers[i];

		w->listen_fd = listen_fd;
		w->cfg = cfg;
		w->stop = stop;
		w->waitset = &pool->waitset;
		if (pthread_create(&pool->tids[i], NULL, fcgi_worker_run, w) != 0)
			break;
		pool->started++;
	}
	return 0;
}

void workers_join(struct worker_pool *pool)
{
	for (int i = 0; i < pool->started; i++)
		pthread_join(pool->tids[i], NULL);
	if (pool->has_waitset)
		fcgi_waitset_free(&pool->waitset);
	pool->has_waitset = 0;
	free(pool->workers);
	free(pool->tids);
	pool->workers = NULL;
	pool->tids = NULL;
	pool->started = 0;
}
