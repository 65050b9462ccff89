/* Writing a response: a JSON object begun and ended, an error reply, and
 * the one table that turns a store error into a status. Used by the
 * handlers and by the transport and router for the answers they give
 * themselves (404, 405, 413, 503). */
#ifndef SD_REPLY_H
#define SD_REPLY_H

#include "core/errors.h"
#include "core/jsonin.h"
#include "proto/http.h"

/* Start a JSON object response: {"... — the caller adds fields and calls
 * reply_json_end. */
void reply_json_begin(struct sd_ctx *ctx, int status);
void reply_json_end(struct sd_ctx *ctx);

/* {"error": msg, "code": code} with this status. */
void reply_error(struct sd_ctx *ctx, int status, const char *code, const char *msg);
/* 400, or 413 when err says the problem is size. */
void reply_verr(struct sd_ctx *ctx, const struct sd_verr *err);
/* Map a store error to its answer (503 for database trouble). SD_ELIMIT
 * is not here: each limit has its own answer (too_many_challenges,
 * too_many_requests), given by the handler that meets it. */
void reply_store_error(struct sd_ctx *ctx, enum sd_err e);

#endif
