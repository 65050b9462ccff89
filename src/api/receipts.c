/* POST /receipt, /receipt/answer and /reply: a sender's receipt, the
 * sender's answer through it and the owner's reply (docs/RECEIPTS.md).
 * The server sees receipt_auth, never the sender's secret, and stores only
 * receipt_id = BLAKE2b-256(receipt_auth); neither is ever logged. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "core/b64.h"
#include "core/fault.h"
#include "proto/limits.h"

int api_padded_size(size_t n)
{
	return n == SD_BUCKET_SMALL || n == SD_BUCKET_MEDIUM || n == SD_BUCKET_LARGE;
}

int api_padding_or_reply(struct sd_ctx *ctx, const char *link, size_t n)
{
	struct sd_client c;

	/* A bucket size passes whatever the inbox demands: no lookup. */
	if (api_padded_size(n))
		return 0;
	if (api_client_or_reply(ctx, link, &c) != 0)
		return -1;
	if (c.capabilities & SD_CAP_PADDED_ONLY) {
		reply_error(ctx, 400, "not_padded",
		            "This inbox takes only padded messages: a sealed box of 1024, 4096 or "
		            "16384 bytes");
		return -1;
	}
	return 0;
}

/* 32 bytes as canonical unpadded base64url (libsodium refuses stray bits). */
static int b64url_32(const char *s, size_t n, unsigned char out[32])
{
	size_t got = 0;

	return n == SD_RECEIPT_B64URL_LEN &&
	       sodium_base642bin(out, 32, s, n, NULL, &got, NULL,
	                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	       got == 32;
}

int api_receipt_b64url_ok(const void *s, size_t n)
{
	unsigned char raw[32];

	return b64url_32(s, n, raw);
}

/* receipt_id = BLAKE2b-256(auth), unkeyed, as base64url. */
static void receipt_id_of(const char *auth, char out[SD_RECEIPT_B64URL_LEN + 1])
{
	unsigned char raw[32], id[32];

	if (!b64url_32(auth, strlen(auth), raw)) {
		out[0] = '\0';
		return;
	}
	crypto_generichash(id, sizeof id, raw, sizeof raw, NULL, 0);
	sd_b64url_encode(id, sizeof id, out);
	sodium_memzero(raw, sizeof raw);
}

#define RECEIPT_AUTH_ROW(st, member)                                                          \
	{                                                                                     \
		.name = "receipt_auth", .type = API_STRING, .flags = API_REQUIRED,            \
		.min = SD_RECEIPT_B64URL_LEN, .max = SD_RECEIPT_B64URL_LEN,                   \
		.check = api_receipt_b64url_ok, API_AT(st, member),                           \
		.code = "invalid_receipt_auth",                                               \
		.msg = "receipt_auth must be " API_STR(SD_RECEIPT_B64URL_LEN) " characters "  \
		                                                              "of base64url " \
		                                                              "(32 bytes)"    \
	}

static void not_found(struct sd_ctx *ctx)
{
	reply_error(ctx, 404, "receipt_not_found", "No such receipt");
}

/* The receipt for auth: 0, or -1 after a 404/503. An erased receipt and
 * one that never existed answer alike. */
static int receipt_or_reply(struct sd_ctx *ctx, const char *auth,
                            char id[SD_RECEIPT_B64URL_LEN + 1], struct sd_receipt *r)
{
	enum sd_err e;

	receipt_id_of(auth, id);
	e = store_receipt_get(ctx->store, id, r);
	if (e == SD_ENOTFOUND)
		not_found(ctx);
	else if (e != SD_OK)
		reply_store_error(ctx, e);
	return e == SD_OK ? 0 : -1;
}

/* ---- POST /receipt ------------------------------------------------------ */

struct lookup_body {
	char auth[SD_RECEIPT_B64URL_LEN + 1];
};

static const struct api_field lookup_fields[] = {
    RECEIPT_AUTH_ROW(struct lookup_body, auth),
};

struct status_out {
	struct sd_buf *b;
	int64_t thread_id;
	enum sd_rcpt_status first;
	int n;
};

static int status_row(void *p, const struct sd_receipt_msg *m)
{
	struct status_out *o = p;

	if (m->id == o->thread_id)
		o->first = m->status;
	sd_buf_printf(o->b, "%s{\"id\":%lld,\"status\":\"%s\",\"created_at\":%lld}",
	              o->n++ ? "," : "", (long long)m->id, store_receipt_status_name(m->status),
	              (long long)m->created_at);
	return 0;
}

struct reply_out {
	struct sd_buf *b;
	int n;
};

static int reply_row(void *p, const struct sd_reply *r)
{
	struct reply_out *o = p;

	sd_buf_printf(o->b, "%s{\"id\":%lld,\"encrypted_reply\":", o->n++ ? "," : "",
	              (long long)r->id);
	sd_json_str(o->b, r->encrypted_reply, r->encrypted_len);
	sd_buf_printf(o->b, ",\"created_at\":%lld}", (long long)r->created_at);
	return 0;
}

static void lookup_reply(struct sd_ctx *ctx, const struct sd_receipt *r)
{
	struct sd_buf msgs = {0}, *b = &ctx->resp->body;
	struct status_out so = {&msgs, r->thread_id, SD_RCPT_STORED, 0};
	struct reply_out ro = {b, 0};
	enum sd_err e;

	/* The statuses go first into their own buffer: "status" precedes them. */
	e = store_receipt_messages(ctx->store, r->key, SD_RECEIPT_LIST_MAX, status_row, &so);
	if (e == SD_OK && msgs.failed)
		e = SD_ENOMEM;
	if (e != SD_OK) {
		sd_buf_free(&msgs);
		reply_store_error(ctx, e);
		return;
	}
	reply_json_begin(ctx, 200);
	sd_json_key(b, "link_token");
	sd_json_cstr(b, r->link_token);
	sd_buf_printf(b,
	              ",\"thread_id\":%lld,\"status\":\"%s\",\"status_released_at\":%lld,"
	              "\"messages\":[",
	              (long long)r->thread_id, store_receipt_status_name(so.first),
	              (long long)r->released_at);
	if (msgs.len > 0)
		sd_buf_append(b, msgs.data, msgs.len);
	sd_buf_puts(b, "],\"replies\":[");
	sd_buf_free(&msgs);
	e = store_receipt_replies(ctx->store, r->key, SD_RECEIPT_LIST_MAX, reply_row, &ro);
	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return;
	}
	sd_buf_puts(b, "]");
	reply_json_end(ctx);
}

void api_receipt(struct sd_ctx *ctx)
{
	struct lookup_body f;
	struct sd_receipt r;
	char id[SD_RECEIPT_B64URL_LEN + 1];

	if (api_fields_or_reply(ctx, lookup_fields, SD_ARRAY_LEN(lookup_fields), &f) == 0 &&
	    receipt_or_reply(ctx, f.auth, id, &r) == 0)
		lookup_reply(ctx, &r);
	sodium_memzero(&f, sizeof f);
}

/* ---- POST /receipt/answer ------------------------------------------------ */

struct answer_body {
	char auth[SD_RECEIPT_B64URL_LEN + 1];
	char message[SD_B64_LEN(SD_MSG_MAX_BYTES) + 1];
	size_t message_bytes;
	char key[SD_IDEMPOTENCY_KEY_MAX + 1];
};

static const struct api_field answer_fields[] = {
    RECEIPT_AUTH_ROW(struct answer_body, auth),
    {.name = "encrypted_message",
     .type = API_BLOB,
     .flags = API_REQUIRED,
     .min = SD_MSG_MIN_BYTES,
     .max = SD_MSG_MAX_BYTES,
     API_AT(struct answer_body, message),
     API_LEN(struct answer_body, message_bytes),
     .code = "invalid_encrypted_message",
     .msg = "encrypted_message must be standard base64 of a sealed box",
     .big_code = "payload_too_large",
     .big_msg = "encrypted_message is larger than 16 KiB"},
    {.name = "idempotency_key",
     .type = API_STRING,
     .min = SD_IDEMPOTENCY_KEY_MIN,
     .max = SD_IDEMPOTENCY_KEY_MAX,
     .check = api_idempotency_key_ok,
     API_AT(struct answer_body, key),
     .code = "invalid_idempotency_key",
     .msg = "idempotency_key must be " API_STR(SD_IDEMPOTENCY_KEY_MIN) " to " API_STR(
         SD_IDEMPOTENCY_KEY_MAX) " characters of A-Z, a-z, 0-9, - and _"},
};

static void answer_store(struct sd_ctx *ctx, const struct answer_body *f)
{
	struct sd_receipt r;
	char id[SD_RECEIPT_B64URL_LEN + 1];
	struct sd_msg_new m = {
	    f->message, NULL, (int64_t)f->message_bytes, f->key[0] ? f->key : NULL, id, 1};

	if (receipt_or_reply(ctx, f->auth, id, &r) == 0 &&
	    api_padding_or_reply(ctx, r.link_token, f->message_bytes) == 0)
		api_message_store(ctx, r.link_token, &m);
}

void api_receipt_answer(struct sd_ctx *ctx)
{
	struct answer_body *f = sd_malloc(sizeof *f);

	if (f == NULL) {
		reply_store_error(ctx, SD_ENOMEM);
		return;
	}
	if (api_fields_or_reply(ctx, answer_fields, SD_ARRAY_LEN(answer_fields), f) == 0)
		answer_store(ctx, f);
	sodium_memzero(f->auth, sizeof f->auth);
	free(f);
}

/* ---- POST /reply ------------------------------------------------------------ */

struct reply_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	int64_t message_id;
	char reply[SD_B64_LEN(SD_BUCKET_LARGE) + 1];
	size_t reply_bytes;
	struct auth_proof proof;
};

static const struct api_field reply_fields[] = {
    API_LINK_TOKEN(struct reply_body, link),
    {.name = "message_id",
     .type = API_INT,
     .flags = API_REQUIRED,
     .min = 1,
     .max = INT64_MAX - 1,
     API_AT(struct reply_body, message_id),
     .code = "invalid_message_id",
     .msg = "message_id must be the id of a message of this inbox"},
    {.name = "encrypted_reply",
     .type = API_BLOB,
     .flags = API_REQUIRED,
     .min = 1,
     .max = SD_BUCKET_LARGE,
     API_AT(struct reply_body, reply),
     API_LEN(struct reply_body, reply_bytes),
     .code = "invalid_encrypted_reply",
     .msg = "encrypted_reply must be standard base64 of a sealed box",
     .big_code = "payload_too_large",
     .big_msg = "encrypted_reply is larger than 16 KiB"},
    AUTH_PROOF_FIELDS("", struct reply_body, proof),
};

static void reply_store(struct sd_ctx *ctx, const struct reply_body *f)
{
	int64_t id = 0;
	enum sd_err e = store_reply_insert(ctx->store, f->link, f->message_id, f->reply,
	                                   &ctx->cfg->limits, ctx->now, &id);

	switch (e) {
	case SD_OK:
		reply_json_begin(ctx, 201);
		sd_buf_printf(&ctx->resp->body, "\"id\":%lld", (long long)id);
		reply_json_end(ctx);
		break;
	case SD_ENOTFOUND:
		/* Another inbox's message is not found either: never say it exists. */
		reply_error(ctx, 404, "message_not_found", "This inbox has no such message");
		break;
	case SD_ECONFLICT:
		reply_error(ctx, 409, "no_receipt", "This message came without a receipt");
		break;
	case SD_ELIMIT:
		reply_error(ctx, 429, "reply_limit",
		            "Too many replies stored for this receipt or this inbox");
		break;
	default:
		reply_store_error(ctx, e);
	}
}

void api_reply(struct sd_ctx *ctx)
{
	struct reply_body *f = sd_malloc(sizeof *f);
	struct sd_client c;

	if (f == NULL) {
		reply_store_error(ctx, SD_ENOMEM);
		return;
	}
	if (api_fields_or_reply(ctx, reply_fields, SD_ARRAY_LEN(reply_fields), f) != 0)
		goto out;
	/* Before the credentials: a mistake costs no challenge. */
	if (!api_padded_size(f->reply_bytes)) {
		reply_error(ctx, 400, "not_padded",
		            "encrypted_reply must be a sealed box of 1024, 4096 or 16384 bytes");
		goto out;
	}
	if (api_client_or_reply(ctx, f->link, &c) == 0 &&
	    auth_check_or_reply(ctx, &f->proof, &c, AUTH_REPLY) == 0)
		reply_store(ctx, f);
out:
	free(f);
}
