/* The identity file (docs/IDENTITY.md): one Ed25519 seed sealed with a key
 * derived from the passphrase, the public key, and the inbox once
 * registered. The browser reads and writes the same format. */
#ifndef SD_CLIENT_IDENTITY_H
#define SD_CLIENT_IDENTITY_H

#include <json-c/json.h>
#include <sodium.h>
#include <stddef.h>

#define IDENTITY_SERVER_MAX 512 /* characters of the server URL */
#define IDENTITY_TOKEN_MAX  128 /* characters of a link token */
#define IDENTITY_FETCH_MIN  16  /* characters of a fetch token we keep */
#define IDENTITY_FETCH_MAX  256

/* The public part: readable without the passphrase. */
struct identity {
	unsigned char sign_pk[crypto_sign_PUBLICKEYBYTES]; /* Ed25519 */
	unsigned char box_pk[crypto_box_PUBLICKEYBYTES];   /* its X25519 conversion */
	char server[IDENTITY_SERVER_MAX + 1];              /* "" until registered */
	char link_token[IDENTITY_TOKEN_MAX + 1];
	json_object *doc; /* the file as read, so unknown keys survive a rewrite */
};

/* The secret part, in a guarded sodium_malloc buffer. */
struct identity_keys {
	unsigned char sign_sk[crypto_sign_SECRETKEYBYTES];
	unsigned char box_sk[crypto_box_SECRETKEYBYTES];
};

/* $XDG_CONFIG_HOME/sealdrop/identity, else ~/.config/sealdrop/identity;
 * NULL when neither variable names an absolute directory. */
const char *identity_path_default(void);

/* A new identity sealed with pass, written to path (0600). An existing file
 * is kept unless force. Returns an exit code. */
int identity_file_create(const char *path, const char *pass, int force);

/* Read and check the public part. Returns an exit code. */
int identity_file_load(const char *path, struct identity *id);

/* Derive the key from pass, open the seed, check it against the public
 * key and derive both secret keys into *out (give it to
 * identity_keys_free). Returns an exit code: CLI_EDATA with the single
 * message "wrong passphrase" when the MAC fails. */
int identity_keys_unlock(const struct identity *id, const char *pass, struct identity_keys **out);

/* Wipe and free; NULL is fine. */
void identity_keys_free(struct identity_keys *k);

/* Record the inbox (or with server NULL, forget it) and rewrite path.
 * fetch_token, when not NULL, is kept sealed to the identity's own X25519
 * key (inbox.sealed_fetch_token): writing it needs no passphrase, reading
 * it needs the unlocked keys. Returns an exit code. */
int identity_inbox_set(const char *path, struct identity *id, const char *server,
                       const char *link_token, const char *display_name, const char *fetch_token);

/* Replace the sealed fetch token of the recorded inbox and rewrite path.
 * Returns an exit code. */
int identity_fetch_token_set(const char *path, struct identity *id, const char *fetch_token);

/* 1 when s can be a fetch token: IDENTITY_FETCH_MIN..IDENTITY_FETCH_MAX
 * characters of the base64url alphabet. */
int identity_fetch_token_valid(const char *s);

/* Open the sealed fetch token into *out (a sodium_malloc string for
 * sodium_free), or *out = NULL when the file keeps none (older files, the
 * browser before it kept one). Returns 0, or -1 when one is there but does
 * not open to a valid token. */
int identity_fetch_token_open(const struct identity *id, const struct identity_keys *k, char **out);

/* The file's JSON text, as it is written. */
const char *identity_doc_text(const struct identity *id);

/* The self-authenticating link, <server>/l/<token>#<base64url box key>.
 * Returns 0, or -1 when it does not fit. */
int identity_link_format(const struct identity *id, char *out, size_t cap);

void identity_free(struct identity *id);

#endif
