/* GET /events: the owner's subscription to an inbox's live events. The
 * owner is authenticated here (fetch token, or a challenge signed for
 * purpose "events"), then nginx is told to hold the connection itself
 * (X-Accel-Redirect to its internal nchan subscriber location) on the
 * inbox's channel, so no worker thread waits for an event. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/api_util.h"
#include "api/auth.h"
#include "api/query.h"
#include "core/event_channel.h"
#include "proto/limits.h"
#include "proto/reply.h"

/* The internal location of nginx/dev.conf.in and nginx/sealdrop.conf. */
#define EVENTS_SUBSCRIBER_PREFIX "/_sealdrop_events/"

/* A credential in the query, as sent: judged by auth.c (401), never 400. */
static void query_cred(const struct sd_req *req, const char *name, size_t max, struct api_cred *out)
{
	long n;

	memset(out, 0, sizeof *out);
	n = api_query_param(req->query, name, out->text, sizeof out->text);
	out->given = n != -1;
	out->usable = n > 0 && (size_t)n <= max;
	out->len = out->usable ? (size_t)n : 0;
	if (!out->usable)
		out->text[0] = '\0';
}

void api_events(struct sd_ctx *ctx)
{
	char link[SD_LINK_TOKEN_MAX + 1], name[SD_LINK_TOKEN_MAX + 1];
	char channel[SD_EVENT_CHANNEL_HEX + 1];
	struct auth_proof proof;
	struct sd_client c;
	long n;

	if (!sd_event_channel_on()) {
		reply_error(
		    ctx, 501, "events_unavailable",
		    "Live events are not enabled on this server: poll /fetch with since_id");
		return;
	}
	n = api_query_param(ctx->req->query, "link_token", link, sizeof link);
	if (n <= 0 || !api_link_token_valid(link, (size_t)n)) {
		reply_error(ctx, 400, "invalid_link_token",
		            "link_token must be the link token of an inbox");
		return;
	}
	query_cred(ctx->req, "challenge", SD_CHALLENGE_FIELD_MAX, &proof.challenge);
	query_cred(ctx->req, "challenge_signature", SD_SIG_FIELD_MAX, &proof.signature);
	query_cred(ctx->req, "challenge_form", 32, &proof.form);
	if (api_client_or_reply(ctx, link, &c) != 0)
		return;
	/* A new endpoint: only the purpose-bound form, never a bare signed
	 * challenge that PyCrypt's clients make for reading. */
	if (proof.challenge.given && proof.signature.given && !proof.form.given) {
		reply_error(ctx, 401, "unauthorized",
		            "Live events take a purpose-bound signature or the fetch token");
		return;
	}
	if (auth_check_or_reply(ctx, &proof, &c, AUTH_EVENTS) != 0)
		return;
	/* HEAD: the answer a GET would start with, but nothing to hold (nchan
	 * would keep a HEAD waiting like a long-poll). */
	if (strcmp(ctx->req->method, "HEAD") != 0) {
		/* Named as a send names it: any case where the store took it. */
		sd_event_channel_link(c.link_token, store_links_fold_case(ctx->store), name,
		                      sizeof name);
		sd_event_channel_id(name, channel);
		snprintf(ctx->resp->accel_redirect, sizeof ctx->resp->accel_redirect,
		         EVENTS_SUBSCRIBER_PREFIX "%s", channel);
	}
	reply_json_begin(ctx, 200);
	sd_buf_puts(&ctx->resp->body, "\"message\":\"Subscribed\"");
	reply_json_end(ctx);
}
