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

void api_json_display_name(struct sd_buf *b, const struct sd_client *c)
{
	if (c->has_display_name)
		sd_json_cstr(b, c->display_name);
	else
		sd_buf_puts(b, "null");
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
	default:
		/* Database trouble is the server's, not the client's, and it is
		 * temporary: 503 tells clients to retry. */
		api_error(ctx, 503, "store_unavailable", "Storage is temporarily unavailable");
		ctx->resp->retry_after = 5;
		break;
	}
}

int api_link_token_valid(const char *s, size_t n)
{
	return n > 5 && n <= SD_LINK_TOKEN_MAX && memcmp(s, SD_LINK_PREFIX, 5) == 0 &&
	       sd_is_b64url(s + 5, n - 5);
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
