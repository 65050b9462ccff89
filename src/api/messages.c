/* POST /send, /fetch and /ack. */
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "core/b64.h"
#include "core/timeutil.h"
#include "server/limits.h"

/* Longest base64 text of a ciphertext within the limit (padding optional). */
#define SD_MSG_B64_MAX SD_B64_LEN(SD_MSG_MAX_BYTES)

void api_send(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_verr err;
	const char *link, *ct;
	char meta[SD_METADATA_MAX + 1];
	size_t ct_len, got, meta_len = 0;
	unsigned char *raw = NULL;
	char *canon = NULL;
	int64_t id = 0;
	enum sd_field_rc rc, meta_rc;
	enum sd_err e;

	if (body == NULL)
		return;
	if (api_link_token_or_reply(ctx, body, &link) != 0)
		goto out;
	rc = sd_field_string(body, "encrypted_message", 1, (size_t)-1, &ct, &ct_len, &err);
	if (rc != SD_FIELD_OK)
		goto bad;
	if (ct_len > SD_MSG_B64_MAX) {
		sd_verr_too_large(&err, "payload_too_large",
		                  "encrypted_message is larger than 16 KiB");
		goto bad;
	}
	raw = malloc(SD_MSG_MAX_BYTES + 3);
	canon = malloc(SD_MSG_B64_MAX + 1);
	if (raw == NULL || canon == NULL) {
		api_store_error(ctx, SD_ENOMEM);
		goto out;
	}
	if (sd_b64_decode(ct, ct_len, raw, SD_MSG_MAX_BYTES + 3, &got) != 0) {
		sd_verr_field(&err, "encrypted_message",
		              "encrypted_message must be standard base64");
		goto bad;
	}
	if (got > SD_MSG_MAX_BYTES) {
		sd_verr_too_large(&err, "payload_too_large",
		                  "encrypted_message is larger than 16 KiB");
		goto bad;
	}
	if (got < SD_MSG_MIN_BYTES) {
		sd_verr_field(&err, "encrypted_message",
		              "encrypted_message is too short to be a sealed box");
		goto bad;
	}
	sd_b64_encode(raw, got, canon);
	/* metadata: any JSON value, kept as the sender wrote it (PyCrypt
	 * stores whatever JSON it is given); null is no metadata. */
	meta_rc = sd_field_raw(ctx->req->body, ctx->req->body_len, "metadata", meta, sizeof meta,
	                       &meta_len, &err);
	if (meta_rc == SD_FIELD_BAD)
		goto bad;
	if (permission_send_check_or_reply(ctx, body, link) != 0)
		goto out;
	e = store_msg_insert(ctx->store, link, canon, meta_rc == SD_FIELD_OK ? meta : NULL,
	                     (int64_t)got, &ctx->cfg->limits, ctx->now, &id);
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	api_json_begin(ctx, 201);
	sd_buf_printf(&ctx->resp->body, "\"message\":\"Message sent successfully\",\"id\":%lld",
	              (long long)id);
	api_json_end(ctx);
	goto out;
bad:
	api_verr(ctx, &err);
out:
	free(raw);
	free(canon);
	json_object_put(body);
}

/* Options of /fetch, read as PyCrypt reads them: limit and order never
 * fail (an unusable value is the default), before_id, since_id and
 * include_seen are checked, all before credentials are looked at, so a bad
 * option never burns a single-use challenge. */
static int fetch_query_or_reply(struct sd_ctx *ctx, json_object *body, struct sd_msg_query *q)
{
	struct sd_verr err;
	json_object *order;
	int64_t v;
	enum sd_field_rc rc;

	memset(q, 0, sizeof *q);
	q->before_id = INT64_MAX;
	if (sd_field_bool(body, "include_seen", &q->include_seen, &err) == SD_FIELD_BAD)
		goto bad;
	q->limit =
	    sd_field_int_clamped(body, "limit", SD_FETCH_DEFAULT_LIMIT, 1, SD_FETCH_MAX_LIMIT);
	rc = sd_field_int(body, "since_id", 0, 0, INT64_MAX - 1, &v, &err);
	if (rc == SD_FIELD_BAD)
		goto bad;
	if (rc == SD_FIELD_OK) {
		/* since_id wins: before_id is then not looked at. */
		q->since_id = v;
	} else {
		rc = sd_field_int(body, "before_id", 0, 1, INT64_MAX - 1, &v, &err);
		if (rc == SD_FIELD_BAD)
			goto bad;
		if (rc == SD_FIELD_OK)
			q->before_id = v;
	}
	/* "ASC" in any case is ascending; anything else is the default DESC. */
	q->ascending = json_object_object_get_ex(body, "order", &order) &&
	               json_object_is_type(order, json_type_string) &&
	               json_object_get_string_len(order) == 3 &&
	               strcasecmp(json_object_get_string(order), "asc") == 0;
	return 0;
bad:
	api_verr(ctx, &err);
	return -1;
}

struct fetch_out {
	struct sd_buf *b;
	int64_t limit;
	int64_t n;
	int64_t last_id;
	int has_more;
};

static int fetch_row(void *p, const struct sd_msg *m)
{
	struct fetch_out *o = p;
	char ts[SD_ISO8601_LEN + 1];

	if (o->n == o->limit) {
		/* The store was asked for one row more than the page. */
		o->has_more = 1;
		return 1;
	}
	/* The hot loop of /fetch: plain appends, no printf. */
	sd_iso8601(m->created_at, ts);
	sd_buf_puts(o->b, o->n ? ",{\"id\":" : "{\"id\":");
	sd_json_int(o->b, m->id);
	sd_buf_puts(o->b, ",\"encrypted_message\":");
	sd_json_str(o->b, m->encrypted_message, m->encrypted_len);
	sd_buf_puts(o->b, ",\"created_at\":\"");
	sd_buf_append(o->b, ts, SD_ISO8601_LEN);
	sd_buf_puts(o->b,
	            m->seen ? "\",\"seen\":true,\"metadata\":" : "\",\"seen\":false,\"metadata\":");
	if (m->metadata != NULL && m->metadata_len > 0)
		sd_buf_append(o->b, m->metadata, m->metadata_len);
	else
		sd_buf_puts(o->b, "null");
	sd_buf_puts(o->b, "}");
	o->n++;
	o->last_id = m->id;
	return 0;
}

void api_fetch(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client c;
	struct sd_msg_query q, qs;
	struct fetch_out o;
	const char *link;
	enum sd_err e;

	if (body == NULL)
		return;
	if (api_link_token_or_reply(ctx, body, &link) != 0 ||
	    fetch_query_or_reply(ctx, body, &q) != 0 || api_client_or_reply(ctx, link, &c) != 0 ||
	    auth_check_or_reply(ctx, body, &c, SD_AUTH_SIGNATURE_OR_TOKEN) != 0)
		goto out;
	api_json_begin(ctx, 200);
	sd_buf_puts(&ctx->resp->body, "\"message\":\"Messages retrieved successfully\",\"data\":[");
	memset(&o, 0, sizeof o);
	o.b = &ctx->resp->body;
	o.limit = q.limit;
	qs = q;
	qs.limit = q.limit + 1;
	e = store_msg_list(ctx->store, c.link_token, &qs, fetch_row, &o);
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	sd_buf_printf(&ctx->resp->body,
	              "],\"count\":%lld,\"has_more\":%s,\"next_cursor\":", (long long)o.n,
	              o.has_more ? "true" : "false");
	/* As PyCrypt: the last id of any non-empty page, whatever has_more. */
	if (o.n > 0)
		sd_json_int(&ctx->resp->body, o.last_id);
	else
		sd_buf_puts(&ctx->resp->body, "null");
	api_json_end(ctx);
out:
	json_object_put(body);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* message_ids: 0..1000 positive integers, returned sorted and distinct. */
static int ack_ids_or_reply(struct sd_ctx *ctx, json_object *body, int64_t *ids, size_t *n)
{
	json_object *arr;
	size_t len, k = 0;

	if (!json_object_object_get_ex(body, "message_ids", &arr)) {
		api_error(ctx, 400, "invalid_message_ids", "message_ids is required");
		return -1;
	}
	if (!json_object_is_type(arr, json_type_array)) {
		api_error(ctx, 400, "invalid_message_ids",
		          "message_ids must be an array of integers");
		return -1;
	}
	len = json_object_array_length(arr);
	if (len > SD_ACK_MAX_IDS) {
		api_error(ctx, 400, "invalid_message_ids", "message_ids may hold at most 1000 ids");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		int64_t id;

		if (!json_object_is_type(v, json_type_int) || (id = json_object_get_int64(v)) < 1 ||
		    id == INT64_MAX) {
			api_error(ctx, 400, "invalid_message_ids",
			          "message_ids must be positive integers");
			return -1;
		}
		ids[i] = id;
	}
	qsort(ids, len, sizeof *ids, cmp_i64);
	for (size_t i = 0; i < len; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	*n = k;
	return 0;
}

void api_ack(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client c;
	struct sd_verr err;
	int64_t ids[SD_ACK_MAX_IDS], count = 0;
	size_t n = 0;
	int del = 0;
	const char *link;
	enum sd_err e;

	if (body == NULL)
		return;
	if (api_link_token_or_reply(ctx, body, &link) != 0 ||
	    ack_ids_or_reply(ctx, body, ids, &n) != 0)
		goto out;
	if (sd_field_bool(body, "delete", &del, &err) == SD_FIELD_BAD) {
		api_verr(ctx, &err);
		goto out;
	}
	if (api_client_or_reply(ctx, link, &c) != 0 ||
	    auth_check_or_reply(ctx, body, &c, SD_AUTH_SIGNATURE_OR_TOKEN) != 0)
		goto out;
	e = store_msg_ack(ctx->store, c.link_token, ids, n, del, &count);
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	api_json_begin(ctx, 200);
	sd_buf_printf(&ctx->resp->body, "\"message\":\"%s\",\"count\":%lld",
	              del ? "Messages deleted" : "Messages marked as seen", (long long)count);
	api_json_end(ctx);
out:
	json_object_put(body);
}
