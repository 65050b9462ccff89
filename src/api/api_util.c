#include "api/api_util.h"

#include <string.h>

#include "core/b64.h"
#include "core/crypto.h"
#include "server/limits.h"

void api_json_begin(struct sd_ctx *ctx, int status)
{
	ctx->resp->status = status;
	sd_buf_reset(&ctx->resp->body);
	sd_buf_puts(&ctx->resp->body, "{");
}

void api_json_end(struct sd_ctx *ctx)
{
	sd_buf_puts(&ctx->resp->body, "}\n");
}

void api_error(struct sd_ctx *ctx, int status, const char *code, const char *msg)
{
	struct sd_buf *b = &ctx->resp->body;

	api_json_begin(ctx, status);
	sd_json_key(b, "error");
	sd_json_cstr(b, msg);
	sd_buf_puts(b, ",");
	sd_json_key(b, "code");
	sd_json_cstr(b, code);
	api_json_end(ctx);
}

void api_verr(struct sd_ctx *ctx, const struct sd_verr *err)
{
	api_error(ctx, err->too_large ? 413 : 400, err->code, err->msg);
}

void api_store_error(struct sd_ctx *ctx, enum sd_err e)
{
	switch (e) {
	case SD_ENOTFOUND:
		api_error(ctx, 404, "unknown_link", "No inbox has this link");
		break;
	case SD_EFULL:
		api_error(ctx, 429, "inbox_full", "This inbox is full; try again later");
		ctx->resp->retry_after = 3600;
		break;
	case SD_ELIMIT:
		api_error(ctx, 429, "rate_limited", "Too many requests; try again later");
		ctx->resp->retry_after = 60;
		break;
	default:
		/* Database trouble is the server's, not the client's, and it is
		 * temporary: 503 tells clients to retry. */
		api_error(ctx, 503, "store_unavailable", "Storage is temporarily unavailable");
		ctx->resp->retry_after = 5;
		break;
	}
}

json_object *api_body_or_reply(struct sd_ctx *ctx)
{
	struct sd_verr err;
	json_object *o;

	o = sd_json_parse_object(ctx->req->body, ctx->req->body_len, &err);
	if (o == NULL)
		api_verr(ctx, &err);
	return o;
}

int api_link_token_valid(const char *s, size_t n)
{
	return n > 5 && n <= SD_LINK_TOKEN_MAX && memcmp(s, SD_LINK_PREFIX, 5) == 0 &&
	       sd_is_b64url(s + 5, n - 5);
}

int api_link_token_or_reply(struct sd_ctx *ctx, json_object *body, const char **link)
{
	struct sd_verr err;
	size_t n;

	if (sd_field_string(body, "link_token", 1, SD_LINK_TOKEN_MAX, link, &n, &err) !=
	    SD_FIELD_OK) {
		api_verr(ctx, &err);
		return -1;
	}
	if (!api_link_token_valid(*link, n)) {
		api_error(ctx, 400, "invalid_link_token", "link_token is not a link token");
		return -1;
	}
	return 0;
}

int api_client_or_reply(struct sd_ctx *ctx, const char *link, struct sd_client *c)
{
	enum sd_err e = store_client_get(ctx->store, link, c);

	if (e != SD_OK) {
		api_store_error(ctx, e);
		return -1;
	}
	return 0;
}

int api_b64_field_or_reply(struct sd_ctx *ctx, json_object *body, const char *name, int required,
                           unsigned char *out, size_t want, int *present)
{
	struct sd_verr err;
	const char *s;
	size_t n, got;
	enum sd_field_rc rc;

	*present = 0;
	rc = sd_field_string(body, name, required, SD_SIG_FIELD_MAX, &s, &n, &err);
	if (rc == SD_FIELD_BAD) {
		api_verr(ctx, &err);
		return -1;
	}
	if (rc == SD_FIELD_ABSENT)
		return 0;
	if (sd_b64_decode(s, n, out, want, &got) != 0 || got != want) {
		sd_verr_field(&err, name, "%s must be base64 of %zu bytes", name, want);
		api_verr(ctx, &err);
		return -1;
	}
	*present = 1;
	return 0;
}
