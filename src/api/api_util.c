#include "api/api_util.h"

#include <string.h>

#include "core/b64.h"
#include "core/crypto.h"
#include "proto/limits.h"
#include "proto/reply.h"

void api_json_display_name(struct sd_buf *b, const struct sd_client *c)
{
	if (c->has_display_name)
		sd_json_cstr(b, c->display_name);
	else
		sd_buf_puts(b, "null");
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
		reply_store_error(ctx, e);
		return -1;
	}
	return 0;
}
