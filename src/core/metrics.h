/* Process-wide counters for the Prometheus exposition (docs/METRICS.md).
 * The hooks on the request path are a few relaxed atomic adds: no lock, no
 * allocation. Labels come only from fixed vocabularies — the router's route
 * names, HTTP status codes, error kinds — never a token, a raw path or an
 * address. server/metrics_listen.c serves the text; server/metrics_refresh.c
 * sets the gauges. */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/errors.h"

/* Distinct route names counted; a name past that counts as "other". */
#define SD_METRICS_ROUTES 32

/* Reserve a series for a route name before its first request, so every
 * route shows up from the first scrape. name must be a string with static
 * storage (the router's table): it is kept, not copied. */
void sd_metrics_route_add(const char *name);

/* One answered request: its route name (static storage, as above), status
 * code and duration. */
void sd_metrics_request(const char *route, int status, int64_t usec);

/* A store statement failed with e (SD_OK is not counted). */
void sd_metrics_store_error(enum sd_err e);

/* A store connection could not be opened. */
void sd_metrics_store_connect_failed(void);

/* A write transaction is run again after a lost conflict. */
void sd_metrics_store_retry(void);

/* SQLite's writer committed (or tried to commit) jobs units in one
 * transaction. */
void sd_metrics_commit_batch(int64_t jobs);

/* A purge round ended: ok 0 when it stopped on a store error; deleted
 * messages past retention. */
void sd_metrics_purge_round(int ok, int64_t deleted);

/* What became of one webhook ping try (server/webhooks.c). */
enum sd_webhook_outcome {
	SD_WEBHOOK_DELIVERED, /* a 2xx */
	SD_WEBHOOK_RETRY,     /* failed; tried again later */
	SD_WEBHOOK_GAVE_UP,   /* failed, out of attempts: the webhook is failing */
	SD_WEBHOOK_REFUSED,   /* an address the outbound rules refuse: failing */
	SD_WEBHOOK__OUTCOMES
};
void sd_metrics_webhook(enum sd_webhook_outcome o);
/* A live event (server/events_publish.c): posted to nginx, dropped
 * because the queue was full, or a post that failed. */
enum sd_event_outcome { SD_EVENT_PUBLISHED, SD_EVENT_DROPPED, SD_EVENT_FAILED, SD_EVENT__N };
void sd_metrics_event(enum sd_event_outcome o);

/* What the periodic refresh found. A field of -1 is unknown and left out
 * of the exposition (disk figures on MariaDB). */
struct sd_metrics_gauges {
	int store_up;
	int64_t inboxes;
	int64_t messages;
	int64_t stored_bytes;
	int64_t disk_free_bytes;
	int64_t disk_size_bytes;
	time_t refreshed_at; /* when the totals were read; 0: never */
};

void sd_metrics_gauges_set(const struct sd_metrics_gauges *g);

/* Append the whole exposition (text format 0.0.4) to b. version goes into
 * sealdrop_build_info. Counters are read one by one while requests go on,
 * so two series may be a request apart; a histogram's count is always its
 * +Inf bucket. */
void sd_metrics_write(struct sd_buf *b, const char *version);

#endif
