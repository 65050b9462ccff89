/* The API calls. Replies are checked field by field: a field of the wrong
 * type counts as missing, and a reply we cannot use is CLI_ESERVER. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/b64.h"
#include "client/cli.h"
#include "client/jsonv.h"
#include "client/link.h"
#include "client/reply.h"

#define API_URL_MAX           (IDENTITY_SERVER_MAX + IDENTITY_TOKEN_MAX + 32)

/* A rate limit (429) is waited out and the request sent again: at most
 * this many times in a row, and never for longer than this per wait. */
#define API_RETRIES           5
#define API_RETRY_WAIT_MAX    30 /* seconds */

/* /send answered 502/503/504: the message may have been stored; sent again
 * with the same idempotency key at most this many times. */
#define API_SEND_RETRIES      3

/* The idempotency key: base64url of this many random bytes. */
#define API_IDEMPOTENCY_BYTES 16

/* Capabilities a GET /key reply may list; a longer list is nonsense. */
#define API_CAPS_MAX          32

/* Below the server's SD_FETCH_MAX_LIMIT: a page of the largest messages
 * must fit in one reply. */
#define API_FETCH_PAGE        100
_Static_assert(API_FETCH_PAGE <= SD_FETCH_MAX_LIMIT, "the server serves pages this long");

/* A page of the largest messages: ciphertext, metadata, the rest. */
#define API_PAGE_BYTES_MAX \
	(API_FETCH_PAGE * (B64_STD_SIZE(SD_MSG_MAX_BYTES) + SD_METADATA_MAX + 256))
_Static_assert(API_PAGE_BYTES_MAX < HTTP_REPLY_MAX, "a full page of messages fits in a reply");

/* The status of the latest reply, for callers that retry. */
static long api_status_last;

long api_last_status(void)
{
	return api_status_last;
}

int api_reply_check(const char *what, const struct http_reply *r)
{
	api_status_last = r->status;
	if (r->status >= 200 && r->status < 300)
		return CLI_OK;
	if (r->status == 507 || (r->status == 503 && jsonv_str_get(r->json, "code") != NULL &&
	                         strcmp(jsonv_str_get(r->json, "code"), "capacity_reached") == 0))
		cli_err("%s: the server is full and takes nothing new for now (%ld: %s)", what,
		        r->status, http_reply_reason(r));
	else
		cli_err("%s: the server answered %ld: %s", what, r->status, http_reply_reason(r));
	return r->status == 401 ? CLI_EAUTH : CLI_ESERVER;
}

static int api_url_make(char *url, const char *server, const char *path, const char *arg)
{
	int n = snprintf(url, API_URL_MAX, "%s%s%s", server, path, arg ? arg : "");

	return n >= 0 && n < API_URL_MAX ? 0 : -1;
}

static int api_code_is(const struct http_reply *r, const char *code)
{
	const char *c = jsonv_str_get(r->json, "code");

	return c != NULL && strcmp(c, code) == 0;
}

/* One exchange, a rate limit waited out: the reply whatever its status.
 * A full inbox is a 429 too, but waiting would not empty it. */
static int api_exchange(const char *method, const char *url, json_object *body, const char *bearer,
                        struct http_reply *r)
{
	long wait;
	int rc;

	for (int attempt = 0;; attempt++) {
		api_status_last = 0;
		if ((rc = http_json_request(method, url, body, bearer, r)) != CLI_OK)
			return rc;
		api_status_last = r->status;
		if (r->status != 429 || attempt >= API_RETRIES || api_code_is(r, "inbox_full"))
			return CLI_OK;
		wait = r->retry_after > 0 ? r->retry_after : 1;
		if (wait > API_RETRY_WAIT_MAX)
			return CLI_OK;
		http_reply_free(r);
		if (http_wait(wait) != 0) {
			cli_err("interrupted");
			return CLI_ENETWORK;
		}
	}
}

/* POST body to server+path (with the bearer token when not NULL) and check
 * the status; on an error the reply is freed. */
static int api_post(const char *what, const char *server, const char *path, json_object *body,
                    const char *bearer, struct http_reply *r)
{
	char url[API_URL_MAX];
	int rc;

	memset(r, 0, sizeof *r);
	api_status_last = 0;
	if (api_url_make(url, server, path, NULL) != 0) {
		cli_err("the server URL is too long");
		return CLI_EUSAGE;
	}
	if ((rc = api_exchange("POST", url, body, bearer, r)) != CLI_OK)
		return rc;
	if ((rc = api_reply_check(what, r)) != CLI_OK)
		http_reply_free(r);
	return rc;
}

/* POST body to server+path, a rate limit waited out: the reply whatever
 * its status (api_reply_check judges it). */
static int api_exchange_post(const char *server, const char *path, json_object *body,
                             struct http_reply *r)
{
	char url[API_URL_MAX];

	memset(r, 0, sizeof *r);
	api_status_last = 0;
	if (api_url_make(url, server, path, NULL) != 0) {
		cli_err("the server URL is too long");
		return CLI_EUSAGE;
	}
	return api_exchange("POST", url, body, NULL, r);
}

static json_object *api_body_new(const char *token)
{
	json_object *body = json_object_new_object();

	json_object_object_add(body, "link_token", json_object_new_string(token));
	return body;
}

static void api_b64_add(json_object *o, const char *name, const unsigned char *p, size_t n)
{
	char enc[B64_STD_SIZE(64)];

	b64_std_encode(p, n, enc, sizeof enc);
	json_object_object_add(o, name, json_object_new_string(enc));
}

/* The API_CAP_* bits of a /register or GET /key reply into *caps: none when it lists
 * none (PyCrypt's server), unknown names skipped. -1 for a list that is
 * not an array or longer than a server would send. */
static int api_caps_take(json_object *reply, unsigned *caps)
{
	json_object *list;
	const char *name;

	*caps = 0;
	if (!json_object_object_get_ex(reply, "capabilities", &list) || list == NULL)
		return 0;
	if (!json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > API_CAPS_MAX)
		return -1;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *c = json_object_array_get_idx(list, i);

		if (!json_object_is_type(c, json_type_string))
			continue;
		name = json_object_get_string(c);
		if (strcmp(name, "envelope-v1") == 0)
			*caps |= API_CAP_ENVELOPE;
		else if (strcmp(name, "padded-only") == 0)
			*caps |= API_CAP_PADDED_ONLY;
	}
	return 0;
}

int api_register_post(const char *server, const struct identity *id, const char *name,
                      int padded_only, char *token, char *fetch, unsigned *missing)
{
	unsigned char echoed[crypto_box_PUBLICKEYBYTES];
	json_object *body = json_object_new_object(), *caps = json_object_new_array();
	struct http_reply r;
	const char *t, *box, *ft;
	unsigned echoed_caps = 0;
	int rc, envelopes = 1;

	fetch[0] = '\0';
	*missing = 0;
again:
	api_b64_add(body, "public_key", id->sign_pk, sizeof id->sign_pk);
	api_b64_add(body, "box_public_key", id->box_pk, sizeof id->box_pk);
	json_object_object_add(body, "key_type", json_object_new_string("ed25519"));
	/* Destructive calls on this inbox then need purpose-bound signatures. */
	json_object_array_add(caps, json_object_new_string("bound-signatures"));
	/* Our clients open envelopes: senders add a receipt and pad. */
	if (envelopes)
		json_object_array_add(caps, json_object_new_string("envelope-v1"));
	if (padded_only)
		json_object_array_add(caps, json_object_new_string("padded-only"));
	json_object_object_add(body, "capabilities", caps);
	if (name != NULL)
		json_object_object_add(body, "display_name", json_object_new_string(name));
	rc = api_exchange_post(server, "/register", body, &r);
	/* A server from before receipts knows no envelope-v1: an inbox
	 * without them is what it can give (not with --padded-only). */
	if (rc == CLI_OK && r.status == 400 && envelopes && !padded_only &&
	    api_code_is(&r, "invalid_capabilities")) {
		http_reply_free(&r);
		json_object_put(body);
		body = json_object_new_object();
		caps = json_object_new_array();
		envelopes = 0;
		cli_err("warning: the server takes no envelopes; the inbox gets messages without "
		        "receipts");
		goto again;
	}
	json_object_put(body);
	if (rc == CLI_OK && (rc = api_reply_check("register", &r)) != CLI_OK)
		http_reply_free(&r);
	if (rc != CLI_OK)
		return rc;
	rc = CLI_ESERVER;
	if ((t = jsonv_str_get(r.json, "link_token")) == NULL || !link_token_valid(t)) {
		cli_err("register: the server's answer has no valid link token");
		goto out;
	}
	/* A server that keeps another key than ours would have senders seal to
	 * it; a PyCrypt server that ignores box_public_key echoes nothing. */
	box = jsonv_str_get(r.json, "box_public_key");
	if (box != NULL && (b64_std_decode_exact(box, echoed, sizeof echoed) != 0 ||
	                    sodium_memcmp(echoed, id->box_pk, sizeof echoed) != 0)) {
		cli_err("register: the server recorded a different encryption key than ours");
		goto out;
	}
	snprintf(token, IDENTITY_TOKEN_MAX + 1, "%s", t);
	/* Without a usable fetch token, reading signs challenges instead. */
	if ((ft = jsonv_str_get(r.json, "fetch_token")) != NULL && identity_fetch_token_valid(ft))
		snprintf(fetch, IDENTITY_FETCH_MAX + 1, "%s", ft);
	/* What the server says it recorded; a list we cannot read records
	 * nothing we know of. */
	if (api_caps_take(r.json, &echoed_caps) != 0)
		echoed_caps = 0;
	*missing =
	    ((envelopes ? API_CAP_ENVELOPE : 0u) | (padded_only ? API_CAP_PADDED_ONLY : 0u)) &
	    ~echoed_caps;
	rc = CLI_OK;
out:
	http_reply_secret_wipe(&r, "fetch_token");
	http_reply_free(&r);
	return rc;
}

int api_key_get(const char *server, const char *token, unsigned char key[crypto_box_PUBLICKEYBYTES],
                unsigned *caps)
{
	unsigned char ed[crypto_sign_PUBLICKEYBYTES];
	char url[API_URL_MAX];
	struct http_reply r;
	const char *box, *pk;
	int rc;

	if (api_url_make(url, server, "/key/", token) != 0) {
		cli_err("the link is too long");
		return CLI_EUSAGE;
	}
	if ((rc = api_exchange("GET", url, NULL, NULL, &r)) != CLI_OK)
		return rc;
	if ((rc = api_reply_check("key", &r)) != CLI_OK)
		goto out;
	rc = CLI_ESERVER;
	box = jsonv_str_get(r.json, "box_public_key");
	pk = jsonv_str_get(r.json, "public_key");
	if (box != NULL && box[0] != '\0') {
		if (b64_std_decode_exact(box, key, crypto_box_PUBLICKEYBYTES) != 0) {
			cli_err("key: the server's box_public_key is not a 32-byte key");
			goto out;
		}
	} else if (pk == NULL || b64_std_decode_exact(pk, ed, sizeof ed) != 0 ||
	           crypto_sign_ed25519_pk_to_curve25519(key, ed) != 0) {
		cli_err("key: the server's answer has no usable key");
		goto out;
	}
	if (api_caps_take(r.json, caps) != 0) {
		cli_err("key: the server's capabilities are not a short list");
		goto out;
	}
	rc = CLI_OK;
out:
	http_reply_free(&r);
	return rc;
}

/* Worth sending the same /send again: the server or its database was
 * unavailable, and the message may or may not have been stored. */
static int api_send_retryable(const struct http_reply *r)
{
	return r->status == 502 || r->status == 503 || r->status == 504;
}

/* POST a sealed box (in field, with the rest of body) to path with a
 * fresh idempotency key, sent again with the same key when the server
 * answers 502/503/504 or no answer came. Takes body. */
static int api_sealed_post(const char *what, const char *server, const char *path,
                           json_object *body, const char *field, const unsigned char *sealed,
                           size_t n, int64_t *id)
{
	unsigned char key[API_IDEMPOTENCY_BYTES];
	char url[API_URL_MAX], key_text[B64_URL_SIZE(sizeof key)];
	struct http_reply r = {0, NULL, 0};
	char *enc = malloc(B64_STD_SIZE(n));
	int rc = CLI_EINTERNAL;

	*id = 0;
	if (enc == NULL) {
		cli_err("out of memory");
		goto out;
	}
	if (api_url_make(url, server, path, NULL) != 0) {
		cli_err("the link is too long");
		rc = CLI_EUSAGE;
		goto out;
	}
	b64_std_encode(sealed, n, enc, B64_STD_SIZE(n));
	json_object_object_add(body, field, json_object_new_string(enc));
	/* One key per message, the same on every retry of it. */
	randombytes_buf(key, sizeof key);
	b64_url_encode(key, sizeof key, key_text, sizeof key_text);
	json_object_object_add(body, "idempotency_key", json_object_new_string(key_text));
	for (int attempt = 1;; attempt++) {
		if ((rc = api_exchange("POST", url, body, NULL, &r)) != CLI_OK) {
			/* Sent, but the reply was lost: like a 502/503/504, the
			 * same key again. Never after an interrupt. */
			if (!http_last_unanswered() || http_cancelled())
				goto out;
			if (attempt >= API_SEND_RETRIES) {
				cli_err("%s: no answer after %d tries; the message may or may not "
				        "have been delivered",
				        what, attempt);
				goto out;
			}
			http_reply_free(&r);
			if (http_wait(1) != 0) {
				cli_err("interrupted");
				goto out;
			}
			continue;
		}
		if (!api_send_retryable(&r) || attempt >= API_SEND_RETRIES)
			break;
		http_reply_free(&r);
		if (http_wait(r.retry_after > 0 && r.retry_after <= 10 ? r.retry_after : 1) != 0) {
			cli_err("interrupted");
			rc = CLI_ENETWORK;
			goto out;
		}
	}
	if ((rc = api_reply_check(what, &r)) != CLI_OK)
		goto out;
	if (reply_sent_id_take(r.json, id) != 0)
		rc = CLI_ESERVER;
out:
	http_reply_free(&r);
	json_object_put(body);
	free(enc);
	return rc;
}

int api_message_post(const char *server, const char *token, const unsigned char *sealed, size_t n,
                     const char *receipt_id, int64_t *id)
{
	json_object *body = api_body_new(token);

	if (receipt_id != NULL)
		json_object_object_add(body, "receipt_id", json_object_new_string(receipt_id));
	return api_sealed_post("send", server, "/send", body, "encrypted_message", sealed, n, id);
}

static json_object *api_receipt_body_new(const char *auth)
{
	json_object *body = json_object_new_object();

	json_object_object_add(body, "receipt_auth", json_object_new_string(auth));
	return body;
}

int api_answer_post(const char *server, const char *auth, const unsigned char *sealed, size_t n,
                    int64_t *id)
{
	return api_sealed_post("answer", server, "/receipt/answer", api_receipt_body_new(auth),
	                       "encrypted_message", sealed, n, id);
}

int api_receipt_post(const char *server, const char *auth, struct http_reply *r)
{
	json_object *body = api_receipt_body_new(auth);
	int rc = api_post("receipt", server, "/receipt", body, NULL, r);

	json_object_put(body);
	return rc;
}

/* Ask for a challenge for purpose and add it with its purpose-bound
 * signature to body. */
static int api_challenge_sign(const struct session *s, const char *purpose, json_object *body)
{
	unsigned char sig[crypto_sign_BYTES];
	json_object *req = api_body_new(s->id.link_token);
	struct http_reply r;
	const char *c;
	char *msg = NULL;
	size_t n;
	int rc;

	json_object_object_add(req, "purpose", json_object_new_string(purpose));
	rc = api_post("challenge", s->id.server, "/challenge_request", req, NULL, &r);
	json_object_put(req);
	if (rc != CLI_OK)
		return rc;
	rc = CLI_ESERVER;
	if ((c = reply_challenge_take(r.json, purpose, s->origin)) == NULL)
		goto out;
	n = strlen(REPLY_FORM) + strlen(purpose) + strlen(s->origin) + strlen(s->id.link_token) +
	    strlen(c) + 5;
	if ((msg = malloc(n)) == NULL) {
		cli_err("out of memory");
		rc = CLI_EINTERNAL;
		goto out;
	}
	snprintf(msg, n, "%s\n%s\n%s\n%s\n%s", REPLY_FORM, purpose, s->origin, s->id.link_token, c);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), s->keys->sign_sk);
	json_object_object_add(body, "challenge", json_object_new_string(c));
	api_b64_add(body, "challenge_signature", sig, sizeof sig);
	json_object_object_add(body, "challenge_form", json_object_new_string(REPLY_FORM));
	rc = CLI_OK;
out:
	free(msg);
	http_reply_free(&r);
	return rc;
}

/* An authenticated POST. A read (bound == 0) goes with the session's fetch
 * token when it has one, else with a signed challenge; a token the server
 * refuses (rotated elsewhere) is dropped for the rest of the session and
 * the call signed instead. bound != 0: always a signed challenge. */
static int api_auth_post(const char *what, struct session *s, const char *path, const char *purpose,
                         int bound, json_object *body, struct http_reply *r)
{
	char url[API_URL_MAX];
	int rc;

	memset(r, 0, sizeof *r);
	if (!bound && s->fetch_token != NULL) {
		if (api_url_make(url, s->id.server, path, NULL) != 0) {
			cli_err("the server URL is too long");
			return CLI_EUSAGE;
		}
		if ((rc = api_exchange("POST", url, body, s->fetch_token, r)) != CLI_OK)
			return rc;
		if (r->status != 401) {
			if ((rc = api_reply_check(what, r)) != CLI_OK)
				http_reply_free(r);
			return rc;
		}
		http_reply_free(r);
		sodium_free(s->fetch_token);
		s->fetch_token = NULL;
		cli_err("warning: the server refused the stored fetch token; signing challenges "
		        "instead");
	}
	if ((rc = api_challenge_sign(s, purpose, body)) != CLI_OK)
		return rc;
	return api_post(what, s->id.server, path, body, NULL, r);
}

int api_messages_fetch(struct session *s, int include_seen, int desc, int64_t cursor,
                       struct http_reply *r, json_object **data, int64_t *next)
{
	json_object *body = api_body_new(s->id.link_token);
	int rc;

	*data = NULL;
	*next = 0;
	json_object_object_add(body, "include_seen", json_object_new_boolean(include_seen));
	json_object_object_add(body, "limit", json_object_new_int(API_FETCH_PAGE));
	json_object_object_add(body, "order", json_object_new_string(desc ? "DESC" : "ASC"));
	if (cursor > 0)
		json_object_object_add(body, desc ? "before_id" : "since_id",
		                       json_object_new_int64(cursor));
	rc = api_auth_post("fetch", s, "/fetch", "fetch", 0, body, r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	if (reply_page_take(r->json, desc, cursor, data, next) != 0) {
		http_reply_free(r);
		return CLI_ESERVER;
	}
	return CLI_OK;
}

int api_message_get(struct session *s, int64_t id, struct http_reply *r, json_object **m)
{
	json_object *body = api_body_new(s->id.link_token), *data;
	int64_t got = 0;
	int rc;

	/* The first message after id - 1, read or not: id itself if it is
	 * there. One request, one message. */
	*m = NULL;
	json_object_object_add(body, "include_seen", json_object_new_boolean(1));
	json_object_object_add(body, "limit", json_object_new_int(1));
	json_object_object_add(body, "order", json_object_new_string("ASC"));
	if (id > 1)
		json_object_object_add(body, "since_id", json_object_new_int64(id - 1));
	rc = api_auth_post("fetch", s, "/fetch", "fetch", 0, body, r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	if (!json_object_object_get_ex(r->json, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		cli_err("fetch: the server's answer has no message list");
		http_reply_free(r);
		return CLI_ESERVER;
	}
	if (json_object_array_length(data) == 0 ||
	    jsonv_int_get(json_object_array_get_idx(data, 0), "id", 1, INT64_MAX, &got) != 0 ||
	    got != id) {
		cli_err("no message %lld in this inbox", (long long)id);
		http_reply_free(r);
		return CLI_EUSAGE;
	}
	*m = json_object_array_get_idx(data, 0);
	return CLI_OK;
}

int api_reply_post(struct session *s, int64_t message_id, const unsigned char *sealed, size_t n,
                   int64_t *id)
{
	json_object *body = api_body_new(s->id.link_token);
	struct http_reply r;
	char *enc = malloc(B64_STD_SIZE(n));
	int rc;

	*id = 0;
	if (enc == NULL) {
		json_object_put(body);
		cli_err("out of memory");
		return CLI_EINTERNAL;
	}
	b64_std_encode(sealed, n, enc, B64_STD_SIZE(n));
	json_object_object_add(body, "message_id", json_object_new_int64(message_id));
	json_object_object_add(body, "encrypted_reply", json_object_new_string(enc));
	free(enc);
	rc = api_auth_post("reply", s, "/reply", "reply", 1, body, &r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	if (reply_sent_id_take(r.json, id) != 0)
		rc = CLI_ESERVER;
	http_reply_free(&r);
	return rc;
}

int api_newest_id(struct session *s, int64_t *id)
{
	json_object *body = api_body_new(s->id.link_token);
	struct http_reply r;
	int rc;

	*id = 0;
	json_object_object_add(body, "include_seen", json_object_new_boolean(1));
	json_object_object_add(body, "limit", json_object_new_int(1));
	json_object_object_add(body, "order", json_object_new_string("DESC"));
	rc = api_auth_post("fetch", s, "/fetch", "fetch", 0, body, &r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	if (reply_newest_take(r.json, id) != 0)
		rc = CLI_ESERVER;
	http_reply_free(&r);
	return rc;
}

/* One /ack: marking read goes like a read, erasing signs for "delete". */
static int api_ack_post(struct session *s, json_object *body, int del, int64_t *count)
{
	struct http_reply r;
	int64_t got;
	int rc;

	json_object_object_add(body, "delete", json_object_new_boolean(del));
	rc = api_auth_post("ack", s, "/ack", del ? "delete" : "ack", del, body, &r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	if (jsonv_int_get(r.json, "count", 0, INT64_MAX, &got) == 0)
		*count += got;
	http_reply_free(&r);
	return CLI_OK;
}

int api_messages_ack(struct session *s, const int64_t *ids, size_t n, int del, int64_t *count)
{
	int rc = CLI_OK;

	for (size_t off = 0; off < n && rc == CLI_OK; off += API_ACK_BATCH) {
		json_object *body = api_body_new(s->id.link_token);
		json_object *arr = json_object_new_array();

		for (size_t i = off; i < n && i < off + API_ACK_BATCH; i++)
			json_object_array_add(arr, json_object_new_int64(ids[i]));
		json_object_object_add(body, "message_ids", arr);
		rc = api_ack_post(s, body, del, count);
	}
	return rc;
}

int api_messages_ack_upto(struct session *s, int64_t up_to, int del, int64_t *count)
{
	json_object *body = api_body_new(s->id.link_token);

	json_object_object_add(body, "up_to_id", json_object_new_int64(up_to));
	return api_ack_post(s, body, del, count);
}

int api_account_post(struct session *s, const char *path, const char *purpose, struct http_reply *r)
{
	json_object *body = api_body_new(s->id.link_token);
	int rc = api_auth_post(path + 1, s, path, purpose, 1, body, r);

	json_object_put(body);
	return rc;
}

int api_webhook_post(struct session *s, const char *action, const char *url, const char *kind,
                     struct http_reply *r)
{
	json_object *body = api_body_new(s->id.link_token);
	int status = strcmp(action, "status") == 0;
	int rc;

	json_object_object_add(body, "action", json_object_new_string(action));
	if (url != NULL)
		json_object_object_add(body, "url", json_object_new_string(url));
	if (kind != NULL)
		json_object_object_add(body, "kind", json_object_new_string(kind));
	rc =
	    api_auth_post("webhook", s, "/webhook", status ? "fetch" : "webhook", !status, body, r);
	json_object_put(body);
	return rc;
}
