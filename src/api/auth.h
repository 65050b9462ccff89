/* Credentials for fetch, ack, rotate_token, unregister and the permission
 * API: PyCrypt's signed challenge and fetch token, and sealdrop's
 * purpose-bound signature. */
#ifndef SD_AUTH_H
#define SD_AUTH_H

#include "api/api.h"
#include "api/fields.h"
#include "proto/limits.h"

/* What a credential is presented for. A sealdrop client asks for a
 * challenge for one purpose and signs it bound to that purpose, the
 * server's origin and the inbox, so a signature made for one operation (or
 * one server) is worth nothing for another. PyCrypt's clients sign the bare
 * challenge, which stays valid where PyCrypt accepted it. */
enum auth_purpose {
	AUTH_FETCH,
	AUTH_ACK,
	AUTH_DELETE, /* /ack with delete */
	AUTH_ROTATE_TOKEN,
	AUTH_UNREGISTER,
	AUTH_REQUEST_PERMISSION, /* a verified sender's from_ proof */
	AUTH_REQUESTS,           /* listing and answering message requests */
	AUTH_REPLY,              /* /reply: always a purpose-bound signature */
	AUTH__PURPOSES
};

/* The purposes' names as the API spells them, NULL-terminated. */
extern const char *const auth_purpose_names[AUTH__PURPOSES + 1];

/* The purpose-bound form's name, as challenge_form carries it. */
#define AUTH_FORM "sealdrop-v1"

/* A signed challenge as the body carries it, each field as sent: whether
 * it is well formed is judged here (401), not by the field table (400). */
struct auth_proof {
	struct api_cred challenge;
	struct api_cred signature;
	struct api_cred form; /* given: the purpose-bound form */
};

/* The table rows of a proof in body fields <prefix>challenge,
 * <prefix>challenge_signature and <prefix>challenge_form, read into member
 * m (a struct auth_proof) of struct st. */
#define AUTH_CRED_ROW(fname, fmax, st, member)                                         \
	{                                                                              \
		.name = fname, .type = API_CREDENTIAL, .max = fmax, API_AT(st, member) \
	}
#define AUTH_PROOF_FIELDS(prefix, st, m)                                                    \
	AUTH_CRED_ROW(prefix "challenge", SD_CHALLENGE_FIELD_MAX, st, m.challenge),         \
	    AUTH_CRED_ROW(prefix "challenge_signature", SD_SIG_FIELD_MAX, st, m.signature), \
	    AUTH_CRED_ROW(prefix "challenge_form", 32, st, m.form)

/* Check the request's credentials for inbox c and operation op: a signed,
 * unexpired, unused challenge of this inbox (consumed here, atomically),
 * or, where op allows it, the Bearer fetch token. An inbox whose owner
 * declared SD_CAP_BOUND_SIGNATURES takes only purpose-bound signatures for
 * delete, rotate_token and unregister. 0, or -1 after a 401/503 reply. */
SD_MUST_CHECK int auth_check_or_reply(struct sd_ctx *ctx, const struct auth_proof *p,
                                      const struct sd_client *c, enum auth_purpose op);

/* The signed challenge p of inbox c for op (a verified sender's from_
 * proof): verified first, then consumed atomically. 0, or -1 after a
 * 401/503 reply. */
SD_MUST_CHECK int auth_signed_challenge_or_reply(struct sd_ctx *ctx, const struct auth_proof *p,
                                                 const struct sd_client *c, enum auth_purpose op);

/* The server's origin as purpose-bound signatures name it:
 * scheme://host[:port] of BASE_URL, lower case, without a default port; or,
 * without BASE_URL, the web server's own name and port for this request.
 * "" when neither is known. */
void auth_origin(const struct sd_ctx *ctx, char *out, size_t cap);

/* The key under which a caller's challenges and requests are counted: the
 * address, with IPv6 cut to its /64 (one host usually holds a whole /64)
 * and an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address. */
void auth_caller_key(const char *remote_addr, char *out, size_t cap);

#endif
