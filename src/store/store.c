/* Backend selection by DSN, and the thin dispatch every caller goes through. */
#include "store/store_impl.h"

#include <stdio.h>
#include <string.h>

enum sd_err store_open(const char *dsn, const struct sd_config *cfg, struct sd_store **out,
                       char *err, size_t errlen)
{
	*out = NULL;
	if (strncmp(dsn, "sqlite:", 7) == 0)
		return store_sqlite_open(dsn + 7, cfg, out, err, errlen);
	if (strncmp(dsn, "mysql://", 8) == 0 || strncmp(dsn, "mariadb://", 10) == 0)
		return store_mysql_open(dsn, cfg, out, err, errlen);
	snprintf(err, errlen, "unknown database kind (want sqlite:PATH or mysql://...)");
	return SD_EINVAL;
}

void store_close(struct sd_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

const char *store_backend(const struct sd_store *st)
{
	return st->ops->name;
}

enum sd_err store_migrate(struct sd_store *st)
{
	return st->ops->migrate(st);
}

enum sd_err store_ping(struct sd_store *st)
{
	return st->ops->ping(st);
}

enum sd_err store_client_insert(struct sd_store *st, struct sd_client *c)
{
	return st->ops->client_insert(st, c);
}

enum sd_err store_client_get(struct sd_store *st, const char *link, struct sd_client *out)
{
	return st->ops->client_get(st, link, out);
}

enum sd_err store_client_set_fetch_hash(struct sd_store *st, const char *link, const char *hash)
{
	return st->ops->client_set_fetch_hash(st, link, hash);
}

enum sd_err store_client_delete(struct sd_store *st, const char *link)
{
	return st->ops->client_delete(st, link);
}

enum sd_err store_msg_insert(struct sd_store *st, const char *link, const char *ct,
                             const char *metadata, int64_t bytes, const struct sd_limits *lim,
                             time_t now, int64_t *id)
{
	return st->ops->msg_insert(st, link, ct, metadata, bytes, lim, now, id);
}

enum sd_err store_msg_list(struct sd_store *st, const char *link, const struct sd_msg_query *q,
                           sd_msg_cb cb, void *ctx)
{
	return st->ops->msg_list(st, link, q, cb, ctx);
}

enum sd_err store_msg_ack(struct sd_store *st, const char *link, const int64_t *ids, size_t n,
                          int del, int64_t *count)
{
	return st->ops->msg_ack(st, link, ids, n, del, count);
}

enum sd_err store_challenge_insert(struct sd_store *st, const char *link, const char *challenge,
                                   const char *caller, time_t now, const struct sd_limits *lim)
{
	return st->ops->challenge_insert(st, link, challenge, caller, now, lim);
}

enum sd_err store_challenge_consume(struct sd_store *st, const char *link, const char *challenge,
                                    time_t now)
{
	return st->ops->challenge_consume(st, link, challenge, now);
}

enum sd_err store_purge(struct sd_store *st, time_t now, time_t msg_cutoff, int64_t *purged)
{
	return st->ops->purge(st, now, msg_cutoff, purged);
}
