/* Shared steps of every handler. A function whose name ends in _or_reply
 * has already written the error response when it returns failure; the
 * handler then just returns. */
#ifndef SD_API_UTIL_H
#define SD_API_UTIL_H

#include <json-c/json.h>

#include "api/api.h"
#include "core/jsonin.h"

/* Start a JSON object response: {"... — the caller adds fields and calls
 * api_json_end. */
void api_json_begin(struct sd_ctx *ctx, int status);
void api_json_end(struct sd_ctx *ctx);

void api_error(struct sd_ctx *ctx, int status, const char *code, const char *msg);
/* 400, or 413 when err says the problem is size. */
void api_verr(struct sd_ctx *ctx, const struct sd_verr *err);
/* Map a store error to its answer (503 for database trouble). */
void api_store_error(struct sd_ctx *ctx, enum sd_err e);

/* The request body as a JSON object (the caller puts it), or NULL. */
json_object *api_body_or_reply(struct sd_ctx *ctx);

/* The body's link_token, checked for type and shape (never a lookup). */
int api_link_token_or_reply(struct sd_ctx *ctx, json_object *body, const char **link);

/* Look the inbox up: 0, or -1 after a 404 unknown_link / 503. */
int api_client_or_reply(struct sd_ctx *ctx, const char *link, struct sd_client *c);

/* 1 when s is a syntactically valid link token (link_ + base64url). */
int api_link_token_valid(const char *s, size_t n);

/* Decode a base64 field of exactly `want` bytes into out. */
int api_b64_field_or_reply(struct sd_ctx *ctx, json_object *body, const char *name, int required,
                           unsigned char *out, size_t want, int *present);

#endif
