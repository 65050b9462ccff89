/* The identity file. Readers are strict about what they act on (types,
 * sizes, the KDF cost a file may ask for) and tolerant of what they do not
 * know (unknown keys are kept). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/b64.h"
#include "client/cli.h"
#include "client/file.h"
#include "client/identity.h"
#include "client/jsonv.h"
#include "client/link.h"

#define IDENTITY_VERSION  1
#define IDENTITY_KDF      "argon2id13"
#define IDENTITY_OPSLIMIT 3
#define IDENTITY_MEMLIMIT (64LL * 1024 * 1024)
#define IDENTITY_FILE_MAX (64 * 1024)
#define SEED_BYTES        crypto_sign_SEEDBYTES
#define SEALED_BYTES      (SEED_BYTES + crypto_secretbox_MACBYTES)

/* What readers accept (docs/IDENTITY.md): a hostile file must not make us
 * allocate or compute without bound. */
#define OPSLIMIT_MIN      1
#define OPSLIMIT_MAX      10
#define MEMLIMIT_MIN      (8LL * 1024)
#define MEMLIMIT_MAX      (1LL << 30)

_Static_assert(crypto_pwhash_SALTBYTES == 16, "the file format has 16-byte salts");
_Static_assert(crypto_secretbox_KEYBYTES == 32, "crypto_pwhash derives 32 bytes");
_Static_assert(SEALED_BYTES == 48, "sealed_seed is 48 bytes");

const char *identity_path_default(void)
{
	static char path[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(path, sizeof path, "%s/sealdrop/identity", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(path, sizeof path, "%s/.config/sealdrop/identity", home);
	else
		return NULL;
	return n < (int)sizeof path ? path : NULL;
}

static int identity_b64_get(json_object *o, const char *name, unsigned char *out, size_t want)
{
	const char *s = jsonv_str_get(o, name);

	return s != NULL ? b64_std_decode_exact(s, out, want) : -1;
}

static void identity_b64_put(json_object *o, const char *name, const unsigned char *p, size_t n)
{
	char enc[B64_STD_SIZE(64)];

	b64_std_encode(p, n, enc, sizeof enc);
	json_object_object_add(o, name, json_object_new_string(enc));
}

const char *identity_doc_text(const struct identity *id)
{
	return json_object_to_json_string_ext(id->doc, JSON_C_TO_STRING_PRETTY |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
}

int identity_file_create(const char *path, const char *pass, int force)
{
	unsigned char seed[SEED_BYTES], salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_secretbox_NONCEBYTES], key[crypto_secretbox_KEYBYTES];
	unsigned char sealed[SEALED_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	struct identity id = {.doc = NULL};
	int rc = CLI_EINTERNAL;

	if (sk == NULL) {
		cli_err("out of memory");
		goto out;
	}
	randombytes_buf(seed, sizeof seed);
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	crypto_sign_seed_keypair(pk, sk, seed);
	if (crypto_pwhash(key, sizeof key, pass, strlen(pass), salt, IDENTITY_OPSLIMIT,
	                  (size_t)IDENTITY_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		cli_err("out of memory deriving the key from the passphrase");
		goto out;
	}
	crypto_secretbox_easy(sealed, seed, sizeof seed, nonce, key);
	id.doc = json_object_new_object();
	json_object_object_add(id.doc, "sealdrop_identity", json_object_new_int(IDENTITY_VERSION));
	json_object_object_add(id.doc, "kdf", json_object_new_string(IDENTITY_KDF));
	json_object_object_add(id.doc, "opslimit", json_object_new_int(IDENTITY_OPSLIMIT));
	json_object_object_add(id.doc, "memlimit", json_object_new_int64(IDENTITY_MEMLIMIT));
	identity_b64_put(id.doc, "salt", salt, sizeof salt);
	identity_b64_put(id.doc, "nonce", nonce, sizeof nonce);
	identity_b64_put(id.doc, "sealed_seed", sealed, sizeof sealed);
	identity_b64_put(id.doc, "public_key", pk, sizeof pk);
	rc = file_private_write(path, identity_doc_text(&id), !force);
out:
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(key, sizeof key);
	if (sk != NULL)
		sodium_free(sk);
	identity_free(&id);
	return rc;
}

/* The optional "inbox" object: both fields well-formed, or the file is
 * refused (a tampered token must not end up in a request). */
static int identity_inbox_parse(struct identity *id, const char *path)
{
	json_object *inbox;
	const char *server, *token;

	if (!json_object_object_get_ex(id->doc, "inbox", &inbox) || inbox == NULL)
		return CLI_OK;
	server =
	    json_object_is_type(inbox, json_type_object) ? jsonv_str_get(inbox, "server") : NULL;
	token = server != NULL ? jsonv_str_get(inbox, "link_token") : NULL;
	if (token == NULL || !link_server_valid(server) || strlen(server) > IDENTITY_SERVER_MAX ||
	    !link_token_valid(token)) {
		cli_err("%s: the inbox recorded in the identity file is malformed", path);
		return CLI_EDATA;
	}
	snprintf(id->server, sizeof id->server, "%s", server);
	snprintf(id->link_token, sizeof id->link_token, "%s", token);
	return CLI_OK;
}

int identity_file_load(const char *path, struct identity *id)
{
	char *text = NULL;
	size_t len;
	int64_t version;
	int rc;

	memset(id, 0, sizeof *id);
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		cli_err("no identity at %s: run 'sealdrop init' or 'sealdrop import FILE' first",
		        path);
		rc = CLI_EIO;
		goto out;
	}
	if ((rc = file_bounded_read(path, IDENTITY_FILE_MAX, &text, &len)) != CLI_OK)
		goto out;
	rc = CLI_EDATA;
	if ((id->doc = jsonv_object_parse(text, len)) == NULL) {
		cli_err("%s is not an identity file (not a JSON object)", path);
		goto out;
	}
	if (jsonv_int_get(id->doc, "sealdrop_identity", 1, INT32_MAX, &version) != 0) {
		cli_err("%s is not a sealdrop identity file", path);
		goto out;
	}
	if (version != IDENTITY_VERSION) {
		cli_err("%s is a version %lld identity file; this sealdrop reads version %d", path,
		        (long long)version, IDENTITY_VERSION);
		goto out;
	}
	if (identity_b64_get(id->doc, "public_key", id->sign_pk, sizeof id->sign_pk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(id->box_pk, id->sign_pk) != 0) {
		cli_err("%s: public_key is not an Ed25519 public key", path);
		goto out;
	}
	rc = identity_inbox_parse(id, path);
out:
	free(text);
	if (rc != CLI_OK)
		identity_free(id);
	return rc;
}

int identity_keys_unlock(const struct identity *id, const char *pass, struct identity_keys **out)
{
	unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
	unsigned char sealed[SEALED_BYTES], key[crypto_secretbox_KEYBYTES], seed[SEED_BYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	struct identity_keys *k = NULL;
	const char *kdf = jsonv_str_get(id->doc, "kdf");
	int64_t ops, mem;
	int rc = CLI_EDATA;

	*out = NULL;
	if (kdf == NULL || strcmp(kdf, IDENTITY_KDF) != 0 ||
	    jsonv_int_get(id->doc, "opslimit", OPSLIMIT_MIN, OPSLIMIT_MAX, &ops) != 0 ||
	    jsonv_int_get(id->doc, "memlimit", MEMLIMIT_MIN, MEMLIMIT_MAX, &mem) != 0 ||
	    identity_b64_get(id->doc, "salt", salt, sizeof salt) != 0 ||
	    identity_b64_get(id->doc, "nonce", nonce, sizeof nonce) != 0 ||
	    identity_b64_get(id->doc, "sealed_seed", sealed, sizeof sealed) != 0) {
		cli_err("the identity file's key derivation settings are invalid");
		goto out;
	}
	if ((k = sodium_malloc(sizeof *k)) == NULL) {
		cli_err("out of memory");
		rc = CLI_EINTERNAL;
		goto out;
	}
	if (crypto_pwhash(key, sizeof key, pass, strlen(pass), salt, (unsigned long long)ops,
	                  (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		cli_err("out of memory deriving the key from the passphrase");
		rc = CLI_EINTERNAL;
		goto out;
	}
	if (crypto_secretbox_open_easy(seed, sealed, sizeof sealed, nonce, key) != 0) {
		cli_err("wrong passphrase");
		goto out;
	}
	crypto_sign_seed_keypair(pk, k->sign_sk, seed);
	if (sodium_memcmp(pk, id->sign_pk, sizeof pk) != 0) {
		cli_err("the identity file's public key does not match its seed");
		goto out;
	}
	if (crypto_sign_ed25519_sk_to_curve25519(k->box_sk, k->sign_sk) != 0) {
		cli_err("the identity's key cannot be converted for decryption");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = CLI_OK;
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(seed, sizeof seed);
	identity_keys_free(k);
	return rc;
}

void identity_keys_free(struct identity_keys *k)
{
	if (k != NULL)
		sodium_free(k); /* wipes before it frees */
}

int identity_fetch_token_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= IDENTITY_FETCH_MIN && n <= IDENTITY_FETCH_MAX && b64_url_alphabet(s, n);
}

/* Seal token to the identity's own box key into inbox.sealed_fetch_token. */
static int identity_fetch_token_put(struct identity *id, json_object *inbox, const char *token)
{
	unsigned char sealed[crypto_box_SEALBYTES + IDENTITY_FETCH_MAX];
	char enc[B64_STD_SIZE(sizeof sealed)];
	size_t n = strlen(token);

	if (!identity_fetch_token_valid(token) ||
	    crypto_box_seal(sealed, (const unsigned char *)token, n, id->box_pk) != 0)
		return -1;
	b64_std_encode(sealed, n + crypto_box_SEALBYTES, enc, sizeof enc);
	json_object_object_add(inbox, "sealed_fetch_token", json_object_new_string(enc));
	return 0;
}

int identity_inbox_set(const char *path, struct identity *id, const char *server,
                       const char *link_token, const char *display_name, const char *fetch_token)
{
	json_object *inbox;

	id->server[0] = id->link_token[0] = '\0';
	if (server == NULL) {
		json_object_object_del(id->doc, "inbox");
		return file_private_write(path, identity_doc_text(id), 0);
	}
	inbox = json_object_new_object();
	json_object_object_add(inbox, "server", json_object_new_string(server));
	json_object_object_add(inbox, "link_token", json_object_new_string(link_token));
	if (display_name != NULL && display_name[0] != '\0')
		json_object_object_add(inbox, "display_name", json_object_new_string(display_name));
	if (fetch_token != NULL && identity_fetch_token_put(id, inbox, fetch_token) != 0) {
		json_object_put(inbox);
		cli_err("the server's fetch token is malformed");
		return CLI_ESERVER;
	}
	json_object_object_add(id->doc, "inbox", inbox);
	snprintf(id->server, sizeof id->server, "%s", server);
	snprintf(id->link_token, sizeof id->link_token, "%s", link_token);
	return file_private_write(path, identity_doc_text(id), 0);
}

int identity_fetch_token_set(const char *path, struct identity *id, const char *fetch_token)
{
	json_object *inbox;

	if (!json_object_object_get_ex(id->doc, "inbox", &inbox) ||
	    !json_object_is_type(inbox, json_type_object))
		return CLI_EUSAGE;
	if (identity_fetch_token_put(id, inbox, fetch_token) != 0) {
		cli_err("the server's fetch token is malformed");
		return CLI_ESERVER;
	}
	return file_private_write(path, identity_doc_text(id), 0);
}

int identity_fetch_token_open(const struct identity *id, const struct identity_keys *k, char **out)
{
	unsigned char sealed[crypto_box_SEALBYTES + IDENTITY_FETCH_MAX];
	json_object *inbox = NULL;
	const char *enc;
	size_t n = 0;
	char *t;

	*out = NULL;
	if (!json_object_object_get_ex(id->doc, "inbox", &inbox) ||
	    (enc = jsonv_str_get(inbox, "sealed_fetch_token")) == NULL)
		return 0;
	if (b64_std_decode(enc, sealed, sizeof sealed, &n) != 0 || n <= crypto_box_SEALBYTES)
		return -1;
	if ((t = sodium_malloc(n - crypto_box_SEALBYTES + 1)) == NULL)
		return -1;
	if (crypto_box_seal_open((unsigned char *)t, sealed, n, id->box_pk, k->box_sk) != 0) {
		sodium_free(t);
		return -1;
	}
	t[n - crypto_box_SEALBYTES] = '\0';
	if (strlen(t) != n - crypto_box_SEALBYTES || !identity_fetch_token_valid(t)) {
		sodium_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

int identity_link_format(const struct identity *id, char *out, size_t cap)
{
	char key[B64_URL_SIZE(crypto_box_PUBLICKEYBYTES)];
	int n;

	b64_url_encode(id->box_pk, sizeof id->box_pk, key, sizeof key);
	n = snprintf(out, cap, "%s/l/%s#%s", id->server, id->link_token, key);
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

void identity_free(struct identity *id)
{
	json_object_put(id->doc);
	id->doc = NULL;
}
