/* PyCrypt's permission API: POST /check_contact, /request_message_permission,
 * /get_message_requests, /respond_message_request, and the sender check of
 * /send. The wire form is PyCrypt's (docs/API.md); what sealdrop adds (caps,
 * validated nicknames, the verified sender form) and why is in
 * docs/SECURITY.md, "Permission API threat model". */
#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "core/timeutil.h"
#include "proto/limits.h"

/* /check_contact's created_at: the inbox's creation time is not part of
 * what its link tells (GET /key/<link_token>), so the field keeps its place
 * and type for PyCrypt's clients but carries no information. */
#define SD_CONTACT_CREATED_AT   "1970-01-01T00:00:00Z"

/* How long a caller over its pending-request cap should wait: requests
 * leave the count only when their recipients answer them. */
#define SD_REQUESTS_RETRY_AFTER 3600

/* The inbox named by a sender's from_link_token: 0, or -1 after a 404
 * unknown_from_link (or 503). */
static int sender_or_reply(struct sd_ctx *ctx, const char *from, struct sd_client *c)
{
	enum sd_err e = store_client_get(ctx->store, from, c);

	if (e == SD_ENOTFOUND) {
		reply_error(ctx, 404, "unknown_from_link", "No inbox has this from_link_token");
		return -1;
	}
	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return -1;
	}
	return 0;
}

struct contact_body {
	char link[SD_LINK_TOKEN_MAX + 1]; /* "": not a link token */
};

/* A string that cannot be a link token names no inbox: as PyCrypt, that is
 * an answer ("no"), not a client error; a missing, empty or non-string
 * link_token is one. */
static const struct api_field contact_fields[] = {
    {.name = "link_token",
     .type = API_LINK,
     .flags = API_REQUIRED | API_LENIENT,
     API_AT(struct contact_body, link),
     .code = "invalid_link_token",
     .msg = "link_token must be a non-empty string"},
};

/* Only what GET /key/<link_token> tells already. */
static void contact_reply(struct sd_ctx *ctx, const struct sd_client *c)
{
	struct sd_buf *b = &ctx->resp->body;

	reply_json_begin(ctx, 200);
	sd_buf_puts(b, "\"exists\":true,");
	sd_json_key(b, "link_token");
	sd_json_cstr(b, c->link_token);
	sd_buf_puts(b, ",");
	sd_json_key(b, "nickname");
	api_json_display_name(b, c);
	sd_buf_puts(b, ",\"created_at\":\"" SD_CONTACT_CREATED_AT "\"");
	reply_json_end(ctx);
}

void api_check_contact(struct sd_ctx *ctx)
{
	struct contact_body f;
	struct sd_client c;
	enum sd_err e;

	if (api_fields_or_reply(ctx, contact_fields, SD_ARRAY_LEN(contact_fields), &f) != 0)
		return;
	e = f.link[0] != '\0' ? store_client_get(ctx->store, f.link, &c) : SD_ENOTFOUND;
	if (e == SD_OK) {
		contact_reply(ctx, &c);
	} else if (e == SD_ENOTFOUND) {
		reply_json_begin(ctx, 200);
		sd_buf_puts(&ctx->resp->body, "\"exists\":false");
		reply_json_end(ctx);
	} else {
		reply_store_error(ctx, e);
	}
}

struct request_body {
	char from[SD_LINK_TOKEN_MAX + 1];
	char to[SD_LINK_TOKEN_MAX + 1];
	char nickname[4 * SD_DISPLAY_NAME_CHARS + 1]; /* "": not given */
	struct auth_proof proof;                      /* the verified form */
};

static const struct api_field request_fields[] = {
    {.name = "from_link_token",
     .type = API_LINK,
     .flags = API_REQUIRED,
     API_AT(struct request_body, from),
     .code = "invalid_from_link_token",
     .msg = "from_link_token must be the link token of an inbox"},
    {.name = "to_link_token",
     .type = API_LINK,
     .flags = API_REQUIRED,
     API_AT(struct request_body, to),
     .code = "invalid_to_link_token",
     .msg = "to_link_token must be the link token of an inbox"},
    {.name = "from_nickname",
     .type = API_STRING,
     .min = 1,
     .max = 4 * SD_DISPLAY_NAME_CHARS,
     .check = api_display_name_ok,
     API_AT(struct request_body, nickname),
     .code = "invalid_from_nickname",
     .msg =
         "from_nickname must be at most " API_STR(SD_DISPLAY_NAME_CHARS) " printable characters"},
    AUTH_PROOF_FIELDS("from_", struct request_body, proof),
};

/* The verified form: the sender signs a challenge of from_link_token's
 * inbox. Half a proof is a failed proof, never a quiet fallback to the
 * claimed form: 1 for a whole proof, 0 for none, -1 after the 401. */
static int proof_given_or_reply(struct sd_ctx *ctx, const struct auth_proof *p)
{
	if (p->challenge.given == p->signature.given)
		return p->challenge.given;
	reply_error(ctx, 401, "unauthorized",
	            "A verified sender needs from_challenge and from_challenge_signature");
	return -1;
}

static void request_reply(struct sd_ctx *ctx, enum sd_req_status status, int created, int64_t id)
{
	struct sd_buf *b = &ctx->resp->body;

	if (status == SD_REQ_ACCEPTED) {
		reply_json_begin(ctx, 200);
		sd_buf_puts(b,
		            "\"message\":\"Permission already granted\",\"status\":\"accepted\"");
		reply_json_end(ctx);
		return;
	}
	/* New, already pending, or rejected: all read "pending". A rejection
	 * is final and silent, so a sender learns nothing from asking again
	 * and the recipient is not asked again. */
	reply_json_begin(ctx, 201);
	sd_buf_puts(b, created ? "\"message\":\"Message request sent successfully\""
	                       : "\"message\":\"Message request already pending\"");
	sd_buf_puts(b, ",\"request_id\":");
	sd_json_int(b, id);
	sd_buf_puts(b, ",\"status\":\"pending\"");
	reply_json_end(ctx);
}

/* Store the request from `from` to `to` (both looked up) and answer it. */
static void request_open(struct sd_ctx *ctx, const struct sd_client *from,
                         const struct sd_client *to, const char *nick, int verified)
{
	char nickname[sizeof from->display_name], caller[96];
	enum sd_req_status status = SD_REQ_PENDING;
	int created = 0;
	int64_t id = 0;
	enum sd_err e;

	/* PyCrypt's from_nickname is NOT NULL. Without one, the sender's
	 * public display name (what its link tells anyway), else "". */
	if (nick[0] == '\0' && from->has_display_name)
		nick = from->display_name;
	snprintf(nickname, sizeof nickname, "%s", nick);
	auth_caller_key(ctx->req->remote_addr, caller, sizeof caller);
	e = store_msgreq_open(ctx->store, from->link_token, to->link_token, nickname, verified,
	                      caller, ctx->now, &ctx->cfg->limits, &id, &status, &created);
	if (e == SD_OK) {
		request_reply(ctx, status, created, id);
	} else if (e == SD_ELIMIT) {
		reply_error(ctx, 429, "too_many_requests",
		            "Too many pending message requests; try again later");
		ctx->resp->retry_after = SD_REQUESTS_RETRY_AFTER;
	} else {
		reply_store_error(ctx, e);
	}
}

/* Fields first, then both inboxes, then the proof (verified, then
 * consumed: a bad signature burns nothing, and a challenge proves one
 * request only), then the caps. */
void api_request_message_permission(struct sd_ctx *ctx)
{
	struct request_body f;
	struct sd_client from, to;
	int verified;

	if (api_fields_or_reply(ctx, request_fields, SD_ARRAY_LEN(request_fields), &f) != 0)
		return;
	verified = proof_given_or_reply(ctx, &f.proof);
	if (verified < 0 || api_client_or_reply(ctx, f.to, &to) != 0 ||
	    sender_or_reply(ctx, f.from, &from) != 0 ||
	    (verified &&
	     auth_signed_challenge_or_reply(ctx, &f.proof, &from, AUTH_REQUEST_PERMISSION) != 0))
		return;
	request_open(ctx, &from, &to, f.nickname, verified);
}

struct list_out {
	struct sd_buf *b;
	int64_t n;
};

static int list_row(void *p, const struct sd_msgreq *r)
{
	struct list_out *o = p;
	char ts[SD_ISO8601_LEN + 1];

	sd_iso8601(r->created_at, ts);
	sd_buf_puts(o->b, o->n ? ",{\"id\":" : "{\"id\":");
	sd_json_int(o->b, r->id);
	sd_buf_puts(o->b, ",");
	sd_json_key(o->b, "from_link_token");
	sd_json_cstr(o->b, r->from_link_token);
	sd_buf_puts(o->b, ",");
	sd_json_key(o->b, "from_nickname");
	sd_json_cstr(o->b, r->from_nickname);
	sd_buf_printf(o->b, ",\"created_at\":\"%s\",\"verified\":%s}", ts,
	              r->verified ? "true" : "false");
	o->n++;
	return 0;
}

struct inbox_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	struct auth_proof proof;
};

static const struct api_field inbox_fields[] = {
    API_LINK_TOKEN(struct inbox_body, link),
    AUTH_PROOF_FIELDS("", struct inbox_body, proof),
};

/* Pending requests are capped per inbox; a database taken over from
 * PyCrypt may hold more: the oldest come first, and answering them makes
 * room. */
static void requests_reply(struct sd_ctx *ctx, const struct sd_client *c)
{
	struct list_out o = {&ctx->resp->body, 0};
	enum sd_err e;

	reply_json_begin(ctx, 200);
	sd_buf_puts(o.b, "\"message\":\"Requests retrieved successfully\",\"data\":[");
	e = store_msgreq_list(ctx->store, c->link_token, ctx->cfg->limits.requests_per_inbox,
	                      list_row, &o);
	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return;
	}
	sd_buf_puts(o.b, "]");
	reply_json_end(ctx);
}

void api_get_message_requests(struct sd_ctx *ctx)
{
	struct inbox_body f;
	struct sd_client c;

	if (api_fields_or_reply(ctx, inbox_fields, SD_ARRAY_LEN(inbox_fields), &f) != 0 ||
	    api_client_or_reply(ctx, f.link, &c) != 0 ||
	    auth_check_or_reply(ctx, &f.proof, &c, AUTH_REQUESTS) != 0)
		return;
	requests_reply(ctx, &c);
}

static const char *const actions[] = {"reject", "accept", NULL};

struct respond_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	int64_t request_id;
	int accept; /* the index in actions */
	struct auth_proof proof;
};

static const struct api_field respond_fields[] = {
    API_LINK_TOKEN(struct respond_body, link),
    {.name = "request_id",
     .type = API_INT,
     .flags = API_REQUIRED,
     .min = 1,
     .max = INT64_MAX - 1,
     API_AT(struct respond_body, request_id),
     .code = "invalid_request_id",
     .msg = "request_id must be a positive integer"},
    {.name = "action",
     .type = API_ENUM,
     .flags = API_REQUIRED,
     .choices = actions,
     API_AT(struct respond_body, accept),
     .code = "invalid_action",
     .msg = "action must be \"accept\" or \"reject\""},
    AUTH_PROOF_FIELDS("", struct respond_body, proof),
};

static void respond_reply(struct sd_ctx *ctx, const struct respond_body *f, enum sd_err e,
                          enum sd_req_status was)
{
	struct sd_buf *b = &ctx->resp->body;

	switch (e) {
	case SD_OK:
		reply_json_begin(ctx, 200);
		sd_buf_puts(b, f->accept ? "\"message\":\"Request accepted successfully\""
		                         : "\"message\":\"Request rejected successfully\"");
		sd_buf_puts(b, ",\"request_id\":");
		sd_json_int(b, f->request_id);
		sd_buf_puts(b, f->accept ? ",\"status\":\"accepted\"" : ",\"status\":\"rejected\"");
		reply_json_end(ctx);
		break;
	case SD_ENOTFOUND:
		reply_error(ctx, 404, "unknown_request", "No such message request");
		break;
	case SD_EFORBIDDEN:
		reply_error(ctx, 403, "forbidden", "This message request is to another inbox");
		break;
	case SD_ECONFLICT:
		reply_error(ctx, 400, "already_processed",
		            was == SD_REQ_ACCEPTED ? "Request already processed (accepted)"
		                                   : "Request already processed (rejected)");
		break;
	default:
		reply_store_error(ctx, e);
		break;
	}
}

void api_respond_message_request(struct sd_ctx *ctx)
{
	struct respond_body f;
	struct sd_client c;
	enum sd_req_status was = SD_REQ_PENDING;
	enum sd_err e;

	if (api_fields_or_reply(ctx, respond_fields, SD_ARRAY_LEN(respond_fields), &f) != 0 ||
	    api_client_or_reply(ctx, f.link, &c) != 0 ||
	    auth_check_or_reply(ctx, &f.proof, &c, AUTH_REQUESTS) != 0)
		return;
	e = store_msgreq_answer(ctx->store, c.link_token, f.request_id, f.accept, ctx->now, &was);
	respond_reply(ctx, &f, e, was);
}

/* PyCrypt's body, with our code beside it. */
static void permission_required(struct sd_ctx *ctx)
{
	reply_json_begin(ctx, 403);
	sd_buf_puts(&ctx->resp->body,
	            "\"error\":\"Permission denied. Please request permission first.\","
	            "\"action_required\":\"request_permission\","
	            "\"code\":\"permission_required\"");
	reply_json_end(ctx);
}

int permission_send_check_or_reply(struct sd_ctx *ctx, const char *from, const char *to_link)
{
	struct sd_client c;
	enum sd_err e;

	if (from[0] == '\0')
		return 0; /* anonymous: no check, as PyCrypt */
	if (api_client_or_reply(ctx, to_link, &c) != 0 || sender_or_reply(ctx, from, &c) != 0)
		return -1;
	e = store_msgreq_allowed(ctx->store, from, to_link);
	if (e == SD_ENOTFOUND)
		permission_required(ctx);
	else if (e != SD_OK)
		reply_store_error(ctx, e);
	return e == SD_OK ? 0 : -1;
}
