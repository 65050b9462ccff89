/* POST /send, /fetch and /ack. */
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "api/capacity.h"
#include "core/b64.h"
#include "core/event_channel.h"
#include "core/events.h"
#include "core/fault.h"
#include "core/timeutil.h"
#include "proto/limits.h"

struct send_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	char message[SD_B64_LEN(SD_MSG_MAX_BYTES) + 1]; /* canonical base64 */
	size_t message_bytes;
	char metadata[SD_METADATA_MAX + 1];         /* "": none */
	char from[SD_LINK_TOKEN_MAX + 1];           /* "": an anonymous send */
	char key[SD_IDEMPOTENCY_KEY_MAX + 1];       /* "": none */
	char receipt_id[SD_RECEIPT_B64URL_LEN + 1]; /* "": none */
};

/* An idempotency key: base64url-ish text a client makes up per message. */
int api_idempotency_key_ok(const void *v, size_t n)
{
	const unsigned char *s = v;

	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

_Static_assert(SD_MSG_MAX_BYTES == 16 * 1024, "encrypted_message's 413 says 16 KiB");

/* The sender is looked at after the message fields, so bad input is a 400
 * whoever the sender claims to be. metadata is any JSON value, kept as the
 * sender wrote it (PyCrypt stores whatever JSON it is given). */
static const struct api_field send_fields[] = {
    API_LINK_TOKEN(struct send_body, link),
    {.name = "encrypted_message",
     .type = API_BLOB,
     .flags = API_REQUIRED,
     .min = SD_MSG_MIN_BYTES,
     .max = SD_MSG_MAX_BYTES,
     API_AT(struct send_body, message),
     API_LEN(struct send_body, message_bytes),
     .code = "invalid_encrypted_message",
     .msg = "encrypted_message must be standard base64 of a sealed box",
     .big_code = "payload_too_large",
     .big_msg = "encrypted_message is larger than 16 KiB"},
    {.name = "metadata",
     .type = API_RAW,
     .max = SD_METADATA_MAX,
     API_AT(struct send_body, metadata),
     .big_code = "metadata_too_large",
     .big_msg = "metadata is larger than " API_STR(SD_METADATA_MAX) " bytes once serialized"},
    {.name = "from_link_token",
     .type = API_LINK,
     API_AT(struct send_body, from),
     .code = "invalid_from_link_token",
     .msg = "from_link_token must be the link token of an inbox"},
    {.name = "idempotency_key",
     .type = API_STRING,
     .min = SD_IDEMPOTENCY_KEY_MIN,
     .max = SD_IDEMPOTENCY_KEY_MAX,
     .check = api_idempotency_key_ok,
     API_AT(struct send_body, key),
     .code = "invalid_idempotency_key",
     .msg = "idempotency_key must be " API_STR(SD_IDEMPOTENCY_KEY_MIN) " to " API_STR(
         SD_IDEMPOTENCY_KEY_MAX) " characters of A-Z, a-z, 0-9, - and _"},
    {.name = "receipt_id",
     .type = API_STRING,
     .min = SD_RECEIPT_B64URL_LEN,
     .max = SD_RECEIPT_B64URL_LEN,
     .check = api_receipt_b64url_ok,
     API_AT(struct send_body, receipt_id),
     .code = "invalid_receipt_id",
     .msg = "receipt_id must be " API_STR(
         SD_RECEIPT_B64URL_LEN) " characters of base64url (32 bytes)"},
};

static void send_reply(struct sd_ctx *ctx, int64_t id)
{
	reply_json_begin(ctx, 201);
	sd_buf_printf(&ctx->resp->body, "\"message\":\"Message sent successfully\",\"id\":%lld",
	              (long long)id);
	reply_json_end(ctx);
}

static void store_error(struct sd_ctx *ctx, const struct sd_msg_new *m, enum sd_err e)
{
	if (e == SD_ECONFLICT && m->receipt_id != NULL && !m->answer)
		reply_error(ctx, 409, "receipt_exists", "This receipt_id is already in use");
	else if (e == SD_ENOTFOUND && m->answer)
		reply_error(ctx, 404, "receipt_not_found", "No such receipt");
	else
		reply_store_error(ctx, e);
}

void api_message_store(struct sd_ctx *ctx, const char *link, const struct sd_msg_new *m)
{
	char channel_link[SD_LINK_TOKEN_MAX + 1];
	int64_t id = 0, charge = (int64_t)(strlen(m->encrypted_b64) +
	                                   (m->metadata ? strlen(m->metadata) : 0));
	int stored = 0;
	enum sd_err e;

	/* A retry of a stored message is answered before any bound: it adds
	 * nothing, and telling its sender "full" would make them send a copy. */
	if (m->idempotency_key != NULL) {
		e = store_msg_by_key(ctx->store, link, m->idempotency_key, &id);
		if (e == SD_OK) {
			send_reply(ctx, id);
			return;
		}
		if (e != SD_ENOTFOUND) {
			reply_store_error(ctx, e);
			return;
		}
	}
	if (capacity_send_or_reply(ctx, charge) != 0)
		return;
	e = store_msg_insert(ctx->store, link, m, &ctx->cfg->limits, ctx->now, &id, &stored);
	if (e != SD_OK) {
		store_error(ctx, m, e);
		return;
	}
	/* A retry that raced the first send stored nothing: nothing to count
	 * and nothing to tell (one event per stored message). */
	if (stored) {
		capacity_added(0, charge);
		/* The channel is named by the link as the owner's subscription
		 * names it, whatever case this send spelled it in. */
		if (sd_events_listening()) {
			sd_event_channel_link(link, store_links_fold_case(ctx->store), channel_link,
			                      sizeof channel_link);
			sd_events_stored(channel_link, id);
		}
	}
	send_reply(ctx, id);
}

static void send_store(struct sd_ctx *ctx, const struct send_body *f)
{
	struct sd_msg_new m = {f->message,
	                       f->metadata[0] ? f->metadata : NULL,
	                       (int64_t)f->message_bytes,
	                       f->key[0] ? f->key : NULL,
	                       f->receipt_id[0] ? f->receipt_id : NULL,
	                       0};

	if (api_padding_or_reply(ctx, f->link, f->message_bytes) == 0)
		api_message_store(ctx, f->link, &m);
}

/* The fields on the heap: a worker's stack need not hold a 16 KiB message
 * twice. */
void api_send(struct sd_ctx *ctx)
{
	struct send_body *f = sd_malloc(sizeof *f);

	if (f == NULL)
		reply_store_error(ctx, SD_ENOMEM);
	else if (api_fields_or_reply(ctx, send_fields, SD_ARRAY_LEN(send_fields), f) == 0 &&
	         permission_send_check_or_reply(ctx, f->from, f->link) == 0)
		send_store(ctx, f);
	free(f);
}

static const char *const orders[] = {"DESC", "ASC", NULL};

struct fetch_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	struct sd_msg_query q;
	struct auth_proof proof;
};

/* Options as PyCrypt reads them: limit and order never fail (an unusable
 * value is the default); since_id wins over before_id, which is then not
 * even checked. */
static const struct api_field fetch_fields[] = {
    API_LINK_TOKEN(struct fetch_body, link),
    {.name = "include_seen",
     .type = API_BOOL,
     API_AT(struct fetch_body, q.include_seen),
     .code = "invalid_include_seen",
     .msg = "include_seen must be true or false"},
    {.name = "limit",
     .type = API_INT,
     .flags = API_LENIENT,
     .min = 1,
     .max = SD_FETCH_MAX_LIMIT,
     .dflt = SD_FETCH_DEFAULT_LIMIT,
     API_AT(struct fetch_body, q.limit)},
    {.name = "since_id",
     .type = API_INT,
     .min = 0,
     .max = INT64_MAX - 1,
     API_AT(struct fetch_body, q.since_id),
     .code = "invalid_since_id",
     .msg = "since_id must be an integer of at least 0"},
    {.name = "before_id",
     .type = API_INT,
     .min = 1,
     .max = INT64_MAX - 1,
     .dflt = INT64_MAX,
     .unless = "since_id",
     API_AT(struct fetch_body, q.before_id),
     .code = "invalid_before_id",
     .msg = "before_id must be an integer of at least 1"},
    {.name = "order",
     .type = API_ENUM,
     .flags = API_LENIENT | API_CASELESS,
     .choices = orders,
     API_AT(struct fetch_body, q.ascending)},
    AUTH_PROOF_FIELDS("", struct fetch_body, proof),
};

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
	if (m->thread_id != 0) {
		sd_buf_puts(o->b, ",\"thread_id\":");
		sd_json_int(o->b, m->thread_id);
		sd_buf_puts(o->b, ",\"replies\":");
		sd_json_int(o->b, m->replies);
	}
	sd_buf_puts(o->b, "}");
	o->n++;
	o->last_id = m->id;
	return 0;
}

/* One page of c's messages, and the cursor to the next. */
static void fetch_reply(struct sd_ctx *ctx, const struct sd_client *c, struct sd_msg_query q)
{
	struct sd_buf *b = &ctx->resp->body;
	struct fetch_out o = {.b = b, .limit = q.limit};
	enum sd_err e;

	reply_json_begin(ctx, 200);
	sd_buf_puts(b, "\"message\":\"Messages retrieved successfully\",\"data\":[");
	q.limit++; /* one more row than the page tells whether another page exists */
	e = store_msg_list(ctx->store, c->link_token, &q, fetch_row, &o);
	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return;
	}
	sd_buf_printf(b, "],\"count\":%lld,\"has_more\":%s,\"next_cursor\":", (long long)o.n,
	              o.has_more ? "true" : "false");
	/* As PyCrypt: the last id of any non-empty page, whatever has_more. */
	if (o.n > 0)
		sd_json_int(b, o.last_id);
	else
		sd_buf_puts(b, "null");
	reply_json_end(ctx);
}

void api_fetch(struct sd_ctx *ctx)
{
	struct fetch_body f;
	struct sd_client c;

	if (api_fields_or_reply(ctx, fetch_fields, SD_ARRAY_LEN(fetch_fields), &f) != 0 ||
	    api_client_or_reply(ctx, f.link, &c) != 0 ||
	    auth_check_or_reply(ctx, &f.proof, &c, AUTH_FETCH) != 0)
		return;
	fetch_reply(ctx, &c, f.q);
}

struct ack_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	int64_t ids[SD_ACK_MAX_IDS];
	size_t n_ids;
	int has_ids;
	int64_t up_to; /* every message up to this id, instead of ids */
	int has_up_to;
	int delete;
	struct auth_proof proof;
};

#define IDS_MSG \
	"message_ids must be an array of at most " API_STR(SD_ACK_MAX_IDS) " positive integers"

static const struct api_field ack_fields[] = {
    API_LINK_TOKEN(struct ack_body, link),
    {.name = "message_ids",
     .type = API_IDS,
     .max = SD_ACK_MAX_IDS,
     API_AT(struct ack_body, ids),
     API_LEN(struct ack_body, n_ids),
     API_PRESENT(struct ack_body, has_ids),
     .code = "invalid_message_ids",
     .msg = IDS_MSG},
    {.name = "up_to_id",
     .type = API_INT,
     .min = 1,
     .max = INT64_MAX - 1,
     API_AT(struct ack_body, up_to),
     API_PRESENT(struct ack_body, has_up_to),
     .code = "invalid_up_to_id",
     .msg = "up_to_id must be an integer of at least 1"},
    {.name = "delete",
     .type = API_BOOL,
     API_AT(struct ack_body, delete),
     .code = "invalid_delete",
     .msg = "delete must be true or false"},
    AUTH_PROOF_FIELDS("", struct ack_body, proof),
};

static void ack_store(struct sd_ctx *ctx, const struct sd_client *c, const struct ack_body *f)
{
	int64_t count = 0;
	enum sd_err e =
	    f->has_up_to
	        ? store_msg_ack_upto(ctx->store, c->link_token, f->up_to, f->delete, &count)
	        : store_msg_ack(ctx->store, c->link_token, f->ids, f->n_ids, f->delete, &count);

	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return;
	}
	reply_json_begin(ctx, 200);
	sd_buf_printf(&ctx->resp->body, "\"message\":\"%s\",\"count\":%lld",
	              f->delete ? "Messages deleted" : "Messages marked as seen", (long long)count);
	reply_json_end(ctx);
}

void api_ack(struct sd_ctx *ctx)
{
	struct ack_body f;
	struct sd_client c;

	if (api_fields_or_reply(ctx, ack_fields, SD_ARRAY_LEN(ack_fields), &f) != 0)
		return;
	/* Exactly one of the two says which messages: checked before the
	 * credentials, so a mistake costs no challenge. */
	if (f.has_ids == f.has_up_to) {
		reply_error(ctx, 400, f.has_ids ? "invalid_ack" : "invalid_message_ids",
		            f.has_ids ? "Give message_ids or up_to_id, not both" : IDS_MSG);
		return;
	}
	if (api_client_or_reply(ctx, f.link, &c) != 0 ||
	    auth_check_or_reply(ctx, &f.proof, &c, f.delete ? AUTH_DELETE : AUTH_ACK) != 0)
		return;
	ack_store(ctx, &c, &f);
}
