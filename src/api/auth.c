#include "api/auth.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "core/b64.h"
#include "core/crypto.h"
#include "proto/limits.h"

void auth_caller_key(const char *addr, char *out, size_t cap)
{
	struct in6_addr a6;

	if (addr != NULL && strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, &a6) == 1) {
		/* An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d:
		 * it is that IPv4 address, not a /64 shared with every other one. */
		if (IN6_IS_ADDR_V4MAPPED(&a6) &&
		    inet_ntop(AF_INET, a6.s6_addr + 12, out, (socklen_t)cap) != NULL)
			return;
		memset(a6.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &a6, out, (socklen_t)cap) != NULL) {
			strncat(out, "/64", cap - strlen(out) - 1);
			return;
		}
	}
	snprintf(out, cap, "%.64s", addr ? addr : "");
}

struct challenge_body {
	char link[SD_LINK_TOKEN_MAX + 1];
};

static const struct api_field challenge_fields[] = {
    API_LINK_TOKEN(struct challenge_body, link),
};

static void challenge_reply(struct sd_ctx *ctx, const char *challenge)
{
	reply_json_begin(ctx, 200);
	sd_json_key(&ctx->resp->body, "challenge");
	sd_json_cstr(&ctx->resp->body, challenge);
	sd_buf_printf(&ctx->resp->body, ",\"expires_in\":%lld",
	              (long long)ctx->cfg->limits.challenge_ttl);
	reply_json_end(ctx);
}

/* A new challenge of inbox c for this caller, unless it holds its share. */
static void challenge_issue(struct sd_ctx *ctx, const struct sd_client *c)
{
	char challenge[SD_CHALLENGE_LEN + 1], caller[96];
	enum sd_err e;

	auth_caller_key(ctx->req->remote_addr, caller, sizeof caller);
	sd_challenge_new(challenge);
	e = store_challenge_insert(ctx->store, c->link_token, challenge, caller, ctx->now,
	                           &ctx->cfg->limits);
	if (e == SD_OK) {
		challenge_reply(ctx, challenge);
	} else if (e == SD_ELIMIT) {
		reply_error(ctx, 429, "too_many_challenges",
		            "Too many unused challenges for this inbox from this address");
		ctx->resp->retry_after = ctx->cfg->limits.challenge_ttl;
	} else {
		reply_store_error(ctx, e);
	}
}

void api_challenge_request(struct sd_ctx *ctx)
{
	struct challenge_body f;
	struct sd_client c;

	if (api_fields_or_reply(ctx, challenge_fields, SD_ARRAY_LEN(challenge_fields), &f) == 0 &&
	    api_client_or_reply(ctx, f.link, &c) == 0)
		challenge_issue(ctx, &c);
}

static void unauthorized(struct sd_ctx *ctx, const char *msg)
{
	reply_error(ctx, 401, "unauthorized", msg);
}

#define UNKNOWN_CHALLENGE "Unknown, expired or already used challenge"
#define BAD_SIGNATURE     "Invalid challenge signature"

/* challenge_signature as sent: base64 of exactly 64 bytes. */
static int signature_bytes(const struct api_cred *sig, unsigned char out[SD_SIG_BYTES])
{
	size_t got;

	return sig->usable && sd_b64_decode(sig->text, sig->len, out, SD_SIG_BYTES, &got) == 0 &&
	       got == SD_SIG_BYTES;
}

static int inbox_signing_key(const struct sd_client *c, unsigned char pk[SD_KEY_BYTES])
{
	size_t got;

	return sd_b64_decode(c->public_key, strlen(c->public_key), pk, SD_KEY_BYTES, &got) == 0 &&
	       got == SD_KEY_BYTES;
}

/* Why p does not prove c's key, or NULL when it does. Nothing is
 * consumed, so a bad signature burns nothing. A challenge that could never
 * have been issued is simply unknown. */
static const char *proof_refusal(const struct auth_proof *p, const struct sd_client *c)
{
	unsigned char sig[SD_SIG_BYTES], pk[SD_KEY_BYTES];

	if (!p->challenge.usable)
		return UNKNOWN_CHALLENGE;
	if (!signature_bytes(&p->signature, sig))
		return BAD_SIGNATURE;
	if (!inbox_signing_key(c, pk))
		return "This inbox has no usable signing key";
	if (!sd_ed25519_verify(sig, p->challenge.text, p->challenge.len, pk))
		return BAD_SIGNATURE;
	return NULL;
}

/* Signature path: verify first (no state touched by a bad signature), then
 * consume the challenge so it can never be used twice. As in PyCrypt, a
 * challenge or signature that is malformed (wrong type, not base64, not 64
 * bytes) is a signature that does not verify: 401, never 400. */
int auth_signed_challenge_or_reply(struct sd_ctx *ctx, const struct auth_proof *p,
                                   const struct sd_client *c)
{
	const char *refusal = proof_refusal(p, c);
	enum sd_err e;

	if (refusal != NULL) {
		unauthorized(ctx, refusal);
		return -1;
	}
	e = store_challenge_consume(ctx->store, c->link_token, p->challenge.text, ctx->now);
	if (e == SD_ENOTFOUND)
		unauthorized(ctx, UNKNOWN_CHALLENGE);
	else if (e != SD_OK)
		reply_store_error(ctx, e);
	return e == SD_OK ? 0 : -1;
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
int auth_check_or_reply(struct sd_ctx *ctx, const struct auth_proof *p, const struct sd_client *c,
                        enum sd_auth_kind kind)
{
	if (p->challenge.given && p->signature.given)
		return auth_signed_challenge_or_reply(ctx, p, c);
	if (kind == SD_AUTH_SIGNATURE_ONLY) {
		unauthorized(ctx, "This needs a signed challenge");
		return -1;
	}
	return auth_bearer(ctx, c);
}
