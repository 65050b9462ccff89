/* The sealdrop HTTP API (docs/API.md), one function per call. Each returns
 * an exit code and has printed the reason when it is not CLI_OK.
 *
 * How a call proves it acts for the inbox: reading (/fetch) and marking
 * read (/ack) use the fetch token the session holds, or else a signed
 * challenge; erasing (/ack with delete, /unregister) and /rotate_token
 * always sign a purpose-bound challenge. A signature only ever covers
 * "sealdrop-v1\n<purpose>\n<origin>\n<link token>\n<challenge>" with our own
 * notion of the server's origin: a server cannot get a signature over text
 * of its choosing, nor relay another server's challenge. */
#ifndef SD_CLIENT_API_H
#define SD_CLIENT_API_H

#include <json-c/json.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "client/http.h"
#include "client/session.h"
#include "proto/limits.h" /* the server's input limits: #defines only */

#define API_ACK_BATCH SD_ACK_MAX_IDS /* ids per /ack request */

/* Map a reply to an exit code: 2xx CLI_OK, 401 CLI_EAUTH, anything else
 * CLI_ESERVER with "<what>: the server answered <status>: <reason>". */
int api_reply_check(const char *what, const struct http_reply *r);

/* The HTTP status of the latest API reply, 0 when none came (for callers
 * that decide whether to retry). */
long api_last_status(void);

/* Inbox capabilities (docs/RECEIPTS.md) as GET /key names them. */
#define API_CAP_ENVELOPE    1 /* "envelope-v1": the owner opens envelopes */
#define API_CAP_PADDED_ONLY 2 /* "padded-only": only bucket-sized boxes */

/* POST /register with the Ed25519 key, its X25519 conversion as
 * box_public_key and the capabilities "bound-signatures", "envelope-v1"
 * (and "padded-only" when padded_only). The new link token goes to token
 * (IDENTITY_TOKEN_MAX+1), the fetch token to fetch (IDENTITY_FETCH_MAX+1;
 * "" when the server gave none we can use). *missing: the API_CAP_* bits
 * asked for that the server's answer does not echo in its capabilities
 * (a server that ignores names it does not know registers without them);
 * the inbox exists all the same. */
int api_register_post(const char *server, const struct identity *id, const char *name,
                      int padded_only, char *token, char *fetch, unsigned *missing);

/* GET /key/<token>: the key senders seal to, box_public_key when the
 * recipient registered one, else the conversion of public_key; *caps the
 * API_CAP_* bits of its capabilities (0 when it names none). */
int api_key_get(const char *server, const char *token, unsigned char key[crypto_box_PUBLICKEYBYTES],
                unsigned *caps);

/* POST /send of a sealed box with a fresh idempotency key, sent again with
 * the same key when the server answers 502/503/504 (the message may have
 * been stored: the key makes the retry answer the first id). receipt_id
 * (base64url) is sent along when not NULL. *id is the new message's id; a
 * reply without a valid one is an error. */
int api_message_post(const char *server, const char *token, const unsigned char *sealed, size_t n,
                     const char *receipt_id, int64_t *id);

/* POST /receipt with receipt_auth (base64url): the reply is the caller's to
 * read (reply_receipt_take) and free. */
int api_receipt_post(const char *server, const char *auth, struct http_reply *r);

/* POST /receipt/answer of a sealed box under receipt_auth, retried like
 * api_message_post. */
int api_answer_post(const char *server, const char *auth, const unsigned char *sealed, size_t n,
                    int64_t *id);

/* Message id of the inbox, read or not, into *r / *m (borrowed from r's
 * reply; free r afterwards). A message that is not there is CLI_EUSAGE. */
int api_message_get(struct session *s, int64_t id, struct http_reply *r, json_object **m);

/* POST /reply of a sealed reply to message_id, signed for "reply"; *id is
 * the reply's id. */
int api_reply_post(struct session *s, int64_t message_id, const unsigned char *sealed, size_t n,
                   int64_t *id);

/* One page of POST /fetch: oldest first after cursor (since_id), or with
 * desc newest first below cursor (before_id; 0: from the newest). On
 * CLI_OK, *data borrows the reply's message array and *next is the cursor
 * of the next page or 0; free the reply afterwards. */
int api_messages_fetch(struct session *s, int include_seen, int desc, int64_t cursor,
                       struct http_reply *r, json_object **data, int64_t *next);

/* The id of the newest message of the inbox (read or not) into *id, 0 when
 * the inbox is empty. */
int api_newest_id(struct session *s, int64_t *id);

/* POST /ack of n ids, in batches of API_ACK_BATCH; *count adds up what
 * the server reports. */
int api_messages_ack(struct session *s, const int64_t *ids, size_t n, int del, int64_t *count);

/* POST /ack with up_to_id: every message with an id up to up_to. */
int api_messages_ack_upto(struct session *s, int64_t up_to, int del, int64_t *count);

/* A signed POST of the inbox's link token alone to path (/rotate_token,
 * /unregister), purpose-bound to purpose; the reply is the caller's to
 * free. */
int api_account_post(struct session *s, const char *path, const char *purpose,
                     struct http_reply *r);

/* POST /webhook with action "status" (read as /fetch reads: the fetch token
 * or a signature for "fetch"), "set" (url, kind "generic" or "ntfy") or
 * "clear" (both signed for purpose "webhook"); the reply is the caller's
 * to free. */
int api_webhook_post(struct session *s, const char *action, const char *url, const char *kind,
                     struct http_reply *r);

#endif
