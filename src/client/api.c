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

#define API_URL_MAX       (IDENTITY_SERVER_MAX + IDENTITY_TOKEN_MAX + 32)
#define API_CHALLENGE_MAX SD_CHALLENGE_FIELD_MAX /* longer ones the server would refuse back */

/* Below the server's SD_FETCH_MAX_LIMIT: a page of the largest messages
 * must fit in one reply. */
#define API_FETCH_PAGE    100
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
	cli_err("%s: the server answered %ld: %s", what, r->status, http_reply_reason(r));
	return r->status == 401 ? CLI_EAUTH : CLI_ESERVER;
}

static int api_url_make(char *url, const char *server, const char *path, const char *arg)
{
	int n = snprintf(url, API_URL_MAX, "%s%s%s", server, path, arg ? arg : "");

	return n >= 0 && n < API_URL_MAX ? 0 : -1;
}

/* POST body to server+path and check the status. */
static int api_post(const char *what, const char *server, const char *path, json_object *body,
                    struct http_reply *r)
{
	char url[API_URL_MAX];
	int rc;

	memset(r, 0, sizeof *r);
	api_status_last = 0;
	if (api_url_make(url, server, path, NULL) != 0) {
		cli_err("the server URL is too long");
		return CLI_EUSAGE;
	}
	if ((rc = http_json_request("POST", url, body, r)) != CLI_OK)
		return rc;
	if ((rc = api_reply_check(what, r)) != CLI_OK)
		http_reply_free(r);
	return rc;
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

int api_register_post(const char *server, const struct identity *id, const char *name, char *token)
{
	unsigned char echoed[crypto_box_PUBLICKEYBYTES];
	json_object *body = json_object_new_object();
	struct http_reply r;
	const char *t, *box;
	int rc;

	api_b64_add(body, "public_key", id->sign_pk, sizeof id->sign_pk);
	api_b64_add(body, "box_public_key", id->box_pk, sizeof id->box_pk);
	json_object_object_add(body, "key_type", json_object_new_string("ed25519"));
	if (name != NULL)
		json_object_object_add(body, "display_name", json_object_new_string(name));
	rc = api_post("register", server, "/register", body, &r);
	json_object_put(body);
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
	rc = CLI_OK;
out:
	http_reply_free(&r);
	return rc;
}

int api_key_get(const char *server, const char *token, unsigned char key[crypto_box_PUBLICKEYBYTES])
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
	if ((rc = http_json_request("GET", url, NULL, &r)) != CLI_OK)
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
	rc = CLI_OK;
out:
	http_reply_free(&r);
	return rc;
}

int api_message_post(const char *server, const char *token, const unsigned char *sealed, size_t n,
                     int64_t *id)
{
	json_object *body = api_body_new(token);
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
	json_object_object_add(body, "encrypted_message", json_object_new_string(enc));
	free(enc);
	rc = api_post("send", server, "/send", body, &r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	(void)jsonv_int_get(r.json, "id", 1, INT64_MAX, id);
	http_reply_free(&r);
	return CLI_OK;
}

/* The challenge as the server issued it: base64 text of bounded length.
 * Anything else is not signed; a server gets no signature over a string
 * of its own choosing. */
static int api_challenge_valid(const char *c)
{
	size_t n = strlen(c);

	if (n < 16 || n > API_CHALLENGE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= 'a' && c[i] <= 'z') ||
		      (c[i] >= '0' && c[i] <= '9') || strchr("+/-_=", c[i]) != NULL))
			return 0;
	return 1;
}

/* Ask for a challenge and add it with its signature to body. */
static int api_challenge_sign(const struct session *s, json_object *body)
{
	unsigned char sig[crypto_sign_BYTES];
	json_object *req = api_body_new(s->id.link_token);
	struct http_reply r;
	const char *c;
	int rc;

	rc = api_post("challenge", s->id.server, "/challenge_request", req, &r);
	json_object_put(req);
	if (rc != CLI_OK)
		return rc;
	if ((c = jsonv_str_get(r.json, "challenge")) == NULL || !api_challenge_valid(c)) {
		cli_err("challenge: the server's answer has no valid challenge");
		rc = CLI_ESERVER;
		goto out;
	}
	/* The signed bytes are the challenge string as sent, as PyCrypt's
	 * clients sign it. */
	crypto_sign_detached(sig, NULL, (const unsigned char *)c, strlen(c), s->keys->sign_sk);
	json_object_object_add(body, "challenge", json_object_new_string(c));
	api_b64_add(body, "challenge_signature", sig, sizeof sig);
out:
	http_reply_free(&r);
	return rc;
}

/* A signed POST: the challenge first, then the call. */
static int api_signed_post(const char *what, const struct session *s, const char *path,
                           json_object *body, struct http_reply *r)
{
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = api_challenge_sign(s, body)) != CLI_OK)
		return rc;
	return api_post(what, s->id.server, path, body, r);
}

int api_messages_fetch(const struct session *s, int include_seen, int64_t since_id,
                       struct http_reply *r, json_object **data, int64_t *next)
{
	json_object *body = api_body_new(s->id.link_token);
	int rc;

	*data = NULL;
	*next = 0;
	json_object_object_add(body, "include_seen", json_object_new_boolean(include_seen));
	json_object_object_add(body, "limit", json_object_new_int(API_FETCH_PAGE));
	json_object_object_add(body, "order", json_object_new_string("ASC"));
	if (since_id > 0)
		json_object_object_add(body, "since_id", json_object_new_int64(since_id));
	rc = api_signed_post("fetch", s, "/fetch", body, r);
	json_object_put(body);
	if (rc != CLI_OK)
		return rc;
	if (!json_object_object_get_ex(r->json, "data", data) ||
	    !json_object_is_type(*data, json_type_array)) {
		cli_err("fetch: the server's answer has no message list");
		goto bad;
	}
	/* The cursor must move forward, or a broken server would keep us here. */
	if (jsonv_bool_get(r->json, "has_more", 0) &&
	    (jsonv_int_get(r->json, "next_cursor", 1, INT64_MAX - 1, next) != 0 ||
	     *next <= since_id)) {
		cli_err("fetch: the server's paging cursor does not move forward");
		goto bad;
	}
	return CLI_OK;
bad:
	*data = NULL;
	*next = 0;
	http_reply_free(r);
	return CLI_ESERVER;
}

int api_messages_ack(const struct session *s, const int64_t *ids, size_t n, int del, int64_t *count)
{
	struct http_reply r;
	int64_t got;
	int rc = CLI_OK;

	for (size_t off = 0; off < n && rc == CLI_OK; off += API_ACK_BATCH) {
		json_object *body = api_body_new(s->id.link_token);
		json_object *arr = json_object_new_array();

		for (size_t i = off; i < n && i < off + API_ACK_BATCH; i++)
			json_object_array_add(arr, json_object_new_int64(ids[i]));
		json_object_object_add(body, "message_ids", arr);
		json_object_object_add(body, "delete", json_object_new_boolean(del));
		rc = api_signed_post("ack", s, "/ack", body, &r);
		json_object_put(body);
		if (rc != CLI_OK)
			break;
		if (jsonv_int_get(r.json, "count", 0, INT64_MAX, &got) == 0)
			*count += got;
		http_reply_free(&r);
	}
	return rc;
}

int api_account_post(const struct session *s, const char *path, struct http_reply *r)
{
	json_object *body = api_body_new(s->id.link_token);
	int rc = api_signed_post(path + 1, s, path, body, r);

	json_object_put(body);
	return rc;
}
