#include "core/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include "core/sd.h"

typedef _Atomic uint64_t counter;

static inline void count(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t peek(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- histograms --------------------------------------------------------
 * Each bucket counts only its own range; the writer sums them into
 * Prometheus's cumulative form, so buckets are monotone and the count
 * equals the +Inf bucket in every scrape, even one taken mid-request. */

struct bound {
	const char *le; /* as written in the label */
	int64_t upto;   /* in the unit observed */
};

/* Request latency, in microseconds observed, seconds written. */
static const struct bound latency_bounds[] = {
    {"0.0005", 500},  {"0.001", 1000},  {"0.0025", 2500}, {"0.005", 5000},  {"0.01", 10000},
    {"0.025", 25000}, {"0.05", 50000},  {"0.1", 100000},  {"0.25", 250000}, {"0.5", 500000},
    {"1", 1000000},   {"2.5", 2500000}, {"5", 5000000},   {"10", 10000000},
};
#define LATENCY_BUCKETS (SD_ARRAY_LEN(latency_bounds) + 1)

/* Jobs in one SQLite group commit. */
static const struct bound batch_bounds[] = {
    {"1", 1},   {"2", 2},   {"4", 4},     {"8", 8},     {"16", 16},
    {"32", 32}, {"64", 64}, {"128", 128}, {"256", 256},
};
#define BATCH_BUCKETS (SD_ARRAY_LEN(batch_bounds) + 1)

static size_t bucket_of(const struct bound *b, size_t n, int64_t v)
{
	size_t i = 0;

	while (i < n && v > b[i].upto)
		i++;
	return i; /* n: the +Inf bucket */
}

/* ---- routes ------------------------------------------------------------ */

#define STATUS_MIN   100
#define STATUS_SLOTS 500 /* 100..599 */

struct route_series {
	counter by_status[STATUS_SLOTS + 1]; /* the last: a status outside 100..599 */
	counter latency[LATENCY_BUCKETS];
	counter latency_sum_us;
};

static const char *_Atomic route_names[SD_METRICS_ROUTES];
static struct route_series routes[SD_METRICS_ROUTES];

/* The slot of a route name, claimed on first sight with a compare-and-swap
 * (no lock); the last slot is "other" once all are taken. */
static size_t route_slot(const char *name)
{
	for (size_t i = 0; i + 1 < SD_METRICS_ROUTES; i++) {
		const char *have = atomic_load_explicit(&route_names[i], memory_order_acquire);

		if (have == NULL) {
			const char *expected = NULL;

			if (atomic_compare_exchange_strong_explicit(&route_names[i], &expected,
			                                            name, memory_order_acq_rel,
			                                            memory_order_acquire))
				return i;
			have = expected; /* another thread took it meanwhile */
		}
		if (have == name || strcmp(have, name) == 0)
			return i;
	}
	return SD_METRICS_ROUTES - 1;
}

void sd_metrics_route_add(const char *name)
{
	(void)route_slot(name);
}

void sd_metrics_request(const char *route, int status, int64_t usec)
{
	struct route_series *r = &routes[route_slot(route != NULL ? route : "-")];
	int s = status - STATUS_MIN;

	if (usec < 0)
		usec = 0;
	count(&r->by_status[s >= 0 && s < STATUS_SLOTS ? s : STATUS_SLOTS], 1);
	count(&r->latency[bucket_of(latency_bounds, SD_ARRAY_LEN(latency_bounds), usec)], 1);
	count(&r->latency_sum_us, (uint64_t)usec);
}

/* ---- store, purge ------------------------------------------------------ */

enum store_kind { K_CONFLICT, K_RETRY, K_DB, K_NOMEM, K_INVALID, K_OTHER, K_CONNECT, K__MAX };

static const char *const store_kind_names[K__MAX] = {
    [K_CONFLICT] = "conflict", [K_RETRY] = "retry", [K_DB] = "db",           [K_NOMEM] = "nomem",
    [K_INVALID] = "invalid",   [K_OTHER] = "other", [K_CONNECT] = "connect",
};

static counter store_errors[K__MAX];
static counter store_retries;
static counter batch_hist[BATCH_BUCKETS];
static counter batch_jobs;
static counter purge_runs, purge_failures, purge_deleted;
static counter events[SD_EVENT__N];
static const char *const event_outcomes[SD_EVENT__N] = {"published", "dropped", "failed"};

void sd_metrics_event(enum sd_event_outcome o)
{
	if ((unsigned)o < SD_EVENT__N)
		count(&events[o], 1);
}

void sd_metrics_store_error(enum sd_err e)
{
	enum store_kind k;

	switch (e) {
	case SD_OK:
		return;
	case SD_ECONFLICT:
		k = K_CONFLICT;
		break;
	case SD_ERETRY:
		k = K_RETRY;
		break;
	case SD_EDB:
		k = K_DB;
		break;
	case SD_ENOMEM:
		k = K_NOMEM;
		break;
	case SD_EINVAL:
		k = K_INVALID;
		break;
	default:
		k = K_OTHER;
		break;
	}
	count(&store_errors[k], 1);
}

void sd_metrics_store_connect_failed(void)
{
	count(&store_errors[K_CONNECT], 1);
}

void sd_metrics_store_retry(void)
{
	count(&store_retries, 1);
}

void sd_metrics_commit_batch(int64_t jobs)
{
	if (jobs < 0)
		jobs = 0;
	count(&batch_hist[bucket_of(batch_bounds, SD_ARRAY_LEN(batch_bounds), jobs)], 1);
	count(&batch_jobs, (uint64_t)jobs);
}

void sd_metrics_purge_round(int ok, int64_t deleted)
{
	count(&purge_runs, 1);
	if (!ok)
		count(&purge_failures, 1);
	if (deleted > 0)
		count(&purge_deleted, (uint64_t)deleted);
}

static counter webhook_pings[SD_WEBHOOK__OUTCOMES];
static const char *const webhook_outcome_names[SD_WEBHOOK__OUTCOMES] = {
    [SD_WEBHOOK_DELIVERED] = "delivered",
    [SD_WEBHOOK_RETRY] = "retry",
    [SD_WEBHOOK_GAVE_UP] = "gave_up",
    [SD_WEBHOOK_REFUSED] = "refused",
};

void sd_metrics_webhook(enum sd_webhook_outcome o)
{
	if ((unsigned)o < SD_WEBHOOK__OUTCOMES)
		count(&webhook_pings[o], 1);
}

/* ---- gauges: set by the refresh thread, read by a scrape ---------------- */

static pthread_mutex_t gauges_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sd_metrics_gauges gauges = {0, -1, -1, -1, -1, -1, 0};

void sd_metrics_gauges_set(const struct sd_metrics_gauges *g)
{
	pthread_mutex_lock(&gauges_mu);
	gauges = *g;
	pthread_mutex_unlock(&gauges_mu);
}

/* ---- exposition -------------------------------------------------------- */

static void family(struct sd_buf *b, const char *name, const char *type, const char *help)
{
	sd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with the escapes of the text format (\\, \", \n). Route
 * names are the router's literals, so this is belt and braces. */
static void label_value(struct sd_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sd_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			sd_buf_puts(b, "\\n");
		else
			sd_buf_append(b, v, 1);
	}
}

/* name{label="value"}, or name alone when label is NULL. */
static void series(struct sd_buf *b, const char *name, const char *label, const char *value)
{
	sd_buf_puts(b, name);
	if (label != NULL) {
		sd_buf_printf(b, "{%s=\"", label);
		label_value(b, value);
		sd_buf_puts(b, "\"}");
	}
}

static void sample_u64(struct sd_buf *b, const char *name, const char *label, const char *value,
                       uint64_t v)
{
	series(b, name, label, value);
	sd_buf_printf(b, " %" PRIu64 "\n", v);
}

/* Buckets, sum and count of one histogram; label may be NULL. sum is
 * written as sum_num / sum_den. */
static void histogram(struct sd_buf *b, const char *name, const char *label, const char *value,
                      const struct bound *bounds, size_t nb, counter *buckets, uint64_t sum_num,
                      uint64_t sum_den)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= nb; i++) {
		cum += peek(&buckets[i]);
		sd_buf_printf(b, "%s_bucket{", name);
		if (label != NULL) {
			sd_buf_printf(b, "%s=\"", label);
			label_value(b, value);
			sd_buf_puts(b, "\",");
		}
		sd_buf_printf(b, "le=\"%s\"} %" PRIu64 "\n", i < nb ? bounds[i].le : "+Inf", cum);
	}
	sd_buf_printf(b, "%s_sum", name);
	if (label != NULL) {
		sd_buf_printf(b, "{%s=\"", label);
		label_value(b, value);
		sd_buf_puts(b, "\"}");
	}
	sd_buf_printf(b, " %" PRIu64 ".%06" PRIu64 "\n", sum_num / sum_den,
	              (sum_num % sum_den) * (1000000 / sum_den));
	sd_buf_printf(b, "%s_count", name);
	if (label != NULL) {
		sd_buf_printf(b, "{%s=\"", label);
		label_value(b, value);
		sd_buf_puts(b, "\"}");
	}
	sd_buf_printf(b, " %" PRIu64 "\n", cum);
}

static const char *route_label(size_t i)
{
	const char *n = atomic_load_explicit(&route_names[i], memory_order_acquire);

	return n != NULL ? n : i == SD_METRICS_ROUTES - 1 ? "other" : NULL;
}

static void write_requests(struct sd_buf *b)
{
	family(b, "sealdrop_http_requests_total", "counter",
	       "Requests answered, by route name and status code.");
	for (size_t i = 0; i < SD_METRICS_ROUTES; i++) {
		const char *name = route_label(i);

		if (name == NULL)
			continue;
		for (int s = 0; s <= STATUS_SLOTS; s++) {
			uint64_t v = peek(&routes[i].by_status[s]);
			char code[8];

			if (v == 0)
				continue;
			if (s < STATUS_SLOTS)
				snprintf(code, sizeof code, "%d", s + STATUS_MIN);
			else
				snprintf(code, sizeof code, "other");
			sd_buf_puts(b, "sealdrop_http_requests_total{route=\"");
			label_value(b, name);
			sd_buf_printf(b, "\",code=\"%s\"} %" PRIu64 "\n", code, v);
		}
	}
	family(b, "sealdrop_http_request_duration_seconds", "histogram",
	       "Time from a request's arrival at sealdropd to its answer, by route name.");
	for (size_t i = 0; i < SD_METRICS_ROUTES; i++) {
		const char *name = route_label(i);

		if (name != NULL)
			histogram(b, "sealdrop_http_request_duration_seconds", "route", name,
			          latency_bounds, SD_ARRAY_LEN(latency_bounds), routes[i].latency,
			          peek(&routes[i].latency_sum_us), 1000000);
	}
}

static void write_store(struct sd_buf *b)
{
	family(b, "sealdrop_store_errors_total", "counter",
	       "Store statements that failed, by kind; connect: a connection that could not be "
	       "opened.");
	for (int k = 0; k < K__MAX; k++)
		sample_u64(b, "sealdrop_store_errors_total", "kind", store_kind_names[k],
		           peek(&store_errors[k]));
	family(b, "sealdrop_store_retries_total", "counter",
	       "Write transactions run again after a lost deadlock or lock wait.");
	sample_u64(b, "sealdrop_store_retries_total", NULL, NULL, peek(&store_retries));
	family(b, "sealdrop_sqlite_commit_batch_size", "histogram",
	       "Write units committed together by SQLite's writer (group commit).");
	histogram(b, "sealdrop_sqlite_commit_batch_size", NULL, NULL, batch_bounds,
	          SD_ARRAY_LEN(batch_bounds), batch_hist, peek(&batch_jobs), 1);
	family(b, "sealdrop_purge_runs_total", "counter", "Purge rounds run.");
	sample_u64(b, "sealdrop_purge_runs_total", NULL, NULL, peek(&purge_runs));
	family(b, "sealdrop_purge_failures_total", "counter",
	       "Purge rounds cut short by a store error.");
	sample_u64(b, "sealdrop_purge_failures_total", NULL, NULL, peek(&purge_failures));
	family(b, "sealdrop_purge_deleted_messages_total", "counter",
	       "Messages deleted by the purge for being past the retention period.");
	sample_u64(b, "sealdrop_purge_deleted_messages_total", NULL, NULL, peek(&purge_deleted));
	family(b, "sealdrop_webhook_pings_total", "counter",
	       "Webhook ping tries by outcome: delivered, retry, gave_up, refused.");
	for (int o = 0; o < SD_WEBHOOK__OUTCOMES; o++)
		sample_u64(b, "sealdrop_webhook_pings_total", "outcome", webhook_outcome_names[o],
		           peek(&webhook_pings[o]));
	family(b, "sealdrop_events_total", "counter",
	       "Live events: posted to nginx, dropped (queue full), or failed posts.");
	for (int i = 0; i < SD_EVENT__N; i++)
		sample_u64(b, "sealdrop_events_total", "outcome", event_outcomes[i],
		           peek(&events[i]));
}

static void gauge(struct sd_buf *b, const char *name, const char *help, int64_t v)
{
	if (v < 0)
		return;
	family(b, name, "gauge", help);
	sd_buf_printf(b, "%s %" PRId64 "\n", name, v);
}

static void write_gauges(struct sd_buf *b)
{
	struct sd_metrics_gauges g;

	pthread_mutex_lock(&gauges_mu);
	g = gauges;
	pthread_mutex_unlock(&gauges_mu);
	gauge(b, "sealdrop_store_up", "1 when the store answered at the last refresh.",
	      g.store_up ? 1 : 0);
	gauge(b, "sealdrop_inboxes", "Registered inboxes, at the last refresh.", g.inboxes);
	gauge(b, "sealdrop_messages", "Stored messages, at the last refresh.", g.messages);
	gauge(b, "sealdrop_stored_bytes",
	      "Bytes charged to inboxes (base64 text plus metadata), at the last refresh.",
	      g.stored_bytes);
	gauge(b, "sealdrop_totals_refresh_timestamp_seconds",
	      "When the inbox and message totals were last read (Unix time).",
	      g.refreshed_at > 0 ? (int64_t)g.refreshed_at : -1);
	gauge(b, "sealdrop_disk_free_bytes",
	      "Bytes free to sealdropd on the SQLite database's file system.", g.disk_free_bytes);
	gauge(b, "sealdrop_disk_size_bytes", "Size of the SQLite database's file system in bytes.",
	      g.disk_size_bytes);
}

void sd_metrics_write(struct sd_buf *b, const char *version)
{
	family(b, "sealdrop_build_info", "gauge", "The running sealdropd's version.");
	series(b, "sealdrop_build_info", "version", version);
	sd_buf_puts(b, " 1\n");
	write_requests(b);
	write_store(b);
	write_gauges(b);
}
