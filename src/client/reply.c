/* Replies, judged before anything is done with them. */
#include <string.h>

#include "client/b64.h"
#include "client/cli.h"
#include "client/envelope.h"
#include "client/jsonv.h"
#include "client/link.h"
#include "client/reply.h"
#include "proto/limits.h" /* the server's input limits: #defines only */

int reply_page_take(json_object *reply, int desc, int64_t cursor, json_object **data, int64_t *next)
{
	size_t n;
	int64_t id, last = 0;

	*next = 0;
	if (!json_object_object_get_ex(reply, "data", data) ||
	    !json_object_is_type(*data, json_type_array)) {
		*data = NULL;
		cli_err("fetch: the server's answer has no message list");
		return -1;
	}
	/* The cursor must move forward, or a broken server would keep us here. */
	if (jsonv_bool_get(reply, "has_more", 0) &&
	    (jsonv_int_get(reply, "next_cursor", 1, INT64_MAX - 1, next) != 0 ||
	     (desc ? cursor > 0 && *next >= cursor : *next <= cursor))) {
		*data = NULL;
		*next = 0;
		cli_err("fetch: the server's paging cursor does not move forward");
		return -1;
	}
	/* Every id of the page lies beyond the cursor asked for (a message
	 * without a valid id is left to the display to refuse). */
	n = json_object_array_length(*data);
	for (size_t i = 0; i < n; i++) {
		if (jsonv_int_get(json_object_array_get_idx(*data, i), "id", 1, INT64_MAX, &id) !=
		    0) {
			last = 0;
			continue;
		}
		last = id;
		if (desc ? cursor > 0 && id >= cursor : id <= cursor) {
			*data = NULL;
			*next = 0;
			cli_err(
			    "fetch: the server's page holds a message outside the range asked for");
			return -1;
		}
	}
	/* More to come: then the page is not empty and the cursor is the id of
	 * its last message (docs/API.md), so each page brings new messages. */
	if (*next != 0 && (n == 0 || last != *next)) {
		*data = NULL;
		*next = 0;
		cli_err("fetch: the server's paging cursor is not the last message of the page");
		return -1;
	}
	return 0;
}

int reply_newest_take(json_object *reply, int64_t *id)
{
	json_object *data, *m;

	*id = 0;
	if (!json_object_object_get_ex(reply, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		cli_err("fetch: the server's answer has no message list");
		return -1;
	}
	if (json_object_array_length(data) > 0 &&
	    ((m = json_object_array_get_idx(data, 0)) == NULL ||
	     jsonv_int_get(m, "id", 1, INT64_MAX, id) != 0)) {
		*id = 0;
		cli_err("fetch: the server's newest message has no valid id");
		return -1;
	}
	return 0;
}

/* Base64 of exactly REPLY_CHALLENGE_BYTES, and no longer than the server
 * takes back. */
static int reply_challenge_valid(const char *c)
{
	unsigned char raw[REPLY_CHALLENGE_BYTES];

	return strlen(c) <= SD_CHALLENGE_FIELD_MAX && b64_std_decode_exact(c, raw, sizeof raw) == 0;
}

const char *reply_challenge_take(json_object *reply, const char *purpose, const char *origin)
{
	const char *form = jsonv_str_get(reply, "form"), *p = jsonv_str_get(reply, "purpose");
	const char *o = jsonv_str_get(reply, "origin"), *c = jsonv_str_get(reply, "challenge");

	if (form == NULL || strcmp(form, REPLY_FORM) != 0) {
		cli_err("challenge: the server offers no purpose-bound challenge (form %s); "
		        "nothing signed",
		        REPLY_FORM);
		return NULL;
	}
	if (p == NULL || strcmp(p, purpose) != 0) {
		cli_err("challenge: the server's challenge is not for '%s'; nothing signed",
		        purpose);
		return NULL;
	}
	if (c == NULL || !reply_challenge_valid(c)) {
		cli_err(
		    "challenge: the server's challenge is not 32 bytes of base64; nothing signed");
		return NULL;
	}
	/* What stops a server from relaying another server's challenge to us. */
	if (o == NULL || strcmp(o, origin) != 0) {
		cli_err("challenge: the challenge names another server than %s; nothing signed",
		        origin);
		return NULL;
	}
	return c;
}

int reply_sent_id_take(json_object *reply, int64_t *id)
{
	if (jsonv_int_get(reply, "id", 1, INT64_MAX, id) == 0)
		return 0;
	*id = 0;
	cli_err("send: the server's answer has no valid message id");
	return -1;
}

int reply_time_valid(json_object *v)
{
	int64_t t;

	if (!json_object_is_type(v, json_type_int))
		return 0;
	t = json_object_get_int64(v);
	return t >= 0 && t < INT64_MAX;
}

int reply_status_valid(const char *s)
{
	static const char *const statuses[] = {"stored", "read", "deleted", "expired"};

	for (size_t i = 0; s != NULL && i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(s, statuses[i]) == 0)
			return 1;
	return 0;
}

/* 1 when s is base64 of a sealed box of a bucket's size. */
static int reply_sealed_bucket(const char *s)
{
	static unsigned char raw[ENVELOPE_SEALED_MAX];
	size_t n;

	return s != NULL && strlen(s) <= B64_STD_SIZE(ENVELOPE_SEALED_MAX) &&
	       b64_std_decode(s, raw, sizeof raw, &n) == 0 && envelope_sealed_is_bucket(n);
}

/* The array member name of o, every element an object with a valid id
 * and created_at, at most max of them; with replies, encrypted_reply
 * must be a bucket, else status a released status. */
static json_object *reply_thread_list(json_object *o, const char *name, size_t max, int replies)
{
	json_object *list, *m, *t;
	int64_t id;

	if (!json_object_object_get_ex(o, name, &list) ||
	    !json_object_is_type(list, json_type_array) || json_object_array_length(list) > max)
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		m = json_object_array_get_idx(list, i);
		if (!json_object_is_type(m, json_type_object) ||
		    jsonv_int_get(m, "id", 1, INT64_MAX - 1, &id) != 0 ||
		    !json_object_object_get_ex(m, "created_at", &t) || !reply_time_valid(t))
			return NULL;
		if (replies ? !reply_sealed_bucket(jsonv_str_get(m, "encrypted_reply"))
		            : !reply_status_valid(jsonv_str_get(m, "status")))
			return NULL;
	}
	return list;
}

int reply_receipt_take(json_object *reply, struct receipt_reply *out)
{
	memset(out, 0, sizeof *out);
	out->link_token = jsonv_str_get(reply, "link_token");
	out->status = jsonv_str_get(reply, "status");
	if (out->link_token == NULL || !link_token_valid(out->link_token) ||
	    jsonv_int_get(reply, "thread_id", 1, INT64_MAX - 1, &out->thread_id) != 0 ||
	    !reply_status_valid(out->status) ||
	    !json_object_object_get_ex(reply, "status_released_at", &out->released_at) ||
	    !reply_time_valid(out->released_at)) {
		cli_err("receipt: the server's answer lacks a valid link token, thread or status");
		goto bad;
	}
	if ((out->messages = reply_thread_list(reply, "messages", REPLY_RECEIPT_MESSAGES_MAX, 0)) ==
	    NULL) {
		cli_err("receipt: the server's list of messages is not valid");
		goto bad;
	}
	if ((out->replies = reply_thread_list(reply, "replies", REPLY_RECEIPT_REPLIES_MAX, 1)) ==
	    NULL) {
		cli_err("receipt: the server's list of replies is not valid (each one a padded "
		        "sealed box)");
		goto bad;
	}
	return 0;
bad:
	memset(out, 0, sizeof *out);
	return -1;
}
