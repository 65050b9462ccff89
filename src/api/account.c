/* POST /rotate_token and /unregister: signature auth only, so a leaked
 * fetch token can neither lock the owner out nor erase the inbox. */
#include <sodium.h>
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "core/crypto.h"

/* Body, inbox and a signed challenge for it: the body (to put), or NULL
 * after the reply. */
static json_object *owner_or_reply(struct sd_ctx *ctx, struct sd_client *c)
{
	json_object *body = api_body_or_reply(ctx);
	const char *link;

	if (body == NULL)
		return NULL;
	if (api_link_token_or_reply(ctx, body, &link) != 0 ||
	    api_client_or_reply(ctx, link, c) != 0 ||
	    auth_check_or_reply(ctx, body, c, SD_AUTH_SIGNATURE_ONLY) != 0) {
		json_object_put(body);
		return NULL;
	}
	return body;
}

void api_rotate_token(struct sd_ctx *ctx)
{
	struct sd_client c;
	json_object *body = owner_or_reply(ctx, &c);
	char fetch[SD_FETCH_TOKEN_LEN + 1] = "", hash[SD_SHA256_HEX_LEN + 1];
	enum sd_err e;

	if (body == NULL)
		return;
	sd_token_fetch(fetch);
	sd_sha256_hex(fetch, strlen(fetch), hash);
	e = store_client_set_fetch_hash(ctx->store, c.link_token, hash);
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	api_json_begin(ctx, 200);
	sd_buf_printf(&ctx->resp->body,
	              "\"message\":\"Fetch token rotated\",\"fetch_token\":\"%s\"", fetch);
	api_json_end(ctx);
out:
	sodium_memzero(fetch, sizeof fetch);
	json_object_put(body);
}

void api_unregister(struct sd_ctx *ctx)
{
	struct sd_client c;
	json_object *body = owner_or_reply(ctx, &c);
	enum sd_err e;

	if (body == NULL)
		return;
	e = store_client_delete(ctx->store, c.link_token);
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	api_json_begin(ctx, 200);
	sd_buf_puts(&ctx->resp->body, "\"message\":\"Inbox deleted\"");
	api_json_end(ctx);
out:
	json_object_put(body);
}
