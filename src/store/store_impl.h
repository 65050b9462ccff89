/* What a backend provides to store.c. Not for handlers. */
#ifndef SD_STORE_IMPL_H
#define SD_STORE_IMPL_H

#include "store/store.h"

struct sd_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated from sql/<backend>/NNN_name.sql; ends with a {0, NULL, NULL}. */
extern const struct sd_migration sd_migrations_sqlite[];
extern const struct sd_migration sd_migrations_mysql[];

struct sd_store_ops {
	const char *name;
	void (*close)(struct sd_store *st);
	enum sd_err (*migrate)(struct sd_store *st);
	enum sd_err (*ping)(struct sd_store *st);
	enum sd_err (*client_insert)(struct sd_store *st, struct sd_client *c);
	enum sd_err (*client_get)(struct sd_store *st, const char *link, struct sd_client *out);
	enum sd_err (*client_set_fetch_hash)(struct sd_store *st, const char *link,
	                                     const char *hash);
	enum sd_err (*client_delete)(struct sd_store *st, const char *link);
	enum sd_err (*msg_insert)(struct sd_store *st, const char *link, const char *ct,
	                          const char *metadata, int64_t bytes, const struct sd_limits *lim,
	                          time_t now, int64_t *id);
	enum sd_err (*msg_list)(struct sd_store *st, const char *link, const struct sd_msg_query *q,
	                        sd_msg_cb cb, void *ctx);
	enum sd_err (*msg_ack)(struct sd_store *st, const char *link, const int64_t *ids, size_t n,
	                       int del, int64_t *count);
	enum sd_err (*challenge_insert)(struct sd_store *st, const char *link,
	                                const char *challenge, const char *caller, time_t now,
	                                const struct sd_limits *lim);
	enum sd_err (*challenge_consume)(struct sd_store *st, const char *link,
	                                 const char *challenge, time_t now);
	enum sd_err (*purge)(struct sd_store *st, time_t now, time_t msg_cutoff, int64_t *purged);
};

/* Every backend's handle starts with this. */
struct sd_store {
	const struct sd_store_ops *ops;
};

enum sd_err store_sqlite_open(const char *path, const struct sd_config *cfg, struct sd_store **out,
                              char *err, size_t errlen);
enum sd_err store_mysql_open(const char *dsn, const struct sd_config *cfg, struct sd_store **out,
                             char *err, size_t errlen);

#endif
