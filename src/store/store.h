/* The storage interface. One implementation per backend (store_sqlite.c,
 * store_mysql.c); one contract test suite runs against each. Stores know
 * nothing of HTTP; handlers know nothing of SQL. A store handle belongs to
 * one thread: open one per worker. */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/sd.h"

#define SD_LINK_TOKEN_MAX   128 /* PyCrypt's VARCHAR(128) */
#define SD_DISPLAY_NAME_MAX 255 /* bytes; PyCrypt's VARCHAR(255) */
#define SD_HASH_MAX         128

struct sd_store;

struct sd_client {
	int64_t id;
	char link_token[SD_LINK_TOKEN_MAX + 1];
	char public_key[64]; /* base64 of the Ed25519 key */
	char public_key_hash[SD_HASH_MAX + 1];
	char display_name[4 * SD_DISPLAY_NAME_MAX + 1];
	int has_display_name;
	char fetch_token_hash[SD_HASH_MAX + 1];
	char key_type[16];
	char box_public_key[64]; /* base64 X25519 key, "" when not registered */
	time_t created_at;
};

/* One stored message as handed to a list callback; valid only during it. */
struct sd_msg {
	int64_t id;
	const char *encrypted_message; /* base64 */
	size_t encrypted_len;
	time_t created_at;
	int seen;
	const char *metadata; /* serialized JSON object, or NULL */
	size_t metadata_len;
};

struct sd_msg_query {
	int include_seen;
	int ascending;
	int64_t before_id; /* only ids below this (INT64_MAX: no bound) */
	int64_t since_id;  /* only ids above this (0: no bound) */
	int64_t limit;     /* rows wanted; the store returns at most limit */
};

typedef int (*sd_msg_cb)(void *ctx, const struct sd_msg *m);

/* Open a store for a DSN (sqlite:PATH, mysql://...). Returns SD_OK and a
 * handle, or an error with a message in err that never holds a password. */
SD_MUST_CHECK enum sd_err store_open(const char *dsn, const struct sd_config *cfg,
                                     struct sd_store **out, char *err, size_t errlen);
void store_close(struct sd_store *st);

/* Apply every migration not yet recorded in schema_version. Idempotent. */
SD_MUST_CHECK enum sd_err store_migrate(struct sd_store *st);

/* SD_OK when the database answers. */
SD_MUST_CHECK enum sd_err store_ping(struct sd_store *st);

/* Insert a new inbox; sets c->id. SD_ECONFLICT when the link token exists. */
SD_MUST_CHECK enum sd_err store_client_insert(struct sd_store *st, struct sd_client *c);

/* Look up an inbox by link token: SD_OK (filled), SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_client_get(struct sd_store *st, const char *link_token,
                                           struct sd_client *out);

/* Replace the stored fetch token hash (the old token stops working at once). */
SD_MUST_CHECK enum sd_err store_client_set_fetch_hash(struct sd_store *st, const char *link_token,
                                                      const char *hash);

/* Erase an inbox with its messages and challenges. */
SD_MUST_CHECK enum sd_err store_client_delete(struct sd_store *st, const char *link_token);

/* Store a message if the inbox stays within its caps. bytes is what counts
 * against the byte cap. SD_OK sets *id; SD_EFULL; SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_msg_insert(struct sd_store *st, const char *link_token,
                                           const char *encrypted_b64, const char *metadata,
                                           int64_t bytes, const struct sd_limits *lim, time_t now,
                                           int64_t *id);

/* Call cb for up to q->limit messages of one inbox in id order. A non-zero
 * return from cb stops the listing (the store still returns SD_OK). */
SD_MUST_CHECK enum sd_err store_msg_list(struct sd_store *st, const char *link_token,
                                         const struct sd_msg_query *q, sd_msg_cb cb, void *ctx);

/* Mark (or, with del, erase) those of ids[0..n) that belong to link_token.
 * ids must be distinct. *count is how many belonged. */
SD_MUST_CHECK enum sd_err store_msg_ack(struct sd_store *st, const char *link_token,
                                        const int64_t *ids, size_t n, int del, int64_t *count);

/* Record a new challenge for link_token from caller, unless caller already
 * holds lim->challenges_per_caller unexpired ones (SD_ELIMIT). */
SD_MUST_CHECK enum sd_err store_challenge_insert(struct sd_store *st, const char *link_token,
                                                 const char *challenge, const char *caller,
                                                 time_t now, const struct sd_limits *lim);

/* Consume a challenge atomically: of any number of concurrent callers, one
 * gets SD_OK; the rest, and expired or unknown challenges, SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_challenge_consume(struct sd_store *st, const char *link_token,
                                                  const char *challenge, time_t now);

/* Housekeeping: drop expired challenges and at most SD_PURGE_BATCH messages
 * created before msg_cutoff (0: keep messages), freeing their inboxes'
 * places. Sets *purged; a full batch means "call again". Small batches keep
 * every transaction short, so purging never holds up requests. */
#define SD_PURGE_BATCH 500
SD_MUST_CHECK enum sd_err store_purge(struct sd_store *st, time_t now, time_t msg_cutoff,
                                      int64_t *purged);

/* The backend's name, "sqlite" or "mysql". */
const char *store_backend(const struct sd_store *st);

#endif
