/* Credentials for fetch, ack, rotate_token, unregister and the permission
 * API. */
#ifndef SD_AUTH_H
#define SD_AUTH_H

#include "api/api.h"
#include "api/fields.h"
#include "proto/limits.h"

enum sd_auth_kind {
	SD_AUTH_SIGNATURE_OR_TOKEN, /* fetch, ack: as PyCrypt */
	SD_AUTH_SIGNATURE_ONLY,     /* rotate_token, unregister */
};

/* A signed challenge as the body carries it, each field as sent: whether
 * it is well formed is judged here (401), not by the field table (400). */
struct auth_proof {
	struct api_cred challenge;
	struct api_cred signature;
};

/* The table rows of a proof in body fields cname and sname, read into
 * member m (a struct auth_proof) of struct st. */
#define AUTH_CRED_ROW(fname, fmax, st, member)                                         \
	{                                                                              \
		.name = fname, .type = API_CREDENTIAL, .max = fmax, API_AT(st, member) \
	}
#define AUTH_PROOF_FIELDS(cname, sname, st, m)                         \
	AUTH_CRED_ROW(cname, SD_CHALLENGE_FIELD_MAX, st, m.challenge), \
	    AUTH_CRED_ROW(sname, SD_SIG_FIELD_MAX, st, m.signature)

/* Check the request's credentials for inbox c: a signed, unexpired,
 * unused challenge of this inbox (consumed here, atomically), or, where
 * allowed, the Bearer fetch token. 0, or -1 after a 401/503 reply. */
SD_MUST_CHECK int auth_check_or_reply(struct sd_ctx *ctx, const struct auth_proof *p,
                                      const struct sd_client *c, enum sd_auth_kind kind);

/* The signed challenge p of inbox c (/request_message_permission's
 * verified sender sends one in from_challenge and from_challenge_signature):
 * verified first, then consumed atomically. 0, or -1 after a 401/503
 * reply. */
SD_MUST_CHECK int auth_signed_challenge_or_reply(struct sd_ctx *ctx, const struct auth_proof *p,
                                                 const struct sd_client *c);

/* The key under which a caller's challenges and requests are counted: the
 * address, with IPv6 cut to its /64 (one host usually holds a whole /64)
 * and an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address. */
void auth_caller_key(const char *remote_addr, char *out, size_t cap);

#endif
