/* The route table and the gates every request passes before a handler:
 * path → method → body size. */
#ifndef SD_ROUTER_H
#define SD_ROUTER_H

#include "api/api.h"

/* Largest body any route accepts: the transport refuses more unread. */
#define SD_ROUTER_BODY_MAX (64 * 1024)

/* Serve one request: fills ctx->resp (status, body, route name). */
void router_dispatch(struct sd_ctx *ctx);

#endif
