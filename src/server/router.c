#include "server/router.h"

#include <string.h>

#include "proto/reply.h"
#include "proto/limits.h"

struct route {
	const char *path;
	int prefix; /* path is a prefix: /key/<link_token> */
	const char *method;
	void (*handle)(struct sd_ctx *ctx);
	size_t max_body; /* tighter caps where nothing large is expected */
	const char *allow;
};

static const struct route routes[] = {
    {"/health", 0, "GET", api_health, 0, "GET, OPTIONS"},
    {"/register", 0, "POST", api_register, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/key/", 1, "GET", api_key, 0, "GET, OPTIONS"},
    {"/send", 0, "POST", api_send, SD_BODY_MAX, "POST, OPTIONS"},
    {"/challenge_request", 0, "POST", api_challenge_request, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/fetch", 0, "POST", api_fetch, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/ack", 0, "POST", api_ack, SD_ACK_BODY_MAX, "POST, OPTIONS"},
    {"/rotate_token", 0, "POST", api_rotate_token, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/unregister", 0, "POST", api_unregister, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/receipt", 0, "POST", api_receipt, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/receipt/answer", 0, "POST", api_receipt_answer, SD_BODY_MAX, "POST, OPTIONS"},
    {"/reply", 0, "POST", api_reply, SD_BODY_MAX, "POST, OPTIONS"},
    {"/check_contact", 0, "POST", api_check_contact, SD_SMALL_BODY_MAX, "POST, OPTIONS"},
    {"/request_message_permission", 0, "POST", api_request_message_permission, SD_SMALL_BODY_MAX,
     "POST, OPTIONS"},
    {"/get_message_requests", 0, "POST", api_get_message_requests, SD_SMALL_BODY_MAX,
     "POST, OPTIONS"},
    {"/respond_message_request", 0, "POST", api_respond_message_request, SD_SMALL_BODY_MAX,
     "POST, OPTIONS"},
};

static const struct route *route_find(const char *path)
{
	for (size_t i = 0; i < SD_ARRAY_LEN(routes); i++) {
		const struct route *r = &routes[i];

		if (r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0
		              : strcmp(path, r->path) == 0)
			return r;
	}
	return NULL;
}

/* The name a route is logged and counted by: never the raw path, which for
 * /key/<link_token> holds a link token. */
static const char *route_name(const struct route *r)
{
	return r->prefix ? "/key/:link_token" : r->path;
}

void router_each_route(void (*fn)(const char *name))
{
	fn("-");
	for (size_t i = 0; i < SD_ARRAY_LEN(routes); i++)
		fn(route_name(&routes[i]));
}

void router_dispatch(struct sd_ctx *ctx)
{
	const struct sd_req *req = ctx->req;
	const struct route *r = route_find(req->path ? req->path : "");

	if (r == NULL) {
		ctx->resp->route = "-";
		reply_error(ctx, 404, "not_found", "No such endpoint");
		return;
	}
	ctx->resp->route = route_name(r);
	if (strcmp(req->method, "OPTIONS") == 0) {
		/* CORS preflight. */
		ctx->resp->status = 204;
		ctx->resp->allow = r->allow;
		sd_buf_reset(&ctx->resp->body);
		return;
	}
	if (strcmp(req->method, r->method) != 0 &&
	    !(strcmp(r->method, "GET") == 0 && strcmp(req->method, "HEAD") == 0)) {
		ctx->resp->allow = r->allow;
		reply_error(ctx, 405, "method_not_allowed", "Method not allowed for this endpoint");
		return;
	}
	/* GET routes take no body and ignore one; the others have a cap each. */
	if (r->max_body > 0 &&
	    (req->content_length > (int64_t)r->max_body || req->body_len > r->max_body)) {
		reply_error(ctx, 413, "payload_too_large", "Request body too large");
		return;
	}
	if (ctx->store == NULL && r->handle != api_health) {
		reply_store_error(ctx, SD_EDB);
		return;
	}
	r->handle(ctx);
}
