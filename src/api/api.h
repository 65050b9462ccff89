/* The endpoints. Each handler reads ctx->req, validates every field before
 * it touches the store, checks credentials, and fills ctx->resp. */
#ifndef SD_API_H
#define SD_API_H

#include <time.h>

#include "core/config.h"
#include "server/http.h"
#include "store/store.h"

struct sd_ctx {
	const struct sd_req *req;
	struct sd_resp *resp;
	struct sd_store *store;
	const struct sd_config *cfg;
	time_t now;
};

/* health.c */
void api_health(struct sd_ctx *ctx);
/* inbox.c */
void api_register(struct sd_ctx *ctx);
void api_key(struct sd_ctx *ctx);
/* messages.c */
void api_send(struct sd_ctx *ctx);
void api_fetch(struct sd_ctx *ctx);
void api_ack(struct sd_ctx *ctx);
/* auth.c */
void api_challenge_request(struct sd_ctx *ctx);
/* account.c */
void api_rotate_token(struct sd_ctx *ctx);
void api_unregister(struct sd_ctx *ctx);

#endif
