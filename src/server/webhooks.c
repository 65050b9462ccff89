/* The webhook sender threads. The first, the watcher, keeps a store
 * connection (opened on first use, reopened after a failure) and looks at
 * the outbox every second; the others hold nothing while there is nothing
 * to send: the watcher wakes them when it claims a ping, and each opens a
 * connection of its own, works until the outbox has been empty for
 * HELPER_LINGER_SECONDS with no ping in flight, and closes it again.
 * libcurl (and with it OpenSSL, some 2 MB of resident memory) is set up
 * before the first ping, not at start. Each round a thread claims due pings one by one (first
 * tries ahead of retries) and sends each:
 *   1. resolve the host itself and refuse the ping if ANY address is one a
 *      ping may not reach (core/outbound.h): a name that resolves to a
 *      private address is as refused as the address;
 *   2. pin curl to the checked addresses (CURLOPT_RESOLVE), so a second
 *      lookup cannot swap them (DNS rebinding), and check again the address
 *      curl actually connects to (CURLOPT_OPENSOCKETFUNCTION);
 *   3. POST the content-free body with short timeouts, no redirects, http
 *      and https only, TLS verified, no proxy, the reply capped.
 * A 2xx is delivered; anything else is tried again later with exponential
 * backoff and jitter, until the attempts run out and the webhook is marked
 * failing. A refused address is not worth retrying: failing at once. While
 * failing, each new ping gets one try (a delivery clears the state). */
#include "server/webhooks.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/metrics.h"
#include "server/pause.h"
#include "store/store.h"

/* A look at the outbox this often. Not woken by each stored message: that
 * cost every send a claim query per sender thread (half of /send's
 * throughput), to win less than this on a ping that is coalesced anyway. */
#define POLL_SECONDS          1
/* A helper that found nothing this long closes its connection. */
#define HELPER_LINGER_SECONDS 30
/* Longer than any one ping may take: a lookup (a slower one is not
 * followed by a request) plus the request (at most SD_WEBHOOK_TIMEOUT_MAX),
 * with room to spare. An expired claim lets another sender send the ping
 * again: delivery is at least once. */
#define LOOKUP_MAX_SECONDS    60
#define CLAIM_LEASE_SECONDS   180
#define CONNECT_TIMEOUT_MS    3000L
#define REPLY_MAX             4096 /* bytes of a reply read; more aborts it */
#define RETRY_MAX_SECONDS     3600
#define RESOLVE_MAX           8 /* addresses pinned per host */
#define BODY_GENERIC          "{\"event\":\"new_message\"}"
#define BODY_NTFY             "New message"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready; /* curl_global_init succeeded (set once, in curl_once) */

static void curl_setup(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* libcurl, set up by whichever thread first has a ping to send. */
static int curl_up(void)
{
	pthread_once(&curl_once, curl_setup);
	return curl_ready ? 0 : -1;
}

/* Why a ping failed: a class for the owner, never a reply's content. */
struct outcome {
	int delivered;
	int final;   /* no use retrying */
	int refused; /* ... because of the address */
	const char *error;
};

struct transfer {
	const struct webhook_sender *s;
	int plain_http; /* http:// goes only to allow-listed addresses */
	size_t got;
	int refused; /* the connect-time check said no */
};

/* May a ping to this url's scheme reach sa? */
static int addr_allowed(const struct webhook_sender *s, int plain_http, const struct sockaddr *sa)
{
	if (plain_http)
		return sd_allow_has(&s->allow, sa);
	return sd_outbound_addr_ok(sa, &s->allow);
}

static size_t reply_sink(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;

	(void)p;
	t->got += size * n;
	return t->got > REPLY_MAX ? 0 : size * n; /* 0 aborts the transfer */
}

/* The last check, on the address curl is about to connect to. */
static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = arg;

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    !addr_allowed(t->s, t->plain_http, (const struct sockaddr *)&a->addr)) {
		t->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static int keep_going(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	const struct transfer *t = arg;

	(void)a, (void)b, (void)c, (void)d;
	return *t->s->stop ? 1 : 0; /* shutting down: abandon, the claim expires */
}

/* Resolve u's host, check every address, and write curl's pin list entry
 * "host:port:addr,addr..." into pin. 0; -1 with o set. */
static int resolve_checked(const struct webhook_sender *s, const struct sd_url *u, char *pin,
                           size_t cap, struct outcome *o)
{
	struct addrinfo hints, *res = NULL;
	struct timespec t0, t1;
	int n = 0, w;
	size_t at;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (getaddrinfo(u->host, NULL, &hints, &res) != 0 || res == NULL) {
		o->error = "dns";
		return -1;
	}
	/* getaddrinfo has no time bound of its own (the resolver's timeouts
	 * and attempts decide): a lookup that ate into the claim's lease is
	 * not followed by a request another sender might make too. */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t1.tv_sec - t0.tv_sec > LOOKUP_MAX_SECONDS) {
		freeaddrinfo(res);
		o->error = "dns";
		return -1;
	}
	w = snprintf(pin, cap, "%s:%d:", u->host, u->port);
	at = w > 0 ? (size_t)w : cap;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN];
		const void *bytes;

		if (!addr_allowed(s, !u->https, ai->ai_addr)) {
			freeaddrinfo(res);
			o->error = "address_refused";
			o->final = o->refused = 1;
			return -1;
		}
		bytes =
		    ai->ai_family == AF_INET
		        ? (const void *)&((const struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr
		        : (const void *)&((const struct sockaddr_in6 *)(void *)ai->ai_addr)
		              ->sin6_addr;
		if (n >= RESOLVE_MAX || at >= cap ||
		    inet_ntop(ai->ai_family, bytes, text, sizeof text) == NULL)
			continue; /* every address is still checked */
		w = snprintf(pin + at, cap - at, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
		             n > 0 ? "," : "", text);
		at = w > 0 ? at + (size_t)w : cap;
		n++;
	}
	freeaddrinfo(res);
	if (n == 0 || at >= cap) {
		o->error = "dns";
		return -1;
	}
	return 0;
}

static void classify(CURLcode rc, long status, const struct transfer *t, struct outcome *o)
{
	if (status >= 200 && status <= 299) {
		o->delivered = 1; /* accepted, even if its reply ran past the cap */
		return;
	}
	if (t->refused) {
		o->error = "address_refused";
		o->final = o->refused = 1;
	} else if (rc == CURLE_OK) {
		o->error = "http_status";
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		o->error = "timeout";
	} else if (rc == CURLE_WRITE_ERROR) {
		o->error = "reply_too_large";
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
		o->error = "connect";
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR) {
		o->error = "tls";
	} else {
		o->error = "network";
	}
}

/* POST one ping to job's URL. */
static struct outcome ping(const struct webhook_sender *s, const struct sd_webhook_job *job)
{
	struct outcome o = {0, 0, 0, NULL};
	struct transfer t = {s, 0, 0, 0};
	struct curl_slist *pins = NULL, *headers = NULL;
	struct sd_url u;
	char pin[SD_OUTBOUND_HOST_MAX + 16 + RESOLVE_MAX * (INET6_ADDRSTRLEN + 3)];
	const char *why;
	int ntfy = strcmp(job->kind, "ntfy") == 0;
	CURL *curl = NULL;
	CURLcode rc;
	long status = 0;

	if (sd_url_split(job->url, &u, &why) != 0) {
		o.error = "invalid_url";
		o.final = 1;
		return o;
	}
	t.plain_http = !u.https;
	if (resolve_checked(s, &u, pin, sizeof pin, &o) != 0)
		return o;
	/* An IP literal needs no lookup (and has no name to pin); it was
	 * checked above all the same. */
	if (curl_up() != 0 || (curl = curl_easy_init()) == NULL ||
	    (!u.host_is_ip && (pins = curl_slist_append(NULL, pin)) == NULL) ||
	    (headers = curl_slist_append(NULL, ntfy ? "Content-Type: text/plain"
	                                            : "Content-Type: application/json")) == NULL) {
		o.error = "internal";
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, job->url);
	if (pins != NULL)
		curl_easy_setopt(curl, CURLOPT_RESOLVE, pins);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &t);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, ntfy ? BODY_NTFY : BODY_GENERIC);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "sealdrop-webhook");
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)s->cfg->webhook.timeout);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* a proxy would connect for us, unchecked */
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, reply_sink);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, keep_going);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	classify(rc, status, &t, &o);
out:
	curl_slist_free_all(headers);
	curl_slist_free_all(pins);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return o;
}

/* When to try again after `tries` failed tries: base doubling, capped,
 * plus up to a quarter more at random so many inboxes' retries spread. */
static time_t retry_at(const struct webhook_sender *s, int64_t tries, time_t now)
{
	int64_t delay = s->cfg->webhook.retry_base;

	for (int64_t i = 1; i < tries && delay < RETRY_MAX_SECONDS; i++)
		delay *= 2;
	if (delay > RETRY_MAX_SECONDS)
		delay = RETRY_MAX_SECONDS;
	return now + (time_t)delay + (time_t)randombytes_uniform((uint32_t)(delay / 4 + 1));
}

/* Wake the helpers: the watcher has claimed a ping, more may be due. */
static void helpers_wake(struct webhook_sender *s)
{
	pthread_mutex_lock(&s->mu);
	s->wakes++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Claim and send until nothing is due: the number of pings claimed, -1
 * when the store failed. The watcher wakes the helpers at its first claim. */
static int send_round(struct webhook_sender *s, struct sd_store *st, int watcher)
{
	int claimed = 0;

	while (!*s->stop) {
		struct sd_webhook_job job;
		unsigned char raw[16];
		char claim[2 * sizeof raw + 1];
		struct outcome o;
		time_t now = time(NULL), next = 0;
		enum sd_err e;

		randombytes_buf(raw, sizeof raw);
		sodium_bin2hex(claim, sizeof claim, raw, sizeof raw);
		e = store_webhook_claim(st, claim, now, CLAIM_LEASE_SECONDS, &job);
		if (e == SD_ENOTFOUND)
			return claimed;
		if (e != SD_OK)
			return -1;
		if (claimed++ == 0 && watcher)
			helpers_wake(s);
		pthread_mutex_lock(&s->mu);
		s->sending++;
		pthread_mutex_unlock(&s->mu);
		o = ping(s, &job);
		pthread_mutex_lock(&s->mu);
		s->sending--;
		pthread_mutex_unlock(&s->mu);
		if (*s->stop && !o.delivered)
			return claimed; /* abandoned: the claim expires, the ping stays */
		now = time(NULL);
		if (o.delivered) {
			sd_metrics_webhook(SD_WEBHOOK_DELIVERED);
			e = store_webhook_delivered(st, &job, now, s->cfg->limits.webhook_interval);
		} else {
			/* A webhook already failing gets one try per ping, not a
			 * full round for every new message. */
			if (!o.final && !job.failing && job.attempts + 1 < s->cfg->webhook.attempts)
				next = retry_at(s, job.attempts + 1, now);
			sd_metrics_webhook(next        ? SD_WEBHOOK_RETRY
			                   : o.refused ? SD_WEBHOOK_REFUSED
			                               : SD_WEBHOOK_GAVE_UP);
			sd_log_info("webhook: ping failed (%s), %s", o.error,
			            next ? "will retry" : "webhook marked failing");
			e = store_webhook_failed(st, &job, o.error, now, next);
		}
		if (e != SD_OK)
			return -1;
	}
	return claimed;
}

/* Sleep POLL_SECONDS, or less when stopped; with s->mu held. */
static void poll_wait(struct webhook_sender *s)
{
	pause_unless_stopped(&s->mu, &s->cv, s->stop, POLL_SECONDS);
}

/* The first thread: a connection kept, a look every POLL_SECONDS. */
static void *watcher_run(void *arg)
{
	struct webhook_sender *s = arg;
	struct sd_store *st = NULL;
	char err[256];

	pthread_mutex_lock(&s->mu);
	while (!*s->stop) {
		pthread_mutex_unlock(&s->mu);
		if (st == NULL && store_open(s->cfg->db, s->cfg, &st, err, sizeof err) != SD_OK)
			st = NULL;
		if (st != NULL && send_round(s, st, 1) < 0) {
			store_close(st);
			st = NULL;
		}
		pthread_mutex_lock(&s->mu);
		poll_wait(s);
	}
	pthread_mutex_unlock(&s->mu);
	store_close(st);
	return NULL;
}

/* The others: asleep, holding no connection, until the watcher claims a
 * ping; then polling like it until the outbox stays empty a while. */
static void *helper_run(void *arg)
{
	struct webhook_sender *s = arg;
	struct sd_store *st = NULL;
	unsigned seen;
	time_t idle_since = 0;
	char err[256];

	pthread_mutex_lock(&s->mu);
	seen = s->wakes;
	while (!*s->stop) {
		int n = 0;

		if (st == NULL) {
			while (!*s->stop && s->wakes == seen)
				pthread_cond_wait(&s->cv, &s->mu);
			seen = s->wakes;
			idle_since = time(NULL);
			if (*s->stop)
				break;
		}
		pthread_mutex_unlock(&s->mu);
		if (st == NULL && store_open(s->cfg->db, s->cfg, &st, err, sizeof err) != SD_OK)
			st = NULL;
		if (st != NULL && (n = send_round(s, st, 0)) > 0)
			idle_since = time(NULL);
		pthread_mutex_lock(&s->mu);
		/* Not while another thread is in a ping: held by a receiver that
		 * never answers, it would claim nothing new until its timeout. */
		if (st != NULL && (n < 0 || (s->sending == 0 &&
		                             time(NULL) - idle_since >= HELPER_LINGER_SECONDS))) {
			pthread_mutex_unlock(&s->mu);
			store_close(st);
			st = NULL;
			pthread_mutex_lock(&s->mu);
		}
		if (st != NULL)
			poll_wait(s);
		seen = st != NULL ? s->wakes : seen;
	}
	pthread_mutex_unlock(&s->mu);
	store_close(st);
	return NULL;
}

int webhook_sender_start(struct webhook_sender *s, const struct sd_config *cfg,
                         volatile sig_atomic_t *stop)
{
	s->cfg = cfg;
	s->stop = stop;
	s->threads = 0;
	s->wakes = 0;
	s->sending = 0;
	if (sd_allow_parse(cfg->webhook.allow, &s->allow) != 0)
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	while (s->threads < cfg->webhook.senders && s->threads < SD_WEBHOOK_SENDERS_MAX) {
		if (pthread_create(&s->tid[s->threads], NULL,
		                   s->threads == 0 ? watcher_run : helper_run, s) != 0) {
			webhook_sender_stop(s);
			webhook_sender_join(s);
			return -1;
		}
		s->threads++;
	}
	return 0;
}

void webhook_sender_stop(struct webhook_sender *s)
{
	pthread_mutex_lock(&s->mu);
	*s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void webhook_sender_join(struct webhook_sender *s)
{
	for (int i = 0; i < s->threads; i++)
		pthread_join(s->tid[i], NULL);
	s->threads = 0;
	if (curl_ready)
		curl_global_cleanup();
}

int webhook_send_due(const struct sd_config *cfg)
{
	static volatile sig_atomic_t never;
	struct webhook_sender s = {.cfg = cfg, .stop = &never};
	struct sd_store *st = NULL;
	char err[256];
	int rc;

	pthread_mutex_init(&s.mu, NULL);

	if (sd_allow_parse(cfg->webhook.allow, &s.allow) != 0)
		return -1;
	if (store_open(cfg->db, cfg, &st, err, sizeof err) != SD_OK) {
		fprintf(stderr, "sealdropd: %s\n", err);
		return -1;
	}
	rc = send_round(&s, st, 0);
	store_close(st);
	if (curl_ready)
		curl_global_cleanup();
	return rc < 0 ? -1 : 0;
}
