/* The metrics listener (--metrics): GET /metrics in Prometheus's text
 * format on a socket of its own, a unix socket or a loopback TCP address,
 * never through the public nginx. One thread, one connection at a time. */
#ifndef SD_METRICS_LISTEN_H
#define SD_METRICS_LISTEN_H

#include <pthread.h>
#include <signal.h>

struct metrics_listener {
	int fd;                /* -1: not open */
	const char *unix_path; /* set for unix:PATH, unlinked at close */
	volatile sig_atomic_t *stop;
	pthread_t tid;
	int running;
};

/* Bind addr: unix:PATH (mode socket_mode), or IP:PORT where IP is in
 * 127.0.0.0/8 or is ::1 ([::1]:PORT), or localhost:PORT. Any other
 * address is refused. Before the privilege drop, like --listen. Returns 0,
 * or -1 with the reason on stderr. */
int metrics_listen_open(struct metrics_listener *m, const char *addr, int socket_mode);

/* Serve until *stop is set. Returns 0, or -1 when the thread could not be
 * started. */
int metrics_listen_start(struct metrics_listener *m, volatile sig_atomic_t *stop);

/* After *stop is set: wait for the thread, close the socket, remove a unix
 * socket's file. Safe on a listener never opened or started. */
void metrics_listen_close(struct metrics_listener *m);

#endif
