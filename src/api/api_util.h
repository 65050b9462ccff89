/* Shared steps of every handler. A function whose name ends in _or_reply
 * has already written the error response when it returns failure; the
 * handler then just returns. */
#ifndef SD_API_UTIL_H
#define SD_API_UTIL_H

#include "api/api.h"
#include "core/jsonin.h"

/* Start a JSON object response: {"... — the caller adds fields and calls
 * api_json_end. */
void api_json_begin(struct sd_ctx *ctx, int status);
void api_json_end(struct sd_ctx *ctx);

/* An inbox's display name as a JSON value: the string, or null. */
void api_json_display_name(struct sd_buf *b, const struct sd_client *c);

void api_error(struct sd_ctx *ctx, int status, const char *code, const char *msg);
/* 400, or 413 when err says the problem is size. */
void api_verr(struct sd_ctx *ctx, const struct sd_verr *err);
/* Map a store error to its answer (503 for database trouble). SD_ELIMIT
 * is not here: each limit has its own answer (too_many_challenges,
 * too_many_requests), given by the handler that meets it. */
void api_store_error(struct sd_ctx *ctx, enum sd_err e);

/* Look the inbox up: 0, or -1 after a 404 unknown_link / 503. */
int api_client_or_reply(struct sd_ctx *ctx, const char *link, struct sd_client *c);

/* 1 when s is a syntactically valid link token (link_ + base64url). */
int api_link_token_valid(const char *s, size_t n);

#endif
