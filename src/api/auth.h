/* Credentials for fetch, ack, rotate_token and unregister. */
#ifndef SD_AUTH_H
#define SD_AUTH_H

#include <json-c/json.h>

#include "api/api.h"

enum sd_auth_kind {
	SD_AUTH_SIGNATURE_OR_TOKEN, /* fetch, ack: as PyCrypt */
	SD_AUTH_SIGNATURE_ONLY,     /* rotate_token, unregister */
};

/* Check the request's credentials for inbox c: a signed, unexpired,
 * unused challenge of this inbox (consumed here, atomically), or, where
 * allowed, the Bearer fetch token. 0, or -1 after a 401/503 reply. */
int auth_check_or_reply(struct sd_ctx *ctx, json_object *body, const struct sd_client *c,
                        enum sd_auth_kind kind);

/* A signed challenge of inbox c carried in the body fields challenge_field
 * and signature_field (/request_message_permission's verified sender uses
 * from_challenge and from_challenge_signature): verified first, then
 * consumed atomically. 0, or -1 after a 401/503 reply. */
int auth_signed_challenge_or_reply(struct sd_ctx *ctx, json_object *body, const struct sd_client *c,
                                   const char *challenge_field, const char *signature_field);

/* The key under which a caller's challenges are counted: the address, with
 * IPv6 cut to its /64 (one host usually holds a whole /64). */
void auth_caller_key(const char *remote_addr, char *out, size_t cap);

#endif
