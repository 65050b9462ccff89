#include "api/capacity.h"

#include <pthread.h>

#include "api/api_util.h"
#include "core/disk.h"

/* How long a look at the totals and the disk holds. Counting every inbox
 * on every send would cost a scan; between two looks, this process adds
 * what it wrote itself (capacity_added), and what other instances or
 * deletions changed shows at the next look. */
#define CAPACITY_REFRESH_SECONDS 2

static struct {
	pthread_mutex_t lock;
	time_t at;      /* 0: never looked */
	int refreshing; /* one thread looks; the others use what was seen */
	int64_t inboxes, bytes, disk_free;
} usage = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, -1};

/* Free bytes where the SQLite database lives; -1 for another backend or
 * when it cannot be known. */
static int64_t disk_free(const struct sd_config *cfg)
{
	int64_t free_b, size_b;

	return sd_sqlite_disk_space(cfg->db, &free_b, &size_b) == 0 ? free_b : -1;
}

/* The usage as of at most CAPACITY_REFRESH_SECONDS ago. One thread looks
 * at the database, without the lock held, while the others go on with the
 * last look: a slow database never holds every send up. A failed look keeps
 * the last totals: a bound never turns a database hiccup into a 5xx. The
 * totals are counted only when a bound needs them. */
static void usage_now(struct sd_ctx *ctx, int64_t *inboxes, int64_t *bytes, int64_t *free_b)
{
	const struct sd_limits *l = &ctx->cfg->limits;
	int look, ok = 0;
	int64_t n = 0, m, b = 0, d;

	pthread_mutex_lock(&usage.lock);
	look = !usage.refreshing &&
	       (usage.at == 0 || ctx->now - usage.at >= CAPACITY_REFRESH_SECONDS ||
	        ctx->now < usage.at);
	if (look)
		usage.refreshing = 1;
	pthread_mutex_unlock(&usage.lock);
	if (look) {
		if (l->max_inboxes > 0 || l->max_stored_bytes > 0)
			ok = store_totals(ctx->store, &n, &m, &b) == SD_OK;
		d = disk_free(ctx->cfg);
		pthread_mutex_lock(&usage.lock);
		if (ok) {
			usage.inboxes = n;
			usage.bytes = b;
		}
		usage.disk_free = d;
		usage.at = ctx->now;
		usage.refreshing = 0;
		pthread_mutex_unlock(&usage.lock);
	}
	pthread_mutex_lock(&usage.lock);
	*inboxes = usage.inboxes;
	*bytes = usage.bytes;
	*free_b = usage.disk_free;
	pthread_mutex_unlock(&usage.lock);
}

void capacity_added(int64_t inboxes, int64_t bytes)
{
	pthread_mutex_lock(&usage.lock);
	usage.inboxes += inboxes;
	usage.bytes += bytes;
	if (usage.disk_free >= 0)
		usage.disk_free -= bytes;
	pthread_mutex_unlock(&usage.lock);
}

static void storage_full(struct sd_ctx *ctx)
{
	reply_error(ctx, 507, "storage_full",
	            "This server is out of storage for new messages and inboxes; try later");
	ctx->resp->retry_after = 600;
}

static int bytes_fit(const struct sd_limits *l, int64_t bytes, int64_t free_b, int64_t charge)
{
	if (l->max_stored_bytes > 0 && bytes + charge > l->max_stored_bytes)
		return 0;
	return free_b < 0 || free_b - charge >= l->min_free_bytes;
}

int capacity_inbox_or_reply(struct sd_ctx *ctx)
{
	const struct sd_limits *l = &ctx->cfg->limits;
	int64_t inboxes, bytes, free_b;

	usage_now(ctx, &inboxes, &bytes, &free_b);
	if (l->max_inboxes > 0 && inboxes >= l->max_inboxes) {
		reply_error(ctx, 503, "capacity_reached",
		            "This server takes no new inboxes at the moment");
		ctx->resp->retry_after = 3600;
		return -1;
	}
	if (!bytes_fit(l, bytes, free_b, 0)) {
		storage_full(ctx);
		return -1;
	}
	return 0;
}

int capacity_send_or_reply(struct sd_ctx *ctx, int64_t charge)
{
	int64_t inboxes, bytes, free_b;

	usage_now(ctx, &inboxes, &bytes, &free_b);
	if (!bytes_fit(&ctx->cfg->limits, bytes, free_b, charge)) {
		storage_full(ctx);
		return -1;
	}
	return 0;
}
