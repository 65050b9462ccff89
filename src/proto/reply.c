#include "proto/reply.h"

void reply_json_begin(struct sd_ctx *ctx, int status)
{
	ctx->resp->status = status;
	sd_buf_reset(&ctx->resp->body);
	sd_buf_puts(&ctx->resp->body, "{");
}

void reply_json_end(struct sd_ctx *ctx)
{
	sd_buf_puts(&ctx->resp->body, "}\n");
}

void reply_error(struct sd_ctx *ctx, int status, const char *code, const char *msg)
{
	struct sd_buf *b = &ctx->resp->body;

	reply_json_begin(ctx, status);
	sd_json_key(b, "error");
	sd_json_cstr(b, msg);
	sd_buf_puts(b, ",");
	sd_json_key(b, "code");
	sd_json_cstr(b, code);
	reply_json_end(ctx);
}

void reply_verr(struct sd_ctx *ctx, const struct sd_verr *err)
{
	reply_error(ctx, err->too_large ? 413 : 400, err->code, err->msg);
}

void reply_store_error(struct sd_ctx *ctx, enum sd_err e)
{
	switch (e) {
	case SD_ENOTFOUND:
		reply_error(ctx, 404, "unknown_link", "No inbox has this link");
		break;
	case SD_EFULL:
		reply_error(ctx, 429, "inbox_full", "This inbox is full; try again later");
		ctx->resp->retry_after = 3600;
		break;
	default:
		/* Database trouble is the server's, not the client's, and it is
		 * temporary: 503 tells clients to retry. */
		reply_error(ctx, 503, "store_unavailable", "Storage is temporarily unavailable");
		ctx->resp->retry_after = 5;
		break;
	}
}
