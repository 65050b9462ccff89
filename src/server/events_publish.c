#include "server/events_publish.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/event_channel.h"
#include "core/events.h"
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

struct notice {
	char channel[SD_EVENT_CHANNEL_HEX + 1];
	int64_t id;
};

static struct {
	const struct sd_config *cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid;
	int running, stopping;
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

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The handle every post reuses (one kept connection to nginx). */
static CURL *publisher_handle(const char *target, struct curl_slist *headers)
{
	CURL *c = curl_easy_init();
	int bad = 0;

	if (c == NULL)
		return NULL;
	if (strncmp(target, "unix:", 5) == 0)
		bad |= curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, target + 5) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK;
	if (bad) {
		curl_easy_cleanup(c);
		return NULL;
	}
	return c;
}

/* POST the event: {"type":"message","id":N}, nothing else. */
static int post(CURL *c, const char *base, const struct notice *n)
{
	char url[700], body[64];
	long status = 0;

	snprintf(url, sizeof url, "%s" PUBLISH_PATH "%s", base, n->channel);
	snprintf(body, sizeof body, "{\"type\":\"message\",\"id\":%" PRId64 "}", n->id);
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK ||
	    curl_easy_perform(c) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		return -1;
	return status >= 200 && status < 300 ? 0 : -1;
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
	const char *target = pub.cfg->events_publish;
	/* unix:PATH goes through the socket; the host name is then only a label. */
	const char *base = strncmp(target, "unix:", 5) == 0 ? "http://localhost" : target;
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = headers ? publisher_handle(target, headers) : NULL;
	struct notice n;

	(void)arg;
	if (c == NULL)
		sd_log_error("events: cannot set up the publisher; no live events");
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
		if (c == NULL || post(c, base, &n) != 0) {
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
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(headers);
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
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    sd_events_on_stored(on_stored, NULL) != 0) {
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
	curl_global_cleanup();
}
