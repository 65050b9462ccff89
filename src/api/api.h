/* The endpoints. Each handler reads ctx->req, validates every field before
 * it touches the store, checks credentials, and fills ctx->resp. */
#ifndef SD_API_H
#define SD_API_H

#include "proto/http.h"
#include "store/store.h"

/* health.c */
void api_health(struct sd_ctx *ctx);
/* inbox.c */
void api_register(struct sd_ctx *ctx);
void api_key(struct sd_ctx *ctx);
/* 1 when s[0..n) may be shown as a name (display_name, from_nickname): at
 * most 64 characters, no control characters, no bidirectional overrides.
 * The check of a field table's API_STRING row. */
int api_display_name_ok(const void *s, size_t n);
/* messages.c */
void api_send(struct sd_ctx *ctx);
void api_fetch(struct sd_ctx *ctx);
void api_ack(struct sd_ctx *ctx);
/* auth.c */
void api_challenge_request(struct sd_ctx *ctx);
/* account.c */
void api_rotate_token(struct sd_ctx *ctx);
void api_unregister(struct sd_ctx *ctx);
/* webhooks.c */
void api_webhook(struct sd_ctx *ctx);
/* permissions.c: PyCrypt's permission API */
void api_check_contact(struct sd_ctx *ctx);
void api_request_message_permission(struct sd_ctx *ctx);
void api_get_message_requests(struct sd_ctx *ctx);
void api_respond_message_request(struct sd_ctx *ctx);
/* /send's sender check: without a sender (from is ""), 0: anonymous sends
 * are unconditional; with one, 0 when that inbox exists and holds an
 * accepted request to to_link, else -1 after a 404 or 403 reply. Reads
 * only. */
int permission_send_check_or_reply(struct sd_ctx *ctx, const char *from, const char *to_link);

#endif
