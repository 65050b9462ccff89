/* Judging what a server answered, field by field: pure checks over a
 * parsed reply, with no I/O but the error line, so that tests/cli's fuzzer
 * drives them as the API calls do. A field of the wrong type counts as
 * missing; each function says what it refuses. */
#ifndef SD_CLIENT_REPLY_H
#define SD_CLIENT_REPLY_H

#include <json-c/json.h>
#include <stdint.h>

#define REPLY_FORM            "sealdrop-v1" /* the purpose-bound form (docs/API.md) */
#define REPLY_CHALLENGE_BYTES 32

/* A /fetch page: its message array into *data (borrowed from reply), and
 * when has_more is true the next cursor into *next (0 otherwise), which
 * must move on from cursor: above it for an ascending page, below it for a
 * descending one (any id when cursor is 0, the first page). Every valid
 * id of the page must lie beyond cursor the same way, and with has_more
 * the page must not be empty and *next must be the id of its last message.
 * Returns 0, or -1 with the reason printed. */
int reply_page_take(json_object *reply, int desc, int64_t cursor, json_object **data,
                    int64_t *next);

/* The newest message's id of a one-message DESC page into *id (0 for an
 * empty page). Returns 0, or -1 with the reason printed. */
int reply_newest_take(json_object *reply, int64_t *id);

/* The challenge of a purpose challenge reply, after checking that its form
 * is REPLY_FORM, its purpose is purpose, the challenge base64 of exactly
 * REPLY_CHALLENGE_BYTES and its origin is origin (ours). NULL, with the
 * reason printed, for anything else: then nothing may be signed. */
const char *reply_challenge_take(json_object *reply, const char *purpose, const char *origin);

/* The id of a /send reply (1..INT64_MAX-1) into *id. Returns 0, or -1 with
 * the reason printed. */
int reply_sent_id_take(json_object *reply, int64_t *id);

/* The most messages and replies a POST /receipt answer may list: a thread
 * longer than that is a server's nonsense (the server keeps 20 replies). */
#define REPLY_RECEIPT_MESSAGES_MAX 1000
#define REPLY_RECEIPT_REPLIES_MAX  100

/* A POST /receipt answer, every field checked; pointers borrow from the
 * reply. messages and replies are arrays whose every element is an object
 * with an id >= 1, a created_at (reply_time_valid) and, for messages, a
 * status of REPLY_STATUSES; for replies an encrypted_reply that is base64
 * of a bucket-sized sealed box (docs/RECEIPTS.md). */
struct receipt_reply {
	const char *link_token;
	int64_t thread_id;
	const char *status;
	json_object *released_at;
	json_object *messages;
	json_object *replies;
};

/* 1 when v is a time as /receipt gives it: unix seconds, an integer in
 * 0..INT64_MAX-1. */
int reply_time_valid(json_object *v);

/* 1 when s is a released status: stored, read, deleted or expired. */
int reply_status_valid(const char *s);

/* Fill *out from a POST /receipt answer. Returns 0, or -1 with the reason
 * printed. */
int reply_receipt_take(json_object *reply, struct receipt_reply *out);

#endif
