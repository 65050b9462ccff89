/* The transport: FastCGI worker threads (libfcgi) and plain CGI. Both turn
 * the web server's request into a struct sd_req, run the router, and write
 * the struct sd_resp back. */
#ifndef SD_FCGI_IO_H
#define SD_FCGI_IO_H

#include <pthread.h>
#include <signal.h>

#include "core/config.h"
#include "server/fcgi_waitset.h"
#include "store/store.h"

struct sd_worker {
	int listen_fd;
	const struct sd_config *cfg;
	volatile sig_atomic_t *stop;
	struct fcgi_waitset *waitset; /* the socket and idle kept connections */
	struct sd_store *store;       /* opened by the worker; reopened after loss */
};

/* Thread body: accept and serve FastCGI requests until *stop is set; a
 * request in flight is always finished first. */
void *fcgi_worker_run(void *worker);

/* Serve the one CGI request described by the environment and stdin. */
int cgi_serve(struct sd_worker *w);

#endif
