#include "api/api_util.h"
#include "core/timeutil.h"

void api_health(struct sd_ctx *ctx)
{
	char ts[SD_ISO8601_LEN + 1];
	int ok = ctx->store != NULL && store_ping(ctx->store) == SD_OK;

	sd_iso8601(ctx->now, ts);
	reply_json_begin(ctx, ok ? 200 : 503);
	sd_buf_printf(&ctx->resp->body,
	              "\"status\":\"%s\",\"timestamp\":\"%s\",\"database\":\"%s\"",
	              ok ? "healthy" : "unhealthy", ts, ok ? "ok" : "unavailable");
	reply_json_end(ctx);
}
