#include "server/fcgi_io.h"

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/reply.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sd.h"
#include "core/num.h"
#include "core/timeutil.h"
#include "proto/limits.h"
#include "server/fcgi_stdout.h"
#include "server/fcgi_waitset.h"
#include "server/router.h"

/* The request parameters sealdropd reads, by their CGI names. */
enum param {
	P_PATH_INFO,
	P_DOCUMENT_URI,
	P_REQUEST_URI,
	P_REQUEST_METHOD,
	P_REMOTE_ADDR,
	P_HTTP_AUTHORIZATION,
	P_REQUEST_SCHEME,
	P_SERVER_NAME,
	P_SERVER_PORT,
	P_CONTENT_LENGTH,
	P_QUERY_STRING,
	P__COUNT
};

static const char *const param_names[P__COUNT] = {
    [P_PATH_INFO] = "PATH_INFO",           [P_DOCUMENT_URI] = "DOCUMENT_URI",
    [P_REQUEST_URI] = "REQUEST_URI",       [P_REQUEST_METHOD] = "REQUEST_METHOD",
    [P_REMOTE_ADDR] = "REMOTE_ADDR",       [P_HTTP_AUTHORIZATION] = "HTTP_AUTHORIZATION",
    [P_REQUEST_SCHEME] = "REQUEST_SCHEME", [P_SERVER_NAME] = "SERVER_NAME",
    [P_SERVER_PORT] = "SERVER_PORT",       [P_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [P_QUERY_STRING] = "QUERY_STRING",
};

/* How a transport reads its request and writes its answer. */
struct transport {
	const char *(*param)(void *t, enum param p);
	int (*read)(void *t, char *buf, int n); /* bytes read, 0 at end */
	/* The head, then the body (body_len 0: none), in one go. */
	void (*respond)(void *t, const char *head, size_t head_len, const char *body,
	                size_t body_len);
	void *t;
};

#define SD_RESP_KEEP (256 * 1024)

struct buffers {
	char body[SD_BODY_MAX + 1];
	struct sd_buf head;
	struct sd_resp resp;
};

static const char *request_path(const struct transport *tr, char *tmp, size_t cap)
{
	const char *p = tr->param(tr->t, P_PATH_INFO);
	size_t n;

	if (p != NULL && *p != '\0')
		return p;
	p = tr->param(tr->t, P_DOCUMENT_URI);
	if (p != NULL && *p != '\0')
		return p;
	p = tr->param(tr->t, P_REQUEST_URI);
	if (p == NULL)
		return "";
	n = strcspn(p, "?");
	if (n >= cap)
		n = cap - 1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return tmp;
}

/* Method names go to the log: keep them to short tokens. */
static const char *log_method(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 16 || strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != n)
		return "-";
	return m;
}

/* Open the worker's store if it has none (at start, or after a loss). */
static struct sd_store *worker_store(struct sd_worker *w)
{
	char err[256];

	if (w->store == NULL &&
	    store_open(w->cfg->db, w->cfg, &w->store, err, sizeof err) != SD_OK) {
		sd_log_error("store: %s", err);
		w->store = NULL;
	}
	return w->store;
}

static void serve(struct sd_worker *w, const struct transport *tr, struct buffers *bf)
{
	struct sd_req req;
	struct sd_ctx ctx;
	char pathbuf[2048];
	const char *cl, *why;
	int64_t start = sd_mono_usec(), want, usec;
	size_t got = 0;
	int truncated = 0;

	memset(&req, 0, sizeof req);
	req.method = tr->param(tr->t, P_REQUEST_METHOD);
	if (req.method == NULL)
		req.method = "";
	req.path = request_path(tr, pathbuf, sizeof pathbuf);
	req.query = tr->param(tr->t, P_QUERY_STRING);
	req.remote_addr = tr->param(tr->t, P_REMOTE_ADDR);
	req.authorization = tr->param(tr->t, P_HTTP_AUTHORIZATION);
	req.scheme = tr->param(tr->t, P_REQUEST_SCHEME);
	req.server_name = tr->param(tr->t, P_SERVER_NAME);
	req.server_port = tr->param(tr->t, P_SERVER_PORT);
	req.content_length = -1;
	cl = tr->param(tr->t, P_CONTENT_LENGTH);
	if (cl != NULL && *cl != '\0' &&
	    sd_strtoi64(cl, 0, INT64_MAX - 1, &req.content_length, &why) != 0)
		req.content_length = INT64_MAX - 1; /* unparseable: refused as too large */
	/* No CONTENT_LENGTH means no body (CGI/1.1; nginx always sets it for a
	 * body, even a chunked one, since it buffers requests). Reading stdin
	 * to its end instead could wait forever under a CGI server. */
	want = req.content_length >= 0 ? req.content_length : 0;
	if (want > SD_BODY_MAX)
		want = 0; /* declared too large: refused unread */
	while ((int64_t)got < want) {
		int n = tr->read(tr->t, bf->body + got, (int)(want - (int64_t)got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (req.content_length >= 0 && want > 0 && (int64_t)got < want)
		truncated = 1;
	bf->body[got] = '\0';
	req.body = bf->body;
	req.body_len = got;

	memset(&ctx, 0, sizeof ctx);
	ctx.req = &req;
	ctx.resp = &bf->resp;
	ctx.cfg = w->cfg;
	ctx.now = time(NULL);
	bf->resp.status = 500;
	bf->resp.allow = NULL;
	bf->resp.retry_after = 0;
	bf->resp.route = "-";
	bf->resp.accel_redirect[0] = '\0';
	sd_buf_reset(&bf->resp.body);
	if (truncated) {
		reply_error(&ctx, 400, "invalid_body", "Request body is shorter than declared");
	} else {
		ctx.store = worker_store(w); /* NULL: the router answers 503 */
		router_dispatch(&ctx);
	}
	/* Every path through the handlers sets a status; the initial 500 left
	 * in place is a bug (asserted in debug and sanitizer builds, still
	 * answered safely in release builds). */
	(void)SD_ALWAYS(bf->resp.status != 500);
	if (bf->resp.body.failed)
		reply_error(&ctx, 503, "out_of_memory", "The server is out of memory");
	sd_buf_reset(&bf->head);
	http_head(&bf->resp, &bf->head);
	if (bf->resp.status != 204 && strcmp(req.method, "HEAD") != 0)
		tr->respond(tr->t, bf->head.data, bf->head.len, bf->resp.body.data,
		            bf->resp.body.len);
	else
		tr->respond(tr->t, bf->head.data, bf->head.len, NULL, 0);
	usec = sd_mono_usec() - start;
	sd_log_request(log_method(req.method), bf->resp.route, bf->resp.status, usec);
	sd_metrics_request(bf->resp.route, bf->resp.status, usec);
	/* The buffer is kept between requests, but not at the size of a rare
	 * huge page of messages (200 x 16 KiB): each thread would hold it. */
	if (bf->resp.body.cap > SD_RESP_KEEP)
		sd_buf_free(&bf->resp.body);
}

/* ---- FastCGI --------------------------------------------------------- */

/* A FastCGI request with its parameters found in one pass over the
 * environment nginx sent (some thirty), instead of one scan per lookup. */
struct fcgi_req {
	FCGX_Request rq;
	const char *param[P__COUNT];
};

static void fcgi_index_params(struct fcgi_req *r)
{
	memset(r->param, 0, sizeof r->param);
	for (char **e = r->rq.envp; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		size_t n;

		if (eq == NULL)
			continue;
		n = (size_t)(eq - *e);
		for (int p = 0; p < P__COUNT; p++)
			if (r->param[p] == NULL && strncmp(*e, param_names[p], n) == 0 &&
			    param_names[p][n] == '\0') {
				r->param[p] = eq + 1;
				break;
			}
	}
}

static const char *fcgi_param(void *t, enum param p)
{
	return ((struct fcgi_req *)t)->param[p];
}

static int fcgi_read(void *t, char *buf, int n)
{
	return FCGX_GetStr(buf, n, ((struct fcgi_req *)t)->rq.in);
}

static void fcgi_respond(void *t, const char *head, size_t head_len, const char *body,
                         size_t body_len)
{
	FCGX_Request *rq = &((struct fcgi_req *)t)->rq;
	struct iovec parts[2] = {{(void *)head, head_len}, {(void *)body, body_len}};

	/* The client went away: the connection is closed, never kept. */
	if (fcgi_response_write(rq->ipcFd, rq->requestId, parts, 2) != 0)
		rq->keepConnection = 0;
	/* The end records are written: FCGX_Finish_r's FCGX_FClose of STDOUT
	 * must not write them again (it skips a stream already closed). */
	rq->out->wasFCloseCalled = 1;
	rq->out->isClosed = 1;
}

/* A kept connection carries the next request after this one's stdin: read
 * what the handler left (a body refused unread) up to the end-of-stdin
 * record, or the next request would start in the middle of it. nginx
 * always sends that record, and has buffered the whole body first. */
static void fcgi_drain_stdin(FCGX_Request *rq, char *sink, int cap)
{
	if (rq->keepConnection)
		while (FCGX_GetStr(sink, cap, rq->in) > 0)
			;
}

/* Wait as the leader until a request is read: from a new connection, or
 * from an idle kept one. Returns 0 when *stop was set first. */
static int fcgi_next_request(struct sd_worker *w, FCGX_Request *rq)
{
	while (!*w->stop) {
		int fd = fcgi_waitset_wait(w->waitset, 250);

		if (fd < 0)
			continue;
		if (fd != w->listen_fd) {
			/* libfcgi reads the request from rq->ipcFd when it is
			 * open; keepConnection stops FCGX_Accept_r's finish of
			 * the previous request from closing it. At end of file
			 * (nginx closed it) libfcgi closes it and tries the
			 * listening socket, which is non-blocking: EAGAIN is
			 * just another round. */
			rq->ipcFd = fd;
			rq->keepConnection = 1;
		}
		if (FCGX_Accept_r(rq) >= 0)
			return 1;
	}
	return 0;
}

void *fcgi_worker_run(void *arg)
{
	struct sd_worker *w = arg;
	struct buffers *bf = calloc(1, sizeof *bf);
	struct fcgi_req fr;
	FCGX_Request *rq = &fr.rq;
	struct transport tr = {fcgi_param, fcgi_read, fcgi_respond, &fr};

	if (bf == NULL || FCGX_InitRequest(rq, w->listen_fd, 0) != 0) {
		sd_log_error("worker: out of memory");
		free(bf);
		return NULL;
	}
	(void)worker_store(w);
	while (!*w->stop) {
		int accepted;

		/* Leader/followers: one worker at a time waits on the socket and
		 * the idle kept connections, the others on the mutex, so a
		 * request wakes one thread, not all of them. The wait has a
		 * timeout so a stop request is noticed. */
		pthread_mutex_lock(&w->waitset->leader_mu);
		accepted = fcgi_next_request(w, rq);
		pthread_mutex_unlock(&w->waitset->leader_mu);
		if (!accepted)
			break;
		fcgi_index_params(&fr);
		serve(w, &tr, bf);
		fcgi_drain_stdin(rq, bf->body, (int)sizeof bf->body);
		FCGX_Finish_r(rq);
		/* Kept (libfcgi left it open): parked until its next request,
		 * so an idle kept connection pins no thread. */
		if (rq->ipcFd >= 0) {
			if (fcgi_waitset_park(w->waitset, rq->ipcFd) != 0)
				close(rq->ipcFd);
			rq->ipcFd = -1;
		}
	}
	FCGX_Free(rq, 0);
	sd_buf_free(&bf->head);
	sd_buf_free(&bf->resp.body);
	free(bf);
	store_close(w->store);
	w->store = NULL;
	return NULL;
}

/* ---- CGI ------------------------------------------------------------- */

static const char *cgi_param(void *t, enum param p)
{
	(void)t;
	return getenv(param_names[p]);
}

static int cgi_read(void *t, char *buf, int n)
{
	(void)t;
	return (int)fread(buf, 1, (size_t)n, stdin);
}

static void cgi_respond(void *t, const char *head, size_t head_len, const char *body,
                        size_t body_len)
{
	(void)t;
	fwrite(head, 1, head_len, stdout);
	if (body_len > 0)
		fwrite(body, 1, body_len, stdout);
}

int cgi_serve(struct sd_worker *w)
{
	struct buffers *bf = calloc(1, sizeof *bf);
	struct transport tr = {cgi_param, cgi_read, cgi_respond, NULL};

	if (bf == NULL)
		return 1;
	serve(w, &tr, bf);
	fflush(stdout);
	sd_buf_free(&bf->head);
	sd_buf_free(&bf->resp.body);
	free(bf);
	return 0;
}
