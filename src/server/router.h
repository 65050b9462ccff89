/* The route table and the gates every request passes before a handler:
 * path → method → body size. */
#ifndef SD_ROUTER_H
#define SD_ROUTER_H

#include "api/api.h"

/* Serve one request: fills ctx->resp (status, body, route name). */
void router_dispatch(struct sd_ctx *ctx);

/* Call fn with every route name, "-" (no such route) first: the names a
 * request is logged and counted by. */
void router_each_route(void (*fn)(const char *name));

#endif
