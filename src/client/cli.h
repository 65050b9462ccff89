/* The command-line client: shared declarations. */
#ifndef SD_CLI_H
#define SD_CLI_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Exit codes (sysexits.h values, documented in sealdrop.1 and docs/CLI.md). */
enum {
	EX_OK_ = 0,
	EX_USAGE_ = 64,   /* bad command line */
	EX_DATA_ = 65,    /* decrypt failed, bad identity file, wrong passphrase, key mismatch */
	EX_NETWORK_ = 69, /* server unreachable */
	EX_SERVER_ = 70,  /* the server refused (4xx/5xx other than auth) */
	EX_IO_ = 74,      /* a local file could not be read or written */
	EX_AUTH_ = 77,    /* authentication failed */
};

/* One line on stderr, "sealdrop: ...". Never given a secret or plaintext. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- identity.c ---------------------------------------------------- */

#define SD_SEED_BYTES 32

struct identity {
	unsigned char public_key[32]; /* Ed25519 */
	unsigned char box_public[32]; /* X25519, converted */
	char server[512];             /* empty until registered */
	char link_token[160];
	char display_name[260];
	json_object *doc; /* the file as read, to write back with changes */
};

struct secret_keys {
	unsigned char sign_sk[64];
	unsigned char box_sk[32];
};

/* The identity file path: --identity, else $XDG_CONFIG_HOME/sealdrop/identity,
 * else ~/.config/sealdrop/identity. */
const char *identity_default_path(void);

/* Create a new identity sealed with the passphrase; writes path (0600),
 * refusing to replace an existing file. Returns an exit code. */
int identity_create(const char *path, const char *pass, int force);

/* Read the public part (no passphrase needed). Returns an exit code. */
int identity_load(const char *path, struct identity *id);

/* Decrypt the seed and derive the secret keys. Returns an exit code;
 * EX_DATA_ with "wrong passphrase" when the MAC fails. */
int identity_unlock(const struct identity *id, const char *pass, struct secret_keys *sk);

/* Record (or with server == NULL, forget) the inbox and rewrite the file. */
int identity_set_inbox(const char *path, struct identity *id, const char *server,
                       const char *link_token, const char *display_name);

/* Check that a file is a readable identity for this passphrase, then copy
 * it to dest (0600). Returns an exit code. */
int identity_copy(const char *src, const char *dest, const char *pass, int force);

void identity_free(struct identity *id);

/* The self-authenticating link of a registered identity, into out. */
void identity_link(const struct identity *id, char *out, size_t cap);

/* ---- passphrase.c -------------------------------------------------- */

/* The passphrase: $SEALDROP_PASSPHRASE, the --passphrase-file, or a prompt
 * on the terminal without echo (twice when confirm). Returns a malloc'd
 * string the caller wipes and frees, or NULL (message printed). */
char *passphrase_get(const char *file, int confirm);
void passphrase_free(char *p);

/* ---- http.c -------------------------------------------------------- */

struct http_reply {
	long status;
	json_object *json; /* parsed body, or NULL */
};

/* Request `method` url with an optional JSON body and Bearer token. On a
 * transport failure returns EX_NETWORK_ (message printed); otherwise 0 and
 * fills reply (the caller puts reply->json). */
int http_json(const char *method, const char *url, json_object *body, const char *bearer,
              struct http_reply *reply);
void http_reply_free(struct http_reply *r);

/* The server's error message/code of a non-2xx reply, for cli_err. */
const char *http_error_text(const struct http_reply *r);

/* ---- api.c --------------------------------------------------------- */

/* A signed challenge for this inbox, as body fields added to `body`. */
int api_sign_into(const struct identity *id, const struct secret_keys *sk, json_object *body);

/* Map a reply status to an exit code (0 for 2xx), printing the reason. */
int api_status(const char *what, const struct http_reply *r);

/* ---- link.c -------------------------------------------------------- */

struct link_parts {
	char server[512];
	char token[160];
	unsigned char key[32];
	int has_key;
};

/* Split https://host/l/link_…#key into its parts. Returns an exit code. */
int link_parse(const char *link, struct link_parts *out);

#endif
