/* The identity file (docs/IDENTITY.md): one Ed25519 seed sealed with a key
 * derived from the passphrase (Argon2id + XSalsa20-Poly1305), plus public
 * parts anyone may read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "core/b64.h"

#define OPSLIMIT 3
#define MEMLIMIT (64ULL * 1024 * 1024)
#define FILE_MAX (64 * 1024)

const char *identity_default_path(void)
{
	static char path[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg != NULL && *xdg == '/')
		snprintf(path, sizeof path, "%s/sealdrop/identity", xdg);
	else
		snprintf(path, sizeof path, "%s/.config/sealdrop/identity", home ? home : ".");
	return path;
}

static int b64_field(json_object *o, const char *name, unsigned char *out, size_t want)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (sd_b64_decode(s, strlen(s), out, want, &n) != 0 || n != want)
		return -1;
	return 0;
}

static void put_b64(json_object *o, const char *name, const unsigned char *p, size_t n)
{
	char enc[SD_B64_LEN(64) + 1];

	sd_b64_encode(p, n, enc);
	json_object_object_add(o, name, json_object_new_string(enc));
}

static void copy_str(json_object *o, const char *name, char *out, size_t cap)
{
	json_object *v;

	out[0] = '\0';
	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
		snprintf(out, cap, "%s", json_object_get_string(v));
}

/* mkdir -p for the file's directory, private. */
static int make_parent(const char *path)
{
	char dir[PATH_MAX], *p;

	snprintf(dir, sizeof dir, "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Write text to path atomically (temp file + rename), mode 0600. */
static int write_private(const char *path, const char *text, int excl)
{
	char tmp[PATH_MAX + 16];
	size_t n = strlen(text);
	int fd;

	if (make_parent(path) != 0) {
		cli_err("cannot create the directory of %s: %s", path, strerror(errno));
		return EX_IO_;
	}
	if (excl && access(path, F_OK) == 0) {
		cli_err("%s exists; not replacing it (use --force)", path);
		return EX_IO_;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		cli_err("cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return EX_IO_;
	}
	return EX_OK_;
}

static int seal_seed(json_object *doc, const unsigned char seed[32], const char *pass)
{
	unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
	unsigned char key[crypto_secretbox_KEYBYTES], sealed[32 + crypto_secretbox_MACBYTES];

	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if (crypto_pwhash(key, sizeof key, pass, strlen(pass), salt, OPSLIMIT, MEMLIMIT,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		cli_err("out of memory deriving the key");
		return EX_DATA_;
	}
	crypto_secretbox_easy(sealed, seed, 32, nonce, key);
	sodium_memzero(key, sizeof key);
	json_object_object_add(doc, "sealdrop_identity", json_object_new_int(1));
	json_object_object_add(doc, "kdf", json_object_new_string("argon2id13"));
	json_object_object_add(doc, "opslimit", json_object_new_int(OPSLIMIT));
	json_object_object_add(doc, "memlimit", json_object_new_int64((int64_t)MEMLIMIT));
	put_b64(doc, "salt", salt, sizeof salt);
	put_b64(doc, "nonce", nonce, sizeof nonce);
	put_b64(doc, "sealed_seed", sealed, sizeof sealed);
	return EX_OK_;
}

static const char *doc_text(json_object *doc)
{
	return json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
	                                               JSON_C_TO_STRING_NOSLASHESCAPE);
}

int identity_create(const char *path, const char *pass, int force)
{
	unsigned char seed[32], pk[32], sk[64];
	json_object *doc = json_object_new_object();
	int rc;

	randombytes_buf(seed, sizeof seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	rc = seal_seed(doc, seed, pass);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	if (rc == EX_OK_) {
		put_b64(doc, "public_key", pk, sizeof pk);
		rc = write_private(path, doc_text(doc), !force);
	}
	json_object_put(doc);
	return rc;
}

static int load_doc(const char *path, json_object **out)
{
	char *buf = malloc(FILE_MAX + 1);
	FILE *f = fopen(path, "r");
	size_t n;

	*out = NULL;
	if (f == NULL || buf == NULL) {
		cli_err("cannot read %s: %s (run 'sealdrop init' first?)", path,
		        f ? "out of memory" : strerror(errno));
		if (f)
			fclose(f);
		free(buf);
		return EX_IO_;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	fclose(f);
	if (n > FILE_MAX) {
		free(buf);
		cli_err("%s is too large to be an identity file", path);
		return EX_DATA_;
	}
	buf[n] = '\0';
	*out = json_tokener_parse(buf);
	free(buf);
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		cli_err("%s is not an identity file", path);
		return EX_DATA_;
	}
	return EX_OK_;
}

int identity_load(const char *path, struct identity *id)
{
	json_object *v, *inbox;
	int rc;

	memset(id, 0, sizeof *id);
	if ((rc = load_doc(path, &id->doc)) != EX_OK_)
		return rc;
	if (!json_object_object_get_ex(id->doc, "sealdrop_identity", &v) ||
	    json_object_get_int(v) != 1 ||
	    b64_field(id->doc, "public_key", id->public_key, 32) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(id->box_public, id->public_key) != 0) {
		cli_err("%s is not a version 1 sealdrop identity file", path);
		identity_free(id);
		return EX_DATA_;
	}
	if (json_object_object_get_ex(id->doc, "inbox", &inbox) &&
	    json_object_is_type(inbox, json_type_object)) {
		copy_str(inbox, "server", id->server, sizeof id->server);
		copy_str(inbox, "link_token", id->link_token, sizeof id->link_token);
		copy_str(inbox, "display_name", id->display_name, sizeof id->display_name);
	}
	return EX_OK_;
}

int identity_unlock(const struct identity *id, const char *pass, struct secret_keys *out)
{
	unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
	unsigned char sealed[32 + crypto_secretbox_MACBYTES], key[32], seed[32], pk[32];
	json_object *v;
	const char *kdf = "";
	int64_t ops = 0, mem = 0;
	int rc = EX_DATA_;

	if (json_object_object_get_ex(id->doc, "kdf", &v))
		kdf = json_object_get_string(v);
	if (json_object_object_get_ex(id->doc, "opslimit", &v))
		ops = json_object_get_int64(v);
	if (json_object_object_get_ex(id->doc, "memlimit", &v))
		mem = json_object_get_int64(v);
	/* A hostile file must not make us allocate without bound. */
	if (strcmp(kdf, "argon2id13") != 0 || ops < 1 || ops > 10 || mem < 8192 ||
	    mem > (int64_t)1 << 30 || b64_field(id->doc, "salt", salt, sizeof salt) != 0 ||
	    b64_field(id->doc, "nonce", nonce, sizeof nonce) != 0 ||
	    b64_field(id->doc, "sealed_seed", sealed, sizeof sealed) != 0) {
		cli_err("the identity file's key derivation settings are invalid");
		return EX_DATA_;
	}
	if (crypto_pwhash(key, sizeof key, pass, strlen(pass), salt, (unsigned long long)ops,
	                  (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		cli_err("out of memory deriving the key");
		return EX_DATA_;
	}
	if (crypto_secretbox_open_easy(seed, sealed, sizeof sealed, nonce, key) != 0) {
		cli_err("wrong passphrase");
		goto out;
	}
	crypto_sign_seed_keypair(pk, out->sign_sk, seed);
	if (sodium_memcmp(pk, id->public_key, 32) != 0) {
		cli_err("the identity file's public key does not match its seed");
		goto out;
	}
	if (crypto_sign_ed25519_sk_to_curve25519(out->box_sk, out->sign_sk) != 0)
		goto out;
	rc = EX_OK_;
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(seed, sizeof seed);
	if (rc != EX_OK_)
		sodium_memzero(out, sizeof *out);
	return rc;
}

int identity_set_inbox(const char *path, struct identity *id, const char *server,
                       const char *link_token, const char *display_name)
{
	json_object *inbox;

	if (server == NULL) {
		json_object_object_del(id->doc, "inbox");
		id->server[0] = id->link_token[0] = id->display_name[0] = '\0';
	} else {
		inbox = json_object_new_object();
		json_object_object_add(inbox, "server", json_object_new_string(server));
		json_object_object_add(inbox, "link_token", json_object_new_string(link_token));
		if (display_name != NULL && *display_name)
			json_object_object_add(inbox, "display_name",
			                       json_object_new_string(display_name));
		json_object_object_add(id->doc, "inbox", inbox);
		snprintf(id->server, sizeof id->server, "%s", server);
		snprintf(id->link_token, sizeof id->link_token, "%s", link_token);
		snprintf(id->display_name, sizeof id->display_name, "%s",
		         display_name ? display_name : "");
	}
	return write_private(path, doc_text(id->doc), 0);
}

int identity_copy(const char *src, const char *dest, const char *pass, int force)
{
	struct identity id;
	struct secret_keys sk;
	int rc = identity_load(src, &id);

	if (rc != EX_OK_)
		return rc;
	rc = identity_unlock(&id, pass, &sk);
	sodium_memzero(&sk, sizeof sk);
	if (rc == EX_OK_)
		rc = write_private(dest, doc_text(id.doc), !force);
	identity_free(&id);
	return rc;
}

void identity_free(struct identity *id)
{
	json_object_put(id->doc);
	id->doc = NULL;
}

void identity_link(const struct identity *id, char *out, size_t cap)
{
	char key[SD_B64URL_LEN(32) + 1];

	sd_b64url_encode(id->box_public, 32, key);
	snprintf(out, cap, "%s/l/%s#%s", id->server, id->link_token, key);
}
