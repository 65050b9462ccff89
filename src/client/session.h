/* An unlocked identity with a registered inbox: what every signed call
 * needs. */
#ifndef SD_CLIENT_SESSION_H
#define SD_CLIENT_SESSION_H

#include "client/cli.h"
#include "client/identity.h"
#include "client/link.h"

struct session {
	struct identity id;
	struct identity_keys *keys; /* NULL until unlocked */
	/* The inbox's fetch token, opened from the identity file (sodium_malloc),
	 * or NULL: reading then signs a challenge per call. */
	char *fetch_token;
	char origin[LINK_ORIGIN_MAX]; /* of id.server, what bound signatures name */
};

/* Load the identity file of o, require a registered inbox, ask for the
 * passphrase, unlock the keys and open the fetch token when the file keeps
 * one. Returns an exit code; on failure nothing needs closing. */
int session_open(const struct cli_opts *o, struct session *s);

/* Load the identity without unlocking it (public commands). */
int session_open_public(const struct cli_opts *o, struct session *s, int need_inbox);

/* Wipe the keys and free everything. */
void session_close(struct session *s);

#endif
