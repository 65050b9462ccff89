/* POST /register and GET /key/<link_token>. */
#include <sodium.h>
#include <string.h>

#include "api/api_util.h"
#include "core/b64.h"
#include "core/crypto.h"
#include "server/limits.h"

/* A display name is at most 64 characters of printable text: no control
 * characters (C0, DEL, C1) and no bidirectional overrides, which could make
 * a name shown on the send page (or a request's from_nickname shown to a
 * recipient) read as something else. */
int api_display_name_ok(const char *name, size_t n)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t chars = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if ((c & 0xC0) != 0x80)
			chars++;
		if (c < 0x20 || c == 0x7F)
			return 0;
		if (c == 0xC2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
			return 0;
		if (c == 0xE2 && i + 2 < n &&
		    ((s[i + 1] == 0x80 && s[i + 2] >= 0xAA && s[i + 2] <= 0xAE) ||
		     (s[i + 1] == 0x81 && s[i + 2] >= 0xA6 && s[i + 2] <= 0xA9)))
			return 0;
	}
	return chars <= SD_DISPLAY_NAME_CHARS;
}

/* The X25519 key senders seal to: the registered one, else the conversion
 * of the Ed25519 key. Empty when neither exists. */
static void sealing_key(const struct sd_client *c, char out[SD_B64_LEN(SD_KEY_BYTES) + 1])
{
	unsigned char ed[SD_KEY_BYTES], x[SD_KEY_BYTES];
	size_t n;

	out[0] = '\0';
	if (c->box_public_key[0] != '\0') {
		memcpy(out, c->box_public_key, strnlen(c->box_public_key, SD_B64_LEN(32)));
		out[strnlen(c->box_public_key, SD_B64_LEN(32))] = '\0';
		return;
	}
	if (sd_b64_decode(c->public_key, strlen(c->public_key), ed, sizeof ed, &n) == 0 &&
	    n == sizeof ed && sd_ed25519_to_x25519(ed, x) == 0)
		sd_b64_encode(x, sizeof x, out);
}

static void link_of(struct sd_ctx *ctx, const char *token, struct sd_buf *b)
{
	sd_buf_puts(b, ctx->cfg->base_url);
	sd_buf_puts(b, "/l/");
	sd_buf_puts(b, token);
}

void api_register(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client c;
	struct sd_verr err;
	struct sd_buf link = {0};
	unsigned char pk[SD_KEY_BYTES], box[SD_KEY_BYTES];
	char fetch[SD_FETCH_TOKEN_LEN + 1], seal[SD_B64_LEN(SD_KEY_BYTES) + 1];
	const char *name = NULL, *key_type = NULL;
	size_t name_len = 0;
	int present, has_box;
	enum sd_field_rc rc;
	enum sd_err e = SD_ECONFLICT;

	if (body == NULL)
		return;
	memset(&c, 0, sizeof c);
	if (api_b64_field_or_reply(ctx, body, "public_key", 1, pk, sizeof pk, &present) != 0)
		goto out;
	if (!sd_ed25519_pk_valid(pk)) {
		api_error(ctx, 400, "invalid_public_key",
		          "public_key is not a valid Ed25519 public key");
		goto out;
	}
	rc = sd_field_string(body, "display_name", 0, 4 * SD_DISPLAY_NAME_CHARS, &name, &name_len,
	                     &err);
	if (rc == SD_FIELD_BAD) {
		api_verr(ctx, &err);
		goto out;
	}
	if (rc == SD_FIELD_OK && !api_display_name_ok(name, name_len)) {
		api_error(ctx, 400, "invalid_display_name",
		          "display_name must be at most 64 printable characters");
		goto out;
	}
	rc = sd_field_string(body, "key_type", 0, 16, &key_type, NULL, &err);
	if (rc == SD_FIELD_BAD) {
		api_verr(ctx, &err);
		goto out;
	}
	if (rc == SD_FIELD_OK && strcmp(key_type, "ed25519") != 0) {
		api_error(ctx, 400, "invalid_key_type", "key_type must be \"ed25519\"");
		goto out;
	}
	if (api_b64_field_or_reply(ctx, body, "box_public_key", 0, box, sizeof box, &has_box) != 0)
		goto out;

	sd_b64_encode(pk, sizeof pk, c.public_key);
	/* As PyCrypt fills it: SHA-256 of the base64 text, not of the key. */
	sd_sha256_hex(c.public_key, strlen(c.public_key), c.public_key_hash);
	if (name != NULL) {
		memcpy(c.display_name, name, name_len);
		c.has_display_name = 1;
	}
	strcpy(c.key_type, "ed25519");
	if (has_box)
		sd_b64_encode(box, sizeof box, c.box_public_key);
	c.created_at = ctx->now;
	/* A collision of 192 random bits will not happen; retrying costs
	 * nothing and keeps a unique-key error from ever becoming a 500. */
	for (int tries = 0; tries < 3 && e == SD_ECONFLICT; tries++) {
		sd_token_link(c.link_token);
		sd_token_fetch(fetch);
		sd_sha256_hex(fetch, strlen(fetch), c.fetch_token_hash);
		e = store_client_insert(ctx->store, &c);
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	sealing_key(&c, seal);
	link_of(ctx, c.link_token, &link);
	api_json_begin(ctx, 201);
	sd_buf_printf(&ctx->resp->body,
	              "\"message\":\"Client registered successfully\",\"client_id\":%lld,",
	              (long long)c.id);
	sd_json_key(&ctx->resp->body, "link");
	sd_json_str(&ctx->resp->body, link.data ? link.data : "", link.len);
	sd_buf_printf(&ctx->resp->body,
	              ",\"link_token\":\"%s\",\"fetch_token\":\"%s\",\"key_type\":\"%s\","
	              "\"box_public_key\":\"%s\"",
	              c.link_token, fetch, c.key_type, seal);
	api_json_end(ctx);
out:
	sodium_memzero(fetch, sizeof fetch);
	sd_buf_free(&link);
	json_object_put(body);
}

void api_key(struct sd_ctx *ctx)
{
	const char *token = ctx->req->path + strlen("/key/");
	struct sd_client c;
	char seal[SD_B64_LEN(SD_KEY_BYTES) + 1];
	struct sd_buf *b = &ctx->resp->body;

	if (!api_link_token_valid(token, strlen(token))) {
		/* Not a link token at all: no inbox can have it. */
		api_error(ctx, 404, "unknown_link", "No inbox has this link");
		return;
	}
	if (api_client_or_reply(ctx, token, &c) != 0)
		return;
	sealing_key(&c, seal);
	api_json_begin(ctx, 200);
	sd_json_key(b, "link_token");
	sd_json_cstr(b, c.link_token);
	sd_buf_puts(b, ",");
	sd_json_key(b, "display_name");
	if (c.has_display_name)
		sd_json_cstr(b, c.display_name);
	else
		sd_buf_puts(b, "null");
	sd_buf_printf(b, ",\"public_key\":\"%s\",\"box_public_key\":\"%s\",\"key_type\":\"%s\"",
	              c.public_key, seal, c.key_type[0] ? c.key_type : "ed25519");
	api_json_end(ctx);
}
