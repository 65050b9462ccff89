/* POST /rotate_token and /unregister: signature auth only, so a leaked
 * fetch token can neither lock the owner out nor erase the inbox. */
#include <sodium.h>
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "core/crypto.h"

struct owner_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	struct auth_proof proof;
};

static const struct api_field owner_fields[] = {
    API_LINK_TOKEN(struct owner_body, link),
    AUTH_PROOF_FIELDS("", struct owner_body, proof),
};

/* The inbox, once its owner signed a challenge: 0, or -1 after the reply. */
static int owner_or_reply(struct sd_ctx *ctx, struct sd_client *c, enum auth_purpose op)
{
	struct owner_body f;

	if (api_fields_or_reply(ctx, owner_fields, SD_ARRAY_LEN(owner_fields), &f) != 0 ||
	    api_client_or_reply(ctx, f.link, c) != 0 ||
	    auth_check_or_reply(ctx, &f.proof, c, op) != 0)
		return -1;
	return 0;
}

void api_rotate_token(struct sd_ctx *ctx)
{
	struct sd_client c;
	char fetch[SD_FETCH_TOKEN_LEN + 1] = "", hash[SD_SHA256_HEX_LEN + 1];
	enum sd_err e;

	if (owner_or_reply(ctx, &c, AUTH_ROTATE_TOKEN) != 0)
		return;
	sd_token_fetch(fetch);
	sd_sha256_hex(fetch, strlen(fetch), hash);
	e = store_client_set_fetch_hash(ctx->store, c.link_token, hash);
	if (e == SD_OK) {
		reply_json_begin(ctx, 200);
		sd_buf_printf(&ctx->resp->body,
		              "\"message\":\"Fetch token rotated\",\"fetch_token\":\"%s\"", fetch);
		reply_json_end(ctx);
	} else {
		reply_store_error(ctx, e);
	}
	sodium_memzero(fetch, sizeof fetch);
}

void api_unregister(struct sd_ctx *ctx)
{
	struct sd_client c;
	enum sd_err e;

	if (owner_or_reply(ctx, &c, AUTH_UNREGISTER) != 0)
		return;
	e = store_client_delete(ctx->store, c.link_token);
	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return;
	}
	reply_json_begin(ctx, 200);
	sd_buf_puts(&ctx->resp->body, "\"message\":\"Inbox deleted\"");
	reply_json_end(ctx);
}
