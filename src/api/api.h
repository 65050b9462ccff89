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
/* Store message m in link's inbox as /send does (idempotent repeat, global
 * capacity, caps, the live notice) and reply 201, or the error: shared by
 * /send and /receipt/answer (m->answer: a gone receipt is 404
 * receipt_not_found). */
void api_message_store(struct sd_ctx *ctx, const char *link, const struct sd_msg_new *m);
/* The check of an idempotency_key field: A-Z, a-z, 0-9, - and _. */
int api_idempotency_key_ok(const void *s, size_t n);
/* receipts.c: /receipt, /receipt/answer, /reply */
void api_receipt(struct sd_ctx *ctx);
void api_receipt_answer(struct sd_ctx *ctx);
void api_reply(struct sd_ctx *ctx);
/* 1 when n bytes of ciphertext are a bucket size of docs/RECEIPTS.md. */
int api_padded_size(size_t n);
/* A ciphertext of n bytes for link's inbox: 0 when it may be stored (a
 * bucket size, or the inbox does not demand padding), else -1 after a 400
 * not_padded (or 404/503 from looking the inbox up). */
int api_padding_or_reply(struct sd_ctx *ctx, const char *link, size_t n);
/* The check of a receipt_id or receipt_auth field: 43 characters of
 * base64url that decode to exactly 32 bytes. */
int api_receipt_b64url_ok(const void *s, size_t n);
/* auth.c */
void api_challenge_request(struct sd_ctx *ctx);
/* account.c */
void api_rotate_token(struct sd_ctx *ctx);
void api_unregister(struct sd_ctx *ctx);
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
