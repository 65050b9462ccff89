#include "api/auth.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "core/b64.h"
#include "core/crypto.h"
#include "server/limits.h"

void auth_caller_key(const char *addr, char *out, size_t cap)
{
	struct in6_addr a6;

	if (addr != NULL && strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, &a6) == 1) {
		memset(a6.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &a6, out, (socklen_t)cap) != NULL) {
			strncat(out, "/64", cap - strlen(out) - 1);
			return;
		}
	}
	snprintf(out, cap, "%.64s", addr ? addr : "");
}

void api_challenge_request(struct sd_ctx *ctx)
{
	json_object *body = api_body_or_reply(ctx);
	struct sd_client c;
	char challenge[SD_CHALLENGE_LEN + 1], caller[96];
	const char *link;
	enum sd_err e;

	if (body == NULL)
		return;
	if (api_link_token_or_reply(ctx, body, &link) != 0 ||
	    api_client_or_reply(ctx, link, &c) != 0)
		goto out;
	auth_caller_key(ctx->req->remote_addr, caller, sizeof caller);
	sd_challenge_new(challenge);
	e = store_challenge_insert(ctx->store, c.link_token, challenge, caller, ctx->now,
	                           &ctx->cfg->limits);
	if (e == SD_ELIMIT) {
		api_error(ctx, 429, "too_many_challenges",
		          "Too many unused challenges for this inbox from this address");
		ctx->resp->retry_after = ctx->cfg->limits.challenge_ttl;
		goto out;
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		goto out;
	}
	api_json_begin(ctx, 200);
	sd_json_key(&ctx->resp->body, "challenge");
	sd_json_cstr(&ctx->resp->body, challenge);
	sd_buf_printf(&ctx->resp->body, ",\"expires_in\":%lld",
	              (long long)ctx->cfg->limits.challenge_ttl);
	api_json_end(ctx);
out:
	json_object_put(body);
}

static void unauthorized(struct sd_ctx *ctx, const char *msg)
{
	api_error(ctx, 401, "unauthorized", msg);
}

/* A credential field is there when it is in the body and not null. */
static int has_field(json_object *body, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(body, name, &v) && !json_object_is_type(v, json_type_null);
}

/* The challenge text as sent: a string that could have been issued. */
static int challenge_text(json_object *body, const char *name, const char **s, size_t *n)
{
	json_object *v;

	if (!json_object_object_get_ex(body, name, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	return *n > 0 && *n <= SD_CHALLENGE_FIELD_MAX && memchr(*s, '\0', *n) == NULL ? 0 : -1;
}

/* challenge_signature as sent: base64 of exactly 64 bytes. */
static int signature_bytes(json_object *body, const char *name, unsigned char sig[SD_SIG_BYTES])
{
	json_object *v;
	size_t got;

	if (!json_object_object_get_ex(body, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > SD_SIG_FIELD_MAX)
		return -1;
	if (sd_b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), sig,
	                  SD_SIG_BYTES, &got) != 0 ||
	    got != SD_SIG_BYTES)
		return -1;
	return 0;
}

/* Signature path: verify first (no state touched by a bad signature), then
 * consume the challenge so it can never be used twice. As in PyCrypt, a
 * challenge or signature that is malformed (wrong type, not base64, not 64
 * bytes) is a signature that does not verify: 401, never 400. */
int auth_signed_challenge_or_reply(struct sd_ctx *ctx, json_object *body, const struct sd_client *c,
                                   const char *challenge_field, const char *signature_field)
{
	const char *challenge;
	size_t clen;
	unsigned char sig[SD_SIG_BYTES], pk[SD_KEY_BYTES];
	size_t pklen;
	enum sd_err e;

	if (challenge_text(body, challenge_field, &challenge, &clen) != 0) {
		unauthorized(ctx, "Unknown, expired or already used challenge");
		return -1;
	}
	if (signature_bytes(body, signature_field, sig) != 0) {
		unauthorized(ctx, "Invalid challenge signature");
		return -1;
	}
	if (sd_b64_decode(c->public_key, strlen(c->public_key), pk, sizeof pk, &pklen) != 0 ||
	    pklen != sizeof pk) {
		unauthorized(ctx, "This inbox has no usable signing key");
		return -1;
	}
	if (!sd_ed25519_verify(sig, challenge, clen, pk)) {
		unauthorized(ctx, "Invalid challenge signature");
		return -1;
	}
	e = store_challenge_consume(ctx->store, c->link_token, challenge, ctx->now);
	if (e == SD_ENOTFOUND) {
		unauthorized(ctx, "Unknown, expired or already used challenge");
		return -1;
	}
	if (e != SD_OK) {
		api_store_error(ctx, e);
		return -1;
	}
	return 0;
}

static int auth_bearer(struct sd_ctx *ctx, const struct sd_client *c)
{
	const char *h = ctx->req->authorization, *tok;
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		unauthorized(ctx, "Authentication required: a signed challenge or a fetch token");
		return -1;
	}
	tok = h + 7;
	while (*tok == ' ')
		tok++;
	n = strlen(tok);
	while (n > 0 && tok[n - 1] == ' ')
		n--;
	if (n == 0 || n > SD_TOKEN_FIELD_MAX || !sd_token_matches(tok, n, c->fetch_token_hash)) {
		unauthorized(ctx, "Invalid fetch token");
		return -1;
	}
	return 0;
}

/* As PyCrypt judges credentials: both challenge fields present is the
 * signature path; otherwise the Bearer header (where allowed); otherwise
 * 401. A lone challenge or challenge_signature is not a credential. */
int auth_check_or_reply(struct sd_ctx *ctx, json_object *body, const struct sd_client *c,
                        enum sd_auth_kind kind)
{
	if (has_field(body, "challenge") && has_field(body, "challenge_signature"))
		return auth_signed_challenge_or_reply(ctx, body, c, "challenge",
		                                      "challenge_signature");
	if (kind == SD_AUTH_SIGNATURE_ONLY) {
		unauthorized(ctx, "This needs a signed challenge");
		return -1;
	}
	return auth_bearer(ctx, c);
}
