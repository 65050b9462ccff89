/* Shared steps of every handler. A function whose name ends in _or_reply
 * has already written the error response when it returns failure; the
 * handler then just returns. */
#ifndef SD_API_UTIL_H
#define SD_API_UTIL_H

#include "api/api.h"
#include "core/jsonin.h"
#include "proto/reply.h"

/* An inbox's display name as a JSON value: the string, or null. */
void api_json_display_name(struct sd_buf *b, const struct sd_client *c);

/* Look the inbox up: 0, or -1 after a 404 unknown_link / 503. */
int api_client_or_reply(struct sd_ctx *ctx, const char *link, struct sd_client *c);

/* 1 when s is a syntactically valid link token (link_ + base64url). */
int api_link_token_valid(const char *s, size_t n);

#endif
