/* What the leader worker waits on: the listening socket and every idle
 * kept connection (nginx's upstream keepalive), in one epoll set. A kept
 * connection between requests is parked here and holds no thread; when it
 * becomes readable (its next request, or nginx closed it) the leader takes
 * it out and serves it like a newly accepted one. */
#ifndef SD_FCGI_WAITSET_H
#define SD_FCGI_WAITSET_H

#include <pthread.h>

struct fcgi_waitset {
	int epfd;
	int listen_fd;
	pthread_mutex_t leader_mu; /* held by the one worker waiting (the leader) */
	pthread_mutex_t mu;        /* guards parked[] */
	unsigned char *parked;     /* parked[fd]: fd is an idle kept connection here */
	int cap;                   /* only fds below this are parked */
};

/* Returns 0, or -1 with errno set and nothing to free. */
int fcgi_waitset_init(struct fcgi_waitset *ws, int listen_fd);

/* Wait up to timeout_ms. Returns listen_fd when a connection is waiting
 * there, a kept connection's fd (now out of the set, owned by the caller)
 * when it is readable, or -1 when nothing came. Only with leader_mu held. */
int fcgi_waitset_wait(struct fcgi_waitset *ws, int timeout_ms);

/* Park an idle kept connection until it is readable. Returns 0, or -1 when
 * it cannot be watched (the caller then closes it). Any thread. */
int fcgi_waitset_park(struct fcgi_waitset *ws, int fd);

/* Close every parked connection and the set (after the workers stopped).
 * At once, not at exit: the other threads may take seconds to stop, and
 * nginx would send requests into a kept connection nobody reads. */
void fcgi_waitset_free(struct fcgi_waitset *ws);

#endif
