/* The storage interface. Every operation is written once (store.c) above a
 * small per-backend driver (driver.h); one contract test suite runs against
 * each backend. Stores know nothing of HTTP; handlers know nothing of SQL.
 * A store handle belongs to one thread: open one per worker. */
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
	int64_t capabilities; /* SD_CAP_* its owner's client declared at registration */
};

/* Destructive operations (unregister, rotate_token, delete) need a
 * purpose-bound signature; the fetch token may read and mark read only. */
#define SD_CAP_BOUND_SIGNATURES 1
/* The owner's client opens the envelope of docs/RECEIPTS.md. */
#define SD_CAP_ENVELOPE         2
/* Only ciphertexts of a bucket size (SD_BUCKET_*) are stored. */
#define SD_CAP_PADDED_ONLY      4

/* One stored message as handed to a list callback; valid only during it. */
struct sd_msg {
	int64_t id;
	const char *encrypted_message; /* base64 */
	size_t encrypted_len;
	time_t created_at;
	int seen;
	const char *metadata; /* serialized JSON object, or NULL */
	size_t metadata_len;
	int64_t thread_id; /* 0: not part of a thread */
	int64_t replies;   /* replies stored under its thread's receipt */
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

/* Compute every inbox's counters again from its rows, after giving rows
 * that carry no charge (written by PyCrypt) their size. For an operator's
 * `sealdropd --migrate --recount` after PyCrypt ran on the database (its sends and
 * deletes do not touch sealdrop's counters); not while serving, since a
 * send racing the recount could be counted twice or not at all. */
SD_MUST_CHECK enum sd_err store_recount(struct sd_store *st);

/* SD_OK when the database answers. */
SD_MUST_CHECK enum sd_err store_ping(struct sd_store *st);

/* Insert a new inbox; sets c->id. SD_ECONFLICT when the link token exists. */
SD_MUST_CHECK enum sd_err store_client_insert(struct sd_store *st, struct sd_client *c);

/* Look up an inbox by link token: SD_OK (filled), SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_client_get(struct sd_store *st, const char *link_token,
                                           struct sd_client *out);

/* What an inbox holds against its caps: messages and charged bytes. */
SD_MUST_CHECK enum sd_err store_client_usage(struct sd_store *st, const char *link_token,
                                             int64_t *messages, int64_t *bytes);

/* Replace the stored fetch token hash (the old token stops working at once). */
SD_MUST_CHECK enum sd_err store_client_set_fetch_hash(struct sd_store *st, const char *link_token,
                                                      const char *hash);

/* Erase an inbox with its messages and challenges. */
SD_MUST_CHECK enum sd_err store_client_delete(struct sd_store *st, const char *link_token);

/* What the server holds in all: inboxes, their messages and their charged
 * bytes, as the per-inbox counters say (one scan of clients: for periodic
 * looks, never per request). */
SD_MUST_CHECK enum sd_err store_totals(struct sd_store *st, int64_t *inboxes, int64_t *messages,
                                       int64_t *bytes);

/* A message to store: the base64 text, metadata (serialized JSON or NULL),
 * the decoded ciphertext length (PyCrypt's size_bytes) and the sender's
 * idempotency key (NULL: none). */
struct sd_msg_new {
	const char *encrypted_b64;
	const char *metadata;
	int64_t size_bytes;
	const char *idempotency_key;
	/* NULL: no receipt. Otherwise a receipt id (43 characters of
	 * base64url): a new receipt whose thread this message opens, or, with
	 * answer set, the existing receipt whose thread it joins. */
	const char *receipt_id;
	int answer;
};

/* Store a message if the inbox stays within its caps. The charge (the
 * base64 text and the metadata, in bytes) counts against the byte cap and
 * is recorded with the row, so deleting it gives back exactly that. A key
 * the inbox already holds stores nothing and gives that message's id (a
 * retry after a lost reply). With a receipt id the message, its receipt
 * (new, or the answered one's thread) and its status row are stored in the
 * one transaction. SD_OK sets *id, and *stored (when not NULL) to 1 when
 * this call stored the message, 0 for a retry of a stored one (also one
 * that raced the first: only one of them stores); SD_EFULL; SD_ENOTFOUND
 * (no inbox, or the answered receipt is gone); SD_ECONFLICT a new
 * receipt's id is taken. */
SD_MUST_CHECK enum sd_err store_msg_insert(struct sd_store *st, const char *link_token,
                                           const struct sd_msg_new *m, const struct sd_limits *lim,
                                           time_t now, int64_t *id, int *stored);

/* The id of the inbox's message stored under idempotency key `key`:
 * SD_OK (set), SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_msg_by_key(struct sd_store *st, const char *link_token,
                                           const char *key, int64_t *id);

/* Call cb for up to q->limit messages of one inbox in id order. A non-zero
 * return from cb stops the listing (the store still returns SD_OK). */
SD_MUST_CHECK enum sd_err store_msg_list(struct sd_store *st, const char *link_token,
                                         const struct sd_msg_query *q, sd_msg_cb cb, void *ctx);

/* Mark (or, with del, erase) those of ids[0..n) that belong to link_token.
 * ids must be distinct. *count is how many belonged. */
SD_MUST_CHECK enum sd_err store_msg_ack(struct sd_store *st, const char *link_token,
                                        const int64_t *ids, size_t n, int del, int64_t *count);

/* store_msg_ack for every message of the inbox with id <= up_to, in
 * batches of SD_ACK_BATCH (one transaction each, so a big inbox never makes
 * one huge transaction). Later messages have higher ids and are untouched. */
#define SD_ACK_BATCH 500
SD_MUST_CHECK enum sd_err store_msg_ack_upto(struct sd_store *st, const char *link_token,
                                             int64_t up_to, int del, int64_t *count);

/* ---- receipts (receipts.c) ----------------------------------------------
 * A sender's receipt of a message: found by its receipt id, it shows the
 * statuses of its thread's messages as last released, and the owner's
 * replies. Status changes (read, deleted, expired) are recorded at once,
 * with the change, and shown only after the next release (docs/RECEIPTS.md).
 * Statuses and replies outlive the messages; the receipt goes with its
 * inbox, or SEALDROP_RECEIPT_DAYS after its last activity. */
enum sd_rcpt_status { SD_RCPT_STORED, SD_RCPT_READ, SD_RCPT_DELETED, SD_RCPT_EXPIRED };

/* "stored", "read", "deleted", "expired" */
const char *store_receipt_status_name(enum sd_rcpt_status s);

struct sd_receipt {
	int64_t key; /* the row's own id, for the listings below */
	char link_token[SD_LINK_TOKEN_MAX + 1];
	int64_t thread_id;
	time_t created_at;
	time_t released_at; /* the last release that changed one of its statuses */
};

struct sd_receipt_msg {
	int64_t id;
	enum sd_rcpt_status status; /* as released */
	time_t created_at;
};

struct sd_reply {
	int64_t id;
	const char *encrypted_reply; /* base64 */
	size_t encrypted_len;
	time_t created_at;
};

typedef int (*sd_receipt_msg_cb)(void *ctx, const struct sd_receipt_msg *m);
typedef int (*sd_reply_cb)(void *ctx, const struct sd_reply *r);

/* The receipt stored under receipt_id: SD_OK (filled), SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_receipt_get(struct sd_store *st, const char *receipt_id,
                                            struct sd_receipt *out);

/* Call cb for at most limit messages of receipt `key`'s thread, oldest
 * first, with their released statuses. */
SD_MUST_CHECK enum sd_err store_receipt_messages(struct sd_store *st, int64_t key, int64_t limit,
                                                 sd_receipt_msg_cb cb, void *ctx);

/* Call cb for at most limit replies under receipt `key`, oldest first. */
SD_MUST_CHECK enum sd_err store_receipt_replies(struct sd_store *st, int64_t key, int64_t limit,
                                                sd_reply_cb cb, void *ctx);

/* Store the owner's reply (base64 text) to message msg_id of link_token,
 * under that message's receipt: SD_OK sets *id; SD_ENOTFOUND no such
 * message in this inbox; SD_ECONFLICT it came without a receipt (or the
 * receipt was erased); SD_ELIMIT the receipt holds lim->replies_per_receipt
 * or the inbox lim->replies_per_inbox replies. Serialised per inbox, so two
 * replies at the cap never both get in. */
SD_MUST_CHECK enum sd_err store_reply_insert(struct sd_store *st, const char *link_token,
                                             int64_t msg_id, const char *encrypted_b64,
                                             const struct sd_limits *lim, time_t now, int64_t *id);

/* Release: show every pending status change at once (in batches of
 * SD_PURGE_BATCH rows, one transaction each, one after the other), if no
 * instance released since the last one allowed the next at (now), or the
 * next was set further off than interval allows (by an instance with a
 * longer one: instances on one database should share the setting, and the
 * shortest wins); the next is allowed interval + 0..interval/2 seconds
 * (random) later. *released: the status rows changed (-1 when it was not
 * time yet). */
SD_MUST_CHECK enum sd_err store_receipts_release(struct sd_store *st, time_t now, int64_t interval,
                                                 int64_t *released);

/* Erase at most SD_PURGE_BATCH receipts with their statuses and replies
 * whose last activity was before cutoff. *purged: how many. */
SD_MUST_CHECK enum sd_err store_receipts_purge(struct sd_store *st, time_t cutoff, int64_t *purged);

/* Record a new challenge for link_token from caller, issued for purpose
 * (NULL: PyCrypt's form, for no purpose in particular), unless caller
 * already holds lim->challenges_per_caller unexpired ones (SD_ELIMIT). */
SD_MUST_CHECK enum sd_err store_challenge_insert(struct sd_store *st, const char *link_token,
                                                 const char *challenge, const char *purpose,
                                                 const char *caller, time_t now,
                                                 const struct sd_limits *lim);

/* Consume a challenge issued for purpose (NULL matches only a challenge
 * issued without one) atomically: of any number of concurrent callers, one
 * gets SD_OK; the rest, and expired or unknown challenges, SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_challenge_consume(struct sd_store *st, const char *link_token,
                                                  const char *challenge, const char *purpose,
                                                  time_t now);

/* Housekeeping: drop expired challenges (in batches) and at most
 * SD_PURGE_BATCH messages created before msg_cutoff (0: keep messages),
 * freeing their inboxes' places. Sets *purged; a full batch means "call
 * again". Small batches keep every transaction (on a cluster, every
 * write-set) small, so purging never holds up requests. */
#define SD_PURGE_BATCH 500
SD_MUST_CHECK enum sd_err store_purge(struct sd_store *st, time_t now, time_t msg_cutoff,
                                      int64_t *purged);

/* ---- message requests: PyCrypt's permission API ------------------------
 * A sender (from) asks an inbox (to) to accept its messages; the owner of
 * `to` accepts or rejects. Statuses are PyCrypt's words. */
enum sd_req_status { SD_REQ_PENDING, SD_REQ_ACCEPTED, SD_REQ_REJECTED };

struct sd_msgreq {
	int64_t id;
	const char *from_link_token;
	const char *from_nickname;
	time_t created_at;
	int verified; /* the sender proved it owns from_link_token */
};

typedef int (*sd_msgreq_cb)(void *ctx, const struct sd_msgreq *r);

/* Open a request from `from` to `to` (both exist: the caller checked).
 * When one is already pending or accepted, nothing is written and *id /
 * *status describe it (*created = 0); a rejected one stays rejected
 * (*status = SD_REQ_REJECTED). Otherwise a pending request is stored
 * (*created = 1), unless `to` already has lim->requests_per_inbox pending
 * or caller has lim->requests_per_caller pending anywhere: SD_ELIMIT.
 * SD_ENOTFOUND when `to` vanished meanwhile. */
SD_MUST_CHECK enum sd_err store_msgreq_open(struct sd_store *st, const char *from, const char *to,
                                            const char *nickname, int verified, const char *caller,
                                            time_t now, const struct sd_limits *lim, int64_t *id,
                                            enum sd_req_status *status, int *created);

/* Call cb for the pending requests to `to`, oldest first, at most limit. */
SD_MUST_CHECK enum sd_err store_msgreq_list(struct sd_store *st, const char *to, int64_t limit,
                                            sd_msgreq_cb cb, void *ctx);

/* Accept or reject request id of inbox `to`: SD_OK; SD_ENOTFOUND no such
 * request; SD_EFORBIDDEN it is another inbox's; SD_ECONFLICT it was
 * already answered (*was gets its status). */
SD_MUST_CHECK enum sd_err store_msgreq_answer(struct sd_store *st, const char *to, int64_t id,
                                              int accept, time_t now, enum sd_req_status *was);

/* SD_OK when `from` holds an accepted request to `to`, else SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_msgreq_allowed(struct sd_store *st, const char *from,
                                               const char *to);

/* ---- webhooks: one notification URL per inbox, pinged from an outbox ----
 * A stored message leaves at most one pending ping per inbox (coalesced:
 * due no sooner than lim->webhook_interval after the last one delivered),
 * written in the message's own transaction. Senders claim due pings for a
 * lease; a claim left by a process that died expires and the ping is
 * claimed again. */
#define SD_WEBHOOK_URL_MAX   2048
#define SD_WEBHOOK_ERROR_MAX 32
#define SD_WEBHOOK_CLAIM_MAX 64

struct sd_webhook {
	char url[SD_WEBHOOK_URL_MAX + 1];
	char kind[16]; /* "generic" or "ntfy" */
	int failing;   /* attempts ran out; cleared by a delivery or a new URL */
	char last_error[SD_WEBHOOK_ERROR_MAX + 1]; /* the last failure's class, "" none */
	time_t failed_at;                          /* the last failure, 0 none */
	time_t last_sent_at;                       /* the last delivery, 0 none */
	int pending;                               /* a ping waits in the outbox */
	int64_t attempts;                          /* ... after this many failed tries */
	time_t due_at;                             /* ... and is due then */
};

/* A claimed ping: where to send it. */
struct sd_webhook_job {
	char link[SD_LINK_TOKEN_MAX + 1];
	char claim[SD_WEBHOOK_CLAIM_MAX + 1];
	char url[SD_WEBHOOK_URL_MAX + 1];
	char kind[16];
	int64_t attempts; /* failed tries before this one */
	int failing;      /* the webhook is marked failing: one try, no retries */
};

/* Set (or replace) the inbox's webhook: state ok, any pending ping of the
 * old URL dropped. SD_OK; SD_ENOTFOUND no inbox. */
SD_MUST_CHECK enum sd_err store_webhook_set(struct sd_store *st, const char *link_token,
                                            const char *url, const char *kind, time_t now);

/* Remove the inbox's webhook and its pending ping (SD_OK also when none). */
SD_MUST_CHECK enum sd_err store_webhook_clear(struct sd_store *st, const char *link_token);

/* The inbox's webhook and its outbox state: SD_OK (filled), SD_ENOTFOUND. */
SD_MUST_CHECK enum sd_err store_webhook_get(struct sd_store *st, const char *link_token,
                                            struct sd_webhook *out);

/* Claim one due, unclaimed ping until now + lease under claim (a random
 * string of at most SD_WEBHOOK_CLAIM_MAX bytes, unique per claim): of
 * several instances claiming the same ping, one gets it. SD_OK (job
 * filled), SD_ENOTFOUND nothing due. */
SD_MUST_CHECK enum sd_err store_webhook_claim(struct sd_store *st, const char *claim, time_t now,
                                              int64_t lease, struct sd_webhook_job *job);

/* The claimed ping was delivered: gone, unless a message came after the
 * claim, which leaves one pending, due interval seconds on. The webhook is
 * ok again. */
SD_MUST_CHECK enum sd_err store_webhook_delivered(struct sd_store *st,
                                                  const struct sd_webhook_job *job, time_t now,
                                                  int64_t interval);

/* The claimed ping failed with error (a class, not a reply): tried again
 * at retry_at, or with retry_at 0 dropped and the webhook marked failing. */
SD_MUST_CHECK enum sd_err store_webhook_failed(struct sd_store *st,
                                               const struct sd_webhook_job *job, const char *error,
                                               time_t now, time_t retry_at);

/* The backend's name, "sqlite" or "mysql". */
const char *store_backend(const struct sd_store *st);

/* 1 when the backend matches a link token in any ASCII case (MySQL,
 * MariaDB), 0 when exactly (SQLite: two inboxes may differ only in case). */
int store_links_fold_case(const struct sd_store *st);

#endif
