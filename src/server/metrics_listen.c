/* A deliberately small HTTP/1.0 server: read one request head (at most
 * METRICS_REQ_MAX bytes, within a time limit), answer GET /metrics or 404,
 * close. A scraper is one trusted local process, so connections are
 * served one at a time; the time limits keep a stuck client from holding
 * the thread for long. */
#include "server/metrics_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "core/buf.h"
#include "core/io.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/num.h"
#include "server/listen.h"

#define METRICS_REQ_MAX    4096
#define METRICS_IO_SECONDS 5
#define METRICS_BACKLOG    16

/* addr as a loopback socket address; -1 for anything else. */
static int loopback_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(addr, ':'), *why;
	int64_t port;
	size_t hl;

	if (colon == NULL || sd_strtoi64(colon + 1, 1, 65535, &port, &why) != 0)
		return -1;
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof *ss);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	{
		struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
			/* 127.0.0.0/8 */
			if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
				return -1;
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
			*len = sizeof *in4;
			return 0;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
				return -1;
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*len = sizeof *in6;
			return 0;
		}
	}
	return -1;
}

static int listen_loopback(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (loopback_addr(addr, &ss, &len) != 0) {
		fprintf(stderr,
		        "sealdropd: --metrics %s: not a loopback address; metrics are served only "
		        "on unix:PATH, 127.0.0.0/8, [::1] or localhost, with a port\n",
		        addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, METRICS_BACKLOG) != 0) {
		fprintf(stderr, "sealdropd: cannot listen on --metrics %s: %s\n", addr,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int metrics_listen_open(struct metrics_listener *m, const char *addr, int socket_mode)
{
	m->fd = -1;
	m->unix_path = NULL;
	m->running = 0;
	if (strncmp(addr, "unix:", 5) == 0) {
		if (addr[5] == '\0') {
			fprintf(stderr, "sealdropd: --metrics unix: needs a path\n");
			return -1;
		}
		m->fd = listen_unix_at(addr + 5, socket_mode);
		if (m->fd >= 0)
			m->unix_path = addr + 5;
	} else {
		m->fd = listen_loopback(addr);
	}
	return m->fd >= 0 ? 0 : -1;
}

/* ---- one connection ----------------------------------------------------- */

static void answer(int fd, int status, const char *reason, const char *type, const char *body,
                   size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof head,
	                 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n",
	                 status, reason, type, len);

	/* A scraper that hung up gets nothing more: nothing to do about it. */
	if (n > 0 && (size_t)n < sizeof head && sd_write_all(fd, head, (size_t)n) == 0)
		(void)sd_write_all(fd, body, len);
}

static void answer_text(int fd, int status, const char *reason, const char *msg)
{
	answer(fd, status, reason, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* Read until the end of the request head. Returns its length, 0 when the
 * client went away or was too slow, -1 when the head is too large. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap - 1) {
		ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
			return (ssize_t)got;
	}
	return -1;
}

/* GET /metrics, with or without a query string, in HTTP/1.x. */
static int is_metrics_get(const char *line)
{
	static const char want[] = "GET /metrics";
	const char *p = line + sizeof want - 1;

	if (strncmp(line, want, sizeof want - 1) != 0)
		return 0;
	if (*p == '?')
		p += strcspn(p, " \r\n");
	return strncmp(p, " HTTP/1.", 8) == 0;
}

static void serve_one(int fd, struct sd_buf *out)
{
	char req[METRICS_REQ_MAX];
	struct timeval tv = {METRICS_IO_SECONDS, 0};
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	n = read_head(fd, req, sizeof req);
	if (n == 0)
		return;
	if (n < 0) {
		answer_text(fd, 400, "Bad Request", "request too large\n");
		return;
	}
	if (!is_metrics_get(req)) {
		answer_text(fd, 404, "Not Found", "only GET /metrics here\n");
		return;
	}
	sd_buf_reset(out);
	sd_metrics_write(out, PACKAGE_VERSION);
	if (out->failed) {
		answer_text(fd, 503, "Service Unavailable", "out of memory\n");
		return;
	}
	answer(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", out->data, out->len);
}

/* Closing with unread input makes the kernel reset the connection, and the
 * client may lose the answer: end our side, then read what is left (a
 * bounded amount, within the socket's time limit). */
static void close_gently(int fd)
{
	char sink[1024];
	size_t left = 64 * 1024;

	shutdown(fd, SHUT_WR);
	while (left > 0) {
		ssize_t r = recv(fd, sink, sizeof sink, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		left -= (size_t)r < left ? (size_t)r : left;
	}
	close(fd);
}

static void *metrics_run(void *arg)
{
	struct metrics_listener *m = arg;
	struct sd_buf out = {0};

	while (!*m->stop) {
		struct pollfd pfd = {m->fd, POLLIN, 0};
		int c;

		/* The timeout lets a stop be noticed without a wake-up. */
		if (poll(&pfd, 1, 250) <= 0)
			continue;
		c = accept(m->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c, &out);
		close_gently(c);
	}
	sd_buf_free(&out);
	return NULL;
}

int metrics_listen_start(struct metrics_listener *m, volatile sig_atomic_t *stop)
{
	m->stop = stop;
	if (pthread_create(&m->tid, NULL, metrics_run, m) != 0)
		return -1;
	m->running = 1;
	return 0;
}

void metrics_listen_close(struct metrics_listener *m)
{
	if (m->running)
		pthread_join(m->tid, NULL);
	m->running = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->unix_path != NULL)
		unlink(m->unix_path);
	m->unix_path = NULL;
}
