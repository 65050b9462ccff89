#include "api/auth.h"

#include <arpa/inet.h>
#include <ctype.h>
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

const char *const auth_purpose_names[AUTH__PURPOSES + 1] = {
    [AUTH_FETCH] = "fetch",           [AUTH_ACK] = "ack",
    [AUTH_DELETE] = "delete",         [AUTH_ROTATE_TOKEN] = "rotate_token",
    [AUTH_UNREGISTER] = "unregister", [AUTH_REQUEST_PERMISSION] = "request_permission",
    [AUTH_REQUESTS] = "requests",     [AUTH_REPLY] = "reply",
    [AUTH__PURPOSES] = NULL,
};

/* Copy n bytes of s, lower case, into out at *at (bounded by cap). */
static void put_lower(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *at + 1 < cap; i++)
		out[(*at)++] = (char)tolower((unsigned char)s[i]);
	out[*at] = '\0';
}

void auth_origin(const struct sd_ctx *ctx, char *out, size_t cap)
{
	const char *u = ctx->cfg->base_url, *host, *end, *port;
	size_t at = 0, scheme_len;

	out[0] = '\0';
	if (cap == 0)
		return;
	if (u[0] != '\0') {
		if ((host = strstr(u, "://")) == NULL)
			return;
		scheme_len = (size_t)(host - u);
		host += 3;
		end = host + strcspn(host, "/?#");
		/* The port's colon comes after an IPv6 literal's brackets. */
		port = *host == '[' ? memchr(host, ']', (size_t)(end - host)) : host;
		port = port != NULL ? memchr(port, ':', (size_t)(end - port)) : NULL;
		put_lower(out, cap, &at, u, scheme_len + 3);
		/* A default port is no part of the origin a browser would name. */
		if (port != NULL &&
		    ((scheme_len == 4 && strncmp(port, ":80", 3) == 0 && port + 3 == end) ||
		     (scheme_len == 5 && strncmp(port, ":443", 4) == 0 && port + 4 == end)))
			end = port;
		put_lower(out, cap, &at, host, (size_t)(end - host));
		return;
	}
	if (ctx->req->server_name == NULL || ctx->req->server_name[0] == '\0')
		return;
	{
		const char *scheme =
		    ctx->req->scheme && *ctx->req->scheme ? ctx->req->scheme : "http";
		const char *p = ctx->req->server_port;
		int dflt = p == NULL || *p == '\0' ||
		           (strcmp(scheme, "http") == 0 && strcmp(p, "80") == 0) ||
		           (strcmp(scheme, "https") == 0 && strcmp(p, "443") == 0);

		put_lower(out, cap, &at, scheme, strlen(scheme));
		put_lower(out, cap, &at, "://", 3);
		put_lower(out, cap, &at, ctx->req->server_name, strlen(ctx->req->server_name));
		if (!dflt) {
			put_lower(out, cap, &at, ":", 1);
			put_lower(out, cap, &at, p, strlen(p));
		}
	}
}

#define ORIGIN_MAX 600

struct challenge_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	int purpose;
	int has_purpose;
};

static const struct api_field challenge_fields[] = {
    API_LINK_TOKEN(struct challenge_body, link),
    {.name = "purpose",
     .type = API_ENUM,
     .choices = auth_purpose_names,
     API_AT(struct challenge_body, purpose),
     API_PRESENT(struct challenge_body, has_purpose),
     .code = "invalid_purpose",
     .msg = "purpose must be one of fetch, ack, delete, rotate_token, unregister, "
            "request_permission, requests, reply"},
};

static void challenge_reply(struct sd_ctx *ctx, const char *challenge, const char *purpose)
{
	struct sd_buf *b = &ctx->resp->body;
	char origin[ORIGIN_MAX];

	reply_json_begin(ctx, 200);
	sd_json_key(b, "challenge");
	sd_json_cstr(b, challenge);
	sd_buf_printf(b, ",\"expires_in\":%lld", (long long)ctx->cfg->limits.challenge_ttl);
	if (purpose != NULL) {
		auth_origin(ctx, origin, sizeof origin);
		sd_buf_printf(b, ",\"purpose\":\"%s\",\"form\":\"" AUTH_FORM "\",", purpose);
		sd_json_key(b, "origin");
		sd_json_cstr(b, origin);
	}
	reply_json_end(ctx);
}

/* A new challenge of inbox c for this caller, unless it holds its share. */
static void challenge_issue(struct sd_ctx *ctx, const struct sd_client *c, const char *purpose)
{
	char challenge[SD_CHALLENGE_LEN + 1], caller[96];
	enum sd_err e;

	auth_caller_key(ctx->req->remote_addr, caller, sizeof caller);
	sd_challenge_new(challenge);
	e = store_challenge_insert(ctx->store, c->link_token, challenge, purpose, caller, ctx->now,
	                           &ctx->cfg->limits);
	if (e == SD_OK) {
		challenge_reply(ctx, challenge, purpose);
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
		challenge_issue(ctx, &c, f.has_purpose ? auth_purpose_names[f.purpose] : NULL);
}

static void unauthorized(struct sd_ctx *ctx, const char *msg)
{
	reply_error(ctx, 401, "unauthorized", msg);
}

static void bound_required_reply(struct sd_ctx *ctx)
{
	reply_error(ctx, 401, "bound_signature_required",
	            "This inbox takes only a purpose-bound signature for this operation");
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

/* The purpose-bound form names everything the signature is good for:
 * "sealdrop-v1\n" purpose "\n" origin "\n" link_token "\n" challenge. */
static size_t bound_message(const struct sd_ctx *ctx, const struct auth_proof *p,
                            const struct sd_client *c, enum auth_purpose op, char *out, size_t cap)
{
	char origin[ORIGIN_MAX];
	int n;

	auth_origin(ctx, origin, sizeof origin);
	n = snprintf(out, cap, AUTH_FORM "\n%s\n%s\n%s\n%.*s", auth_purpose_names[op], origin,
	             c->link_token, (int)p->challenge.len, p->challenge.text);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Why p does not prove c's key for op, or NULL when it does. Nothing is
 * consumed, so a bad signature burns nothing. A challenge that could never
 * have been issued is simply unknown. */
static const char *proof_refusal(const struct sd_ctx *ctx, const struct auth_proof *p,
                                 const struct sd_client *c, enum auth_purpose op)
{
	unsigned char sig[SD_SIG_BYTES], pk[SD_KEY_BYTES];
	char msg[ORIGIN_MAX + 2 * API_CRED_MAX + SD_LINK_TOKEN_MAX + 64];
	size_t n;

	if (!p->challenge.usable)
		return UNKNOWN_CHALLENGE;
	if (!signature_bytes(&p->signature, sig))
		return BAD_SIGNATURE;
	if (!inbox_signing_key(c, pk))
		return "This inbox has no usable signing key";
	if (!p->form.given)
		return sd_ed25519_verify(sig, p->challenge.text, p->challenge.len, pk)
		           ? NULL
		           : BAD_SIGNATURE;
	if (!p->form.usable || strcmp(p->form.text, AUTH_FORM) != 0)
		return "challenge_form must be \"" AUTH_FORM "\"";
	if ((n = bound_message(ctx, p, c, op, msg, sizeof msg)) == 0 ||
	    !sd_ed25519_verify(sig, msg, n, pk))
		return BAD_SIGNATURE;
	return NULL;
}

/* Signature path: verify first (no state touched by a bad signature), then
 * consume the challenge so it can never be used twice. A bound signature
 * consumes only a challenge issued for its purpose, PyCrypt's only one
 * issued for none. As in PyCrypt, a challenge or signature that is
 * malformed (wrong type, not base64, not 64 bytes) is a signature that does
 * not verify: 401, never 400. */
int auth_signed_challenge_or_reply(struct sd_ctx *ctx, const struct auth_proof *p,
                                   const struct sd_client *c, enum auth_purpose op)
{
	const char *refusal = proof_refusal(ctx, p, c, op);
	enum sd_err e;

	if (refusal != NULL) {
		unauthorized(ctx, refusal);
		return -1;
	}
	e = store_challenge_consume(ctx->store, c->link_token, p->challenge.text,
	                            p->form.given ? auth_purpose_names[op] : NULL, ctx->now);
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

/* Operations that destroy or take over: for an inbox whose owner's client
 * declared it, only a signature bound to the operation will do. A reply
 * is new (no PyCrypt client makes one): always bound. */
static int needs_bound(const struct sd_client *c, enum auth_purpose op)
{
	return op == AUTH_REPLY ||
	       ((c->capabilities & SD_CAP_BOUND_SIGNATURES) &&
	        (op == AUTH_DELETE || op == AUTH_ROTATE_TOKEN || op == AUTH_UNREGISTER));
}

/* What the fetch token may do: read and mark read always; delete as in
 * PyCrypt, unless the owner's client declared bound signatures. Rotating
 * and erasing always need a signature, so a leaked token can neither lock
 * the owner out nor erase the inbox. */
static int token_allowed(const struct sd_client *c, enum auth_purpose op)
{
	return op == AUTH_FETCH || op == AUTH_ACK || op == AUTH_REQUESTS ||
	       (op == AUTH_DELETE && !needs_bound(c, op));
}

/* As PyCrypt judges credentials: both challenge fields present is the
 * signature path; otherwise the Bearer header (where allowed); otherwise
 * 401. A lone challenge or challenge_signature is not a credential. */
int auth_check_or_reply(struct sd_ctx *ctx, const struct auth_proof *p, const struct sd_client *c,
                        enum auth_purpose op)
{
	if (p->challenge.given && p->signature.given) {
		if (needs_bound(c, op) && !p->form.given) {
			bound_required_reply(ctx);
			return -1;
		}
		return auth_signed_challenge_or_reply(ctx, p, c, op);
	}
	if (needs_bound(c, op)) {
		bound_required_reply(ctx);
		return -1;
	}
	if (!token_allowed(c, op)) {
		unauthorized(ctx, "This needs a signed challenge");
		return -1;
	}
	return auth_bearer(ctx, c);
}
