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

#endif
