/* POST /register and GET /key/<link_token>. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "api/capacity.h"
#include "api/fields.h"
#include "core/b64.h"
#include "core/crypto.h"
#include "proto/limits.h"

/* A display name is at most 64 characters of printable text: no control
 * characters (C0, DEL, C1) and no bidirectional overrides, which could make
 * a name shown on the send page (or a request's from_nickname shown to a
 * recipient) read as something else. */
int api_display_name_ok(const void *name, size_t n)
{
	const unsigned char *s = name;
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

static int ed25519_key_ok(const void *pk, size_t n)
{
	return n == SD_KEY_BYTES && sd_ed25519_pk_valid(pk);
}

static const char *const key_types[] = {"ed25519", NULL};

/* Capability names, bit i for the i-th (SD_CAP_*). */
static const char *const capability_names[] = {"bound-signatures", "envelope-v1", "padded-only",
                                               NULL};
_Static_assert(SD_CAP_BOUND_SIGNATURES == 1, "bit 0 is bound-signatures");
_Static_assert(SD_CAP_ENVELOPE == 2, "bit 1 is envelope-v1");
_Static_assert(SD_CAP_PADDED_ONLY == 4, "bit 2 is padded-only");
#define CAPABILITIES_MAX 16

struct register_body {
	unsigned char public_key[SD_KEY_BYTES];
	char display_name[4 * SD_DISPLAY_NAME_CHARS + 1];
	int key_type; /* the index in key_types: ed25519 */
	unsigned char box_public_key[SD_KEY_BYTES];
	int has_box_public_key;
	int64_t capabilities;
};

static const struct api_field register_fields[] = {
    {.name = "public_key",
     .type = API_KEY,
     .flags = API_REQUIRED,
     .max = SD_KEY_BYTES,
     .check = ed25519_key_ok,
     API_AT(struct register_body, public_key),
     .code = "invalid_public_key",
     .msg = "public_key must be base64 of a valid Ed25519 public key"},
    {.name = "display_name",
     .type = API_STRING,
     .min = 1,
     .max = 4 * SD_DISPLAY_NAME_CHARS,
     .check = api_display_name_ok,
     API_AT(struct register_body, display_name),
     .code = "invalid_display_name",
     .msg = "display_name must be at most " API_STR(SD_DISPLAY_NAME_CHARS) " printable characters"},
    {.name = "key_type",
     .type = API_ENUM,
     .choices = key_types,
     API_AT(struct register_body, key_type),
     .code = "invalid_key_type",
     .msg = "key_type must be \"ed25519\""},
    {.name = "box_public_key",
     .type = API_KEY,
     .max = SD_KEY_BYTES,
     API_AT(struct register_body, box_public_key),
     API_PRESENT(struct register_body, has_box_public_key),
     .code = "invalid_box_public_key",
     .msg = "box_public_key must be base64 of a 32-byte X25519 public key"},
    {.name = "capabilities",
     .type = API_FLAGS,
     .max = CAPABILITIES_MAX,
     .choices = capability_names,
     API_AT(struct register_body, capabilities),
     .code = "invalid_capabilities",
     .msg = "capabilities must be an array of at most " API_STR(
         CAPABILITIES_MAX) " names of 1 to 32 bytes"},
};

/* The capabilities as a JSON array of their names. */
static void capabilities_json(struct sd_buf *b, int64_t caps)
{
	int first = 1;

	sd_buf_puts(b, "[");
	for (int i = 0; capability_names[i] != NULL; i++) {
		if (!(caps & (INT64_C(1) << i)))
			continue;
		sd_buf_puts(b, first ? "" : ",");
		sd_json_cstr(b, capability_names[i]);
		first = 0;
	}
	sd_buf_puts(b, "]");
}

/* The inbox to store, without its tokens. */
static void client_of(const struct register_body *f, time_t now, struct sd_client *c)
{
	memset(c, 0, sizeof *c);
	sd_b64_encode(f->public_key, sizeof f->public_key, c->public_key);
	/* As PyCrypt fills it: SHA-256 of the base64 text, not of the key. */
	sd_sha256_hex(c->public_key, strlen(c->public_key), c->public_key_hash);
	c->has_display_name = f->display_name[0] != '\0';
	snprintf(c->display_name, sizeof c->display_name, "%s", f->display_name);
	strcpy(c->key_type, key_types[f->key_type]);
	if (f->has_box_public_key)
		sd_b64_encode(f->box_public_key, sizeof f->box_public_key, c->box_public_key);
	c->created_at = now;
	c->capabilities = f->capabilities;
}

/* Store c under fresh tokens; fetch receives the fetch token. A collision
 * of 192 random bits will not happen; retrying costs nothing and keeps a
 * unique-key error from ever becoming a 500. */
static enum sd_err client_insert(struct sd_store *st, struct sd_client *c,
                                 char fetch[SD_FETCH_TOKEN_LEN + 1])
{
	enum sd_err e = SD_ECONFLICT;

	for (int tries = 0; tries < 3 && e == SD_ECONFLICT; tries++) {
		sd_token_link(c->link_token);
		sd_token_fetch(fetch);
		sd_sha256_hex(fetch, strlen(fetch), c->fetch_token_hash);
		e = store_client_insert(st, c);
	}
	return e;
}

static void register_reply(struct sd_ctx *ctx, const struct sd_client *c, const char *fetch)
{
	struct sd_buf *b = &ctx->resp->body, link = {0};
	char seal[SD_B64_LEN(SD_KEY_BYTES) + 1];

	sealing_key(c, seal);
	link_of(ctx, c->link_token, &link);
	reply_json_begin(ctx, 201);
	sd_buf_printf(b, "\"message\":\"Client registered successfully\",\"client_id\":%lld,",
	              (long long)c->id);
	sd_json_key(b, "link");
	sd_json_str(b, link.data ? link.data : "", link.len);
	sd_buf_printf(b,
	              ",\"link_token\":\"%s\",\"fetch_token\":\"%s\",\"key_type\":\"%s\","
	              "\"box_public_key\":\"%s\",\"capabilities\":",
	              c->link_token, fetch, c->key_type, seal);
	capabilities_json(b, c->capabilities);
	reply_json_end(ctx);
	sd_buf_free(&link);
}

void api_register(struct sd_ctx *ctx)
{
	struct register_body f;
	struct sd_client c;
	char fetch[SD_FETCH_TOKEN_LEN + 1] = "";
	enum sd_err e;

	if (api_fields_or_reply(ctx, register_fields, SD_ARRAY_LEN(register_fields), &f) != 0)
		return;
	/* Only a client that pads (the envelope's) can live with padded-only. */
	if ((f.capabilities & SD_CAP_PADDED_ONLY) && !(f.capabilities & SD_CAP_ENVELOPE)) {
		reply_error(ctx, 400, "invalid_capabilities",
		            "padded-only needs envelope-v1 in capabilities");
		return;
	}
	if (capacity_inbox_or_reply(ctx) != 0)
		return;
	client_of(&f, ctx->now, &c);
	e = client_insert(ctx->store, &c, fetch);
	if (e == SD_OK) {
		capacity_added(1, 0);
		register_reply(ctx, &c, fetch);
	} else
		reply_store_error(ctx, e);
	sodium_memzero(fetch, sizeof fetch);
}

static void key_reply(struct sd_ctx *ctx, const struct sd_client *c)
{
	struct sd_buf *b = &ctx->resp->body;
	char seal[SD_B64_LEN(SD_KEY_BYTES) + 1];

	sealing_key(c, seal);
	reply_json_begin(ctx, 200);
	sd_json_key(b, "link_token");
	sd_json_cstr(b, c->link_token);
	sd_buf_puts(b, ",");
	sd_json_key(b, "display_name");
	api_json_display_name(b, c);
	sd_buf_printf(b,
	              ",\"public_key\":\"%s\",\"box_public_key\":\"%s\",\"key_type\":\"%s\","
	              "\"capabilities\":",
	              c->public_key, seal, c->key_type[0] ? c->key_type : "ed25519");
	capabilities_json(b, c->capabilities);
	reply_json_end(ctx);
}

void api_key(struct sd_ctx *ctx)
{
	const char *token = ctx->req->path + strlen("/key/");
	struct sd_client c;

	if (!api_link_token_valid(token, strlen(token))) {
		/* Not a link token at all: no inbox can have it. */
		reply_error(ctx, 404, "unknown_link", "No inbox has this link");
		return;
	}
	if (api_client_or_reply(ctx, token, &c) == 0)
		key_reply(ctx, &c);
}
