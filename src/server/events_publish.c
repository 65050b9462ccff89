/* The live-events publisher: workers queue a notice per stored message,
 * one thread posts each to nginx's nchan publisher, a unix:PATH or an
 * http:// address. The post is plain HTTP/1.1 written here, on one kept
 * connection: libcurl would set up OpenSSL at start for every server (some
 * 2 MB of resident memory) to talk to a local nginx, and a publisher is
 * never reached across an untrusted network (docs/DEPLOY.md). */
#include "server/events_publish.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/event_channel.h"
#include "core/events.h"
#include "core/io.h"
#include "core/log.h"
#include "core/metrics.h"
#include "server/events_key.h"

/* Enough for a burst of sends between two posts; beyond it a notice is
 * dropped (its inbox's clients see the message at their next poll). */
#define QUEUE_CAP          4096
/* The nchan publisher location of nginx/dev.conf.in and nginx/sealdrop.conf. */
#define PUBLISH_PATH       "/_sealdrop_publish/"
/* nginx is local: a post that takes longer than this is a fault. */
#define POST_TIMEOUT_MS    2000
#define CONNECT_TIMEOUT_MS 1000
/* Failures and drops are logged at most this often (seconds). */
#define REPORT_INTERVAL    60
/* nchan's reply to a post: a status line, a few headers, a short channel
 * summary. A longer header block is not nginx's. */
#define REPLY_HEAD_MAX     4096
#define REPLY_BODY_MAX     65536
#define HOST_MAX           256

struct notice {
	char channel[SD_EVENT_CHANNEL_HEX + 1];
	int64_t id;
};

/* Where plain posts go: a unix socket or host:port, and the path prefix. */
struct plain_target {
	int unix_socket;
	char path[108]; /* unix socket */
	char host[HOST_MAX], port[8];
	char authority[HOST_MAX + 16]; /* the Host header: as the target gives it */
	char prefix[256];              /* path before PUBLISH_PATH ("" or "/x") */
	int fd;                        /* the kept connection, -1 when none */
};

static struct {
	const struct sd_config *cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid;
	int running, stopping;
	struct plain_target target;
	struct notice queue[QUEUE_CAP];
	size_t head, count;
	uint64_t dropped, failed; /* since the last report, under mu */
	time_t reported;
} pub = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* On the worker that stored the message: hash, queue, return. */
static void on_stored(void *arg, const char *link_token, int64_t msg_id)
{
	struct notice n;

	(void)arg;
	sd_event_channel_id(link_token, n.channel);
	n.id = msg_id;
	pthread_mutex_lock(&pub.mu);
	if (pub.running && pub.count < QUEUE_CAP) {
		pub.queue[(pub.head + pub.count) % QUEUE_CAP] = n;
		pub.count++;
		pthread_cond_signal(&pub.cv);
	} else if (pub.running) {
		pub.dropped++;
		sd_metrics_event(SD_EVENT_DROPPED);
	}
	pthread_mutex_unlock(&pub.mu);
}

/* unix:PATH or http://HOST[:PORT][/PREFIX]. 0; -1 when it is neither. */
static int plain_target_parse(const char *target, struct plain_target *t)
{
	const char *auth, *end, *colon;
	size_t n;

	memset(t, 0, sizeof *t);
	t->fd = -1;
	if (strncmp(target, "unix:", 5) == 0) {
		t->unix_socket = 1;
		if (strlen(target + 5) >= sizeof t->path)
			return -1;
		strcpy(t->path, target + 5);
		return 0;
	}
	if (strncmp(target, "http://", 7) != 0)
		return -1;
	auth = target + 7;
	end = auth + strcspn(auth, "/");
	if ((size_t)(end - auth) >= sizeof t->authority)
		return -1;
	memcpy(t->authority, auth, (size_t)(end - auth));
	if (strlen(end) >= sizeof t->prefix)
		return -1;
	strcpy(t->prefix, end);
	n = strlen(t->prefix);
	if (n > 0 && t->prefix[n - 1] == '/')
		t->prefix[n - 1] = '\0';
	if (*auth == '[') { /* [v6]:port */
		const char *close = memchr(auth, ']', (size_t)(end - auth));

		if (close == NULL || (size_t)(close - auth - 1) >= sizeof t->host)
			return -1;
		memcpy(t->host, auth + 1, (size_t)(close - auth - 1));
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(auth, ':', (size_t)(end - auth));
		n = (size_t)((colon ? colon : end) - auth);
		if (n == 0 || n >= sizeof t->host)
			return -1;
		memcpy(t->host, auth, n);
	}
	n = colon ? (size_t)(end - colon - 1) : 0;
	if (n >= sizeof t->port)
		return -1;
	if (colon && n > 0)
		memcpy(t->port, colon + 1, n);
	else
		strcpy(t->port, "80");
	return 0;
}

/* A socket with both directions bounded by ms (connect too, on Linux). */
static int socket_timed(int family, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int plain_connect(const struct plain_target *t)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int fd = -1;

	if (t->unix_socket) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};

		memcpy(a.sun_path, t->path, sizeof t->path);
		if ((fd = socket_timed(AF_UNIX, CONNECT_TIMEOUT_MS)) >= 0 &&
		    connect(fd, (const struct sockaddr *)&a, sizeof a) != 0) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	if (getaddrinfo(t->host, t->port, &hints, &res) != 0)
		return -1;
	for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		if ((fd = socket_timed(ai->ai_family, CONNECT_TIMEOUT_MS)) >= 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Read a reply: its status, and whether the connection may carry the next
 * post (a Content-Length body read to its end, no "Connection: close").
 * *got_any: a byte came back (else a kept connection may have been closed
 * by nginx in the meantime, and the post is worth one more try). */
static int reply_read(int fd, long *status, int *keep, int *got_any)
{
	char head[REPLY_HEAD_MAX + 1];
	size_t have = 0;
	char *end = NULL;
	long length = -1;
	size_t body_have;

	*keep = 0;
	*got_any = 0;
	while (end == NULL) {
		ssize_t r;

		if (have == REPLY_HEAD_MAX)
			return -1;
		r = recv(fd, head + have, REPLY_HEAD_MAX - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		*got_any = 1;
		have += (size_t)r;
		head[have] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (strncmp(head, "HTTP/1.", 7) != 0 || sscanf(head + 8, " %ld", status) != 1)
		return -1;
	end[2] = '\0'; /* the headers, each line ending in \r\n */
	*keep = strncmp(head, "HTTP/1.1", 8) == 0;
	for (char *line = strstr(head, "\r\n"); line != NULL && line[2] != '\0';
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;

		if (strncasecmp(h, "Content-Length:", 15) == 0)
			length = strtol(h + 15, NULL, 10);
		else if (strncasecmp(h, "Connection:", 11) == 0 && strstr(h, "close") != NULL)
			*keep = 0;
	}
	if (length < 0 || length > REPLY_BODY_MAX) {
		*keep = 0; /* chunked or unbounded: this post is done, the connection too */
		return 0;
	}
	body_have = have - (size_t)(end + 4 - head);
	while (body_have < (size_t)length) {
		char sink[1024];
		size_t want = (size_t)length - body_have;
		ssize_t r = recv(fd, sink, want < sizeof sink ? want : sizeof sink, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*keep = 0;
			return 0;
		}
		body_have += (size_t)r;
	}
	return 0;
}

/* POST the event over the kept connection, or a new one. */
static int post_plain(struct plain_target *t, const struct notice *n)
{
	char body[64], req[1024];
	int blen = snprintf(body, sizeof body, "{\"type\":\"message\",\"id\":%" PRId64 "}", n->id);
	int len = snprintf(req, sizeof req,
	                   "POST %s" PUBLISH_PATH "%s HTTP/1.1\r\nHost: %s\r\n"
	                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
	                   t->prefix, n->channel, t->unix_socket ? "localhost" : t->authority, blen,
	                   body);

	if (len <= 0 || (size_t)len >= sizeof req)
		return -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = t->fd >= 0, keep = 0, got_any = 0;
		long status = 0;

		if (t->fd < 0 && (t->fd = plain_connect(t)) < 0)
			return -1;
		if (sd_write_all(t->fd, req, (size_t)len) == 0 &&
		    reply_read(t->fd, &status, &keep, &got_any) == 0) {
			if (!keep) {
				close(t->fd);
				t->fd = -1;
			}
			return status >= 200 && status < 300 ? 0 : -1;
		}
		close(t->fd);
		t->fd = -1;
		if (!reused || got_any)
			return -1; /* not a kept connection nginx closed meanwhile */
	}
	return -1;
}

/* Drops and failures, now and then: counts only, never a channel. */
static void report(time_t now)
{
	uint64_t dropped, failed;

	pthread_mutex_lock(&pub.mu);
	if (now - pub.reported < REPORT_INTERVAL || (pub.dropped == 0 && pub.failed == 0)) {
		pthread_mutex_unlock(&pub.mu);
		return;
	}
	dropped = pub.dropped;
	failed = pub.failed;
	pub.dropped = pub.failed = 0;
	pub.reported = now;
	pthread_mutex_unlock(&pub.mu);
	sd_log_error("events: %" PRIu64 " notices dropped (queue full), %" PRIu64
	             " posts to the publisher failed",
	             dropped, failed);
}

static void *publish_run(void *arg)
{
	struct plain_target *pt = &pub.target;
	struct notice n;

	(void)arg;
	pthread_mutex_lock(&pub.mu);
	while (!pub.stopping) {
		if (pub.count == 0) {
			pthread_cond_wait(&pub.cv, &pub.mu);
			continue;
		}
		n = pub.queue[pub.head];
		pub.head = (pub.head + 1) % QUEUE_CAP;
		pub.count--;
		pthread_mutex_unlock(&pub.mu);
		if (post_plain(pt, &n) != 0) {
			sd_metrics_event(SD_EVENT_FAILED);
			pthread_mutex_lock(&pub.mu);
			pub.failed++;
			pthread_mutex_unlock(&pub.mu);
		} else {
			sd_metrics_event(SD_EVENT_PUBLISHED);
		}
		report(time(NULL));
		pthread_mutex_lock(&pub.mu);
	}
	pthread_mutex_unlock(&pub.mu);
	if (pt->fd >= 0)
		close(pt->fd);
	return NULL;
}

int events_publish_start(const struct sd_config *cfg)
{
	unsigned char key[SD_EVENT_KEY_BYTES];
	char err[800];

	if (cfg->events_publish[0] == '\0')
		return 0;
	if (events_key_load(cfg->events_key_file, key, err, sizeof err) != 0) {
		fprintf(stderr, "sealdropd: %s\n", err);
		return -1;
	}
	sd_event_channel_set_key(key);
	sodium_memzero(key, sizeof key);
	if (plain_target_parse(cfg->events_publish, &pub.target) != 0) {
		fprintf(stderr, "sealdropd: SEALDROP_EVENTS_PUBLISH: not a unix:PATH or "
		                "http://HOST[:PORT] address\n");
		return -1;
	}
	if (sd_events_on_stored(on_stored, NULL) != 0) {
		fprintf(stderr, "sealdropd: cannot set up live events\n");
		return -1;
	}
	pub.cfg = cfg;
	pub.running = 1;
	if (pthread_create(&pub.tid, NULL, publish_run, NULL) != 0) {
		pub.running = 0;
		fprintf(stderr, "sealdropd: cannot start the events thread\n");
		return -1;
	}
	return 0;
}

void events_publish_stop(void)
{
	if (!pub.running)
		return;
	pthread_mutex_lock(&pub.mu);
	pub.stopping = 1;
	pthread_cond_signal(&pub.cv);
	pthread_mutex_unlock(&pub.mu);
	pthread_join(pub.tid, NULL);
	pub.running = 0;
}
