/* The leader's wait set (fcgi_waitset.h). The listening socket is level
 * triggered and stays in the set; a kept connection is armed once
 * (EPOLLONESHOT), so exactly one leader takes it when it is readable and
 * it stays disarmed while a worker serves it, until parked again. */
#include "server/fcgi_waitset.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

/* A bound on the parked[] table when the descriptor limit is unlimited. */
#define WAITSET_FD_CAP (1 << 20)

int fcgi_waitset_init(struct fcgi_waitset *ws, int listen_fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = listen_fd};
	struct rlimit rl;

	ws->cap = WAITSET_FD_CAP;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < WAITSET_FD_CAP)
		ws->cap = (int)rl.rlim_cur;
	ws->listen_fd = listen_fd;
	ws->parked = calloc((size_t)ws->cap, 1);
	if (ws->parked == NULL)
		return -1;
	ws->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ws->epfd < 0 || epoll_ctl(ws->epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
		int e = errno;

		if (ws->epfd >= 0)
			close(ws->epfd);
		free(ws->parked);
		errno = e;
		return -1;
	}
	pthread_mutex_init(&ws->leader_mu, NULL);
	pthread_mutex_init(&ws->mu, NULL);
	return 0;
}

int fcgi_waitset_wait(struct fcgi_waitset *ws, int timeout_ms)
{
	struct epoll_event ev;
	int fd;

	if (epoll_wait(ws->epfd, &ev, 1, timeout_ms) != 1)
		return -1;
	fd = ev.data.fd;
	if (fd != ws->listen_fd) {
		pthread_mutex_lock(&ws->mu);
		ws->parked[fd] = 0;
		pthread_mutex_unlock(&ws->mu);
	}
	return fd;
}

int fcgi_waitset_park(struct fcgi_waitset *ws, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = fd};
	int rc;

	if (fd < 0 || fd >= ws->cap || fd == ws->listen_fd)
		return -1;
	/* Marked before it is armed: a leader may take it at once. */
	pthread_mutex_lock(&ws->mu);
	ws->parked[fd] = 1;
	pthread_mutex_unlock(&ws->mu);
	/* Re-armed if it was parked before; added if it is new from accept
	 * (a closed fd leaves the set, so a reused number is new too). */
	rc = epoll_ctl(ws->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (rc != 0 && errno == ENOENT)
		rc = epoll_ctl(ws->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (rc != 0) {
		pthread_mutex_lock(&ws->mu);
		ws->parked[fd] = 0;
		pthread_mutex_unlock(&ws->mu);
		return -1;
	}
	return 0;
}

void fcgi_waitset_free(struct fcgi_waitset *ws)
{
	for (int fd = 0; fd < ws->cap; fd++)
		if (ws->parked[fd])
			close(fd);
	close(ws->epfd);
	free(ws->parked);
	ws->parked = NULL;
	pthread_mutex_destroy(&ws->mu);
	pthread_mutex_destroy(&ws->leader_mu);
}
