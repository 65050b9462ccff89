#include "core/crypto.h"

#include <sodium.h>
#include <string.h>

_Static_assert(SD_LINK_TOKEN_LEN == 37, "link token length");
_Static_assert(SD_FETCH_TOKEN_LEN == 64, "fetch token length");
_Static_assert(SD_CHALLENGE_LEN == 44, "challenge length");
_Static_assert(SD_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "ed25519 key size");
_Static_assert(SD_SIG_BYTES == crypto_sign_BYTES, "ed25519 signature size");

int sd_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void sd_token_link(char out[SD_LINK_TOKEN_LEN + 1])
{
	unsigned char r[SD_LINK_RANDOM_BYTES];

	randombytes_buf(r, sizeof r);
	memcpy(out, SD_LINK_PREFIX, 5);
	sd_b64url_encode(r, sizeof r, out + 5);
}

void sd_token_fetch(char out[SD_FETCH_TOKEN_LEN + 1])
{
	unsigned char r[SD_FETCH_RANDOM_BYTES];

	randombytes_buf(r, sizeof r);
	sd_b64url_encode(r, sizeof r, out);
	sodium_memzero(r, sizeof r);
}

void sd_challenge_new(char out[SD_CHALLENGE_LEN + 1])
{
	unsigned char r[SD_CHALLENGE_BYTES];

	randombytes_buf(r, sizeof r);
	sd_b64_encode(r, sizeof r, out);
}

static void hex_of(const unsigned char *h, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, h, n);
}

void sd_sha256_hex(const void *p, size_t n, char out[SD_SHA256_HEX_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, p, n);
	hex_of(h, sizeof h, out);
}

void sd_sha512_hex(const void *p, size_t n, char out[SD_SHA512_HEX_LEN + 1])
{
	unsigned char h[crypto_hash_sha512_BYTES];

	crypto_hash_sha512(h, p, n);
	hex_of(h, sizeof h, out);
}

int sd_token_matches(const char *token, size_t token_len, const char *stored_hash)
{
	char h[SD_SHA512_HEX_LEN + 1];
	size_t slen = strlen(stored_hash);
	int ok;

	if (slen == SD_SHA256_HEX_LEN)
		sd_sha256_hex(token, token_len, h);
	else if (slen == SD_SHA512_HEX_LEN)
		sd_sha512_hex(token, token_len, h);
	else
		return 0;
	ok = sodium_memcmp(h, stored_hash, slen) == 0;
	sodium_memzero(h, sizeof h);
	return ok;
}

int sd_ed25519_pk_valid(const unsigned char pk[SD_KEY_BYTES])
{
	unsigned char x[SD_KEY_BYTES];

	return crypto_sign_ed25519_pk_to_curve25519(x, pk) == 0;
}

int sd_ed25519_verify(const unsigned char sig[SD_SIG_BYTES], const void *msg, size_t n,
                      const unsigned char pk[SD_KEY_BYTES])
{
	return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

int sd_ed25519_to_x25519(const unsigned char ed[SD_KEY_BYTES], unsigned char x[SD_KEY_BYTES])
{
	return crypto_sign_ed25519_pk_to_curve25519(x, ed) == 0 ? 0 : -1;
}
