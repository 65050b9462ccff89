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
#include "server/limits.h"

/* /check_contact's created_at: the inbox's creation time is not part of
 * what its link tells (GET /key/<link_token>), so the field keeps its place
 * and type for PyCrypt's clients but carries no information. */
#define SD_CONTACT_CREATED_AT   "1970-01-01T00:00:00Z"

/* How long a caller over its pending-request cap should wait: requests
 * leave the count only when their recipients answer them. */
#define SD_REQUESTS_RETRY_AFTER 3600

/* A credential field is there when it is in the body and not null. */
static int has_field(json_object *body, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(body, name, &v) && !json_object_is_type(v, json_type_null);
}

/* A link token in field `name` (from_link_token, to_link_token): a string
 * of link shape, else 400 invalid_<name>. Optional and absent (or null):
 * 0 with *out = NULL. */
static int link_field_or_reply(struct sd_ctx *ctx, json_object *body, const char *name,
                               int required, const char **out)
{
	struct sd_verr err;
	size_t n = 0;
	enum sd_field_rc rc;

	*out = NULL;
	rc = sd_field_string(body, name, required, SD_LINK_TOKEN_MAX, out, &n, &err);
	if (rc == SD_FIELD_ABSENT)
		return 0;
	if (rc == SD_FIELD_OK && !api_link_token_valid(*out, n))
		sd_verr_field(&err, name, "%s is not a link token", name);
	else if (rc == SD_FIELD_OK)
		return 0;
	*out = NULL;
	api_verr(ctx, &err);
	return -1;
}

/* The inbox named by a sender's from_link_token: 0, or -1 after a 404
 * unknown_from_link (or 503). */
static int sender_or_reply(struct sd_ctx *ctx, const char *from, struct sd_client *c)
{
	enum sd_err e = store_client_get(ctx->store, from, c);

	if (e == SD_ENOTFOUND) {
		api_error(ctx, 404, "unknown_from_link", "No inbox has this from_link_token");
		return -1;
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		return -1;
	}
	return 0;
}

void api_check_contact(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx), *v;
	struct sd_client c;
	struct sd_buf *b = &ctx->resp->body;
	const char *link;
	size_t n;
	enum sd_err e;

	if (body == NULL)
		return;
	if (!json_object_object_get_ex(body, "link_token", &v) ||
	    !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		api_error(ctx, 400, "invalid_link_token", "link_token must be a non-empty string");
		goto out;
	}
	link = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	/* A string that cannot be a link token names no inbox: as PyCrypt,
	 * that is an answer ("no"), not a client error. */
	e = api_link_token_valid(link, n) && memchr(link, '\0', n) == NULL
	        ? store_client_get(ctx->store, link, &c)
	        : SD_ENOTFOUND;
	if (e == SD_ENOTFOUND) {
		api_json_begin(ctx, 200);
		sd_buf_puts(b, "\"exists\":false");
		api_json_end(ctx);
		goto out;
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	/* Only what GET /key/<link_token> tells already. */
	api_json_begin(ctx, 200);
	sd_buf_puts(b, "\"exists\":true,");
	sd_json_key(b, "link_token");
	sd_json_cstr(b, c.link_token);
	sd_buf_puts(b, ",");
	sd_json_key(b, "nickname");
	if (c.has_display_name)
		sd_json_cstr(b, c.display_name);
	else
		sd_buf_puts(b, "null");
	sd_buf_puts(b, ",\"created_at\":\"" SD_CONTACT_CREATED_AT "\"");
	api_json_end(ctx);
out:
	json_object_put(body);
}

void api_request_message_permission(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client from_c, to_c;
	struct sd_verr err;
	struct sd_buf *b = &ctx->resp->body;
	const char *from, *to, *nick = NULL;
	char nickname[sizeof from_c.display_name], caller[96];
	size_t nick_len = 0;
	int verified, created = 0;
	int64_t id = 0;
	enum sd_req_status status = SD_REQ_PENDING;
	enum sd_field_rc rc;
	enum sd_err e;

	if (body == NULL)
		return;
	/* Every field is checked before anything is looked up. */
	if (link_field_or_reply(ctx, body, "from_link_token", 1, &from) != 0 ||
	    link_field_or_reply(ctx, body, "to_link_token", 1, &to) != 0)
		goto out;
	rc = sd_field_string(body, "from_nickname", 0, 4 * SD_DISPLAY_NAME_CHARS, &nick, &nick_len,
	                     &err);
	if (rc == SD_FIELD_BAD) {
		api_verr(ctx, &err);
		goto out;
	}
	if (rc == SD_FIELD_OK && !api_display_name_ok(nick, nick_len)) {
		api_error(ctx, 400, "invalid_from_nickname",
		          "from_nickname must be at most 64 printable characters");
		goto out;
	}
	/* The verified form: the sender signs a challenge of from_link_token's
	 * inbox. Half a proof is a failed proof, never a quiet fallback to
	 * the claimed form. */
	verified = has_field(body, "from_challenge") || has_field(body, "from_challenge_signature");
	if (verified &&
	    !(has_field(body, "from_challenge") && has_field(body, "from_challenge_signature"))) {
		api_error(ctx, 401, "unauthorized",
		          "A verified sender needs from_challenge and from_challenge_signature");
		goto out;
	}
	if (api_client_or_reply(ctx, to, &to_c) != 0 || sender_or_reply(ctx, from, &from_c) != 0)
		goto out;
	/* Verified, then consumed: a bad signature burns nothing, and a
	 * challenge proves one request only. */
	if (verified && auth_signed_challenge_or_reply(ctx, body, &from_c, "from_challenge",
	                                               "from_challenge_signature") != 0)
		goto out;
	/* PyCrypt's from_nickname is NOT NULL. Without one, the sender's
	 * public display name (what its link tells anyway), else "". */
	if (nick != NULL) {
		memcpy(nickname, nick, nick_len);
		nickname[nick_len] = '\0';
	} else {
		snprintf(nickname, sizeof nickname, "%s",
		         from_c.has_display_name ? from_c.display_name : "");
	}
	auth_caller_key(ctx->req->remote_addr, caller, sizeof caller);
	e = store_msgreq_open(ctx->store, from_c.link_token, to_c.link_token, nickname, verified,
	                      caller, ctx->now, &ctx->cfg->limits, &id, &status, &created);
	if (e == SD_ELIMIT) {
		api_error(ctx, 429, "too_many_requests",
		          "Too many pending message requests; try again later");
		ctx->resp->retry_after = SD_REQUESTS_RETRY_AFTER;
		goto out;
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	if (status == SD_REQ_ACCEPTED) {
		api_json_begin(ctx, 200);
		sd_buf_puts(b,
		            "\"message\":\"Permission already granted\",\"status\":\"accepted\"");
		api_json_end(ctx);
		goto out;
	}
	/* New, already pending, or rejected: all read "pending". A rejection
	 * is final and silent, so a sender learns nothing from asking again
	 * and the recipient is not asked again. */
	api_json_begin(ctx, 201);
	sd_buf_puts(b, created ? "\"message\":\"Message request sent successfully\""
	                       : "\"message\":\"Message request already pending\"");
	sd_buf_puts(b, ",\"request_id\":");
	sd_json_int(b, id);
	sd_buf_puts(b, ",\"status\":\"pending\"");
	api_json_end(ctx);
out:
	json_object_put(body);
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

void api_get_message_requests(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client c;
	struct list_out o;
	const char *link;
	enum sd_err e;

	if (body == NULL)
		return;
	if (api_link_token_or_reply(ctx, body, &link) != 0 ||
	    api_client_or_reply(ctx, link, &c) != 0 ||
	    auth_check_or_reply(ctx, body, &c, SD_AUTH_SIGNATURE_OR_TOKEN) != 0)
		goto out;
	api_json_begin(ctx, 200);
	sd_buf_puts(&ctx->resp->body, "\"message\":\"Requests retrieved successfully\",\"data\":[");
	o.b = &ctx->resp->body;
	o.n = 0;
	/* Pending requests are capped per inbox; a database taken over from
	 * PyCrypt may hold more: the oldest come first, and answering them
	 * makes room. */
	e = store_msgreq_list(ctx->store, c.link_token, ctx->cfg->limits.requests_per_inbox,
	                      list_row, &o);
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	sd_buf_puts(&ctx->resp->body, "]");
	api_json_end(ctx);
out:
	json_object_put(body);
}

void api_respond_message_request(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client c;
	struct sd_verr err;
	const char *link, *action;
	int64_t id;
	int accept;
	enum sd_req_status was;
	enum sd_err e;

	if (body == NULL)
		return;
	/* Every field before the credentials: a mistake never costs a
	 * single-use challenge. */
	if (api_link_token_or_reply(ctx, body, &link) != 0)
		goto out;
	if (sd_field_int(body, "request_id", 1, 1, INT64_MAX - 1, &id, &err) != SD_FIELD_OK ||
	    sd_field_string(body, "action", 1, 16, &action, NULL, &err) != SD_FIELD_OK) {
		api_verr(ctx, &err);
		goto out;
	}
	accept = strcmp(action, "accept") == 0;
	if (!accept && strcmp(action, "reject") != 0) {
		api_error(ctx, 400, "invalid_action", "action must be \"accept\" or \"reject\"");
		goto out;
	}
	if (api_client_or_reply(ctx, link, &c) != 0 ||
	    auth_check_or_reply(ctx, body, &c, SD_AUTH_SIGNATURE_OR_TOKEN) != 0)
		goto out;
	e = store_msgreq_answer(ctx->store, c.link_token, id, accept, ctx->now, &was);
	switch (e) {
	case SD_OK:
		api_json_begin(ctx, 200);
		sd_buf_puts(&ctx->resp->body,
		            accept ? "\"message\":\"Request accepted successfully\""
		                   : "\"message\":\"Request rejected successfully\"");
		sd_buf_puts(&ctx->resp->body, ",\"request_id\":");
		sd_json_int(&ctx->resp->body, id);
		sd_buf_puts(&ctx->resp->body,
		            accept ? ",\"status\":\"accepted\"" : ",\"status\":\"rejected\"");
		api_json_end(ctx);
		break;
	case SD_ENOTFOUND:
		api_error(ctx, 404, "unknown_request", "No such message request");
		break;
	case SD_EFORBIDDEN:
		api_error(ctx, 403, "forbidden", "This message request is to another inbox");
		break;
	case SD_ECONFLICT:
		api_error(ctx, 400, "already_processed",
		          was == SD_REQ_ACCEPTED ? "Request already processed (accepted)"
		                                 : "Request already processed (rejected)");
		break;
	default:
		api_store_error(ctx, e);
		break;
	}
out:
	json_object_put(body);
}

int permission_send_check_or_reply(struct sd_ctx *ctx, json_object *body, const char *to_link)
{
	struct sd_client c;
	const char *from;
	enum sd_err e;

	if (link_field_or_reply(ctx, body, "from_link_token", 0, &from) != 0)
		return -1;
	if (from == NULL)
		return 0; /* anonymous: no check, as PyCrypt */
	if (api_client_or_reply(ctx, to_link, &c) != 0 || sender_or_reply(ctx, from, &c) != 0)
		return -1;
	e = store_msgreq_allowed(ctx->store, from, to_link);
	if (e == SD_ENOTFOUND) {
		/* PyCrypt's body, with our code beside it. */
		api_json_begin(ctx, 403);
		sd_buf_puts(&ctx->resp->body,
		            "\"error\":\"Permission denied. Please request permission first.\","
		            "\"action_required\":\"request_permission\","
		            "\"code\":\"permission_required\"");
		api_json_end(ctx);
		return -1;
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		return -1;
	}
	return 0;
}
