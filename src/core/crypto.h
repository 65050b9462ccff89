/* Tokens, hashes and signatures. Every comparison of a secret is constant
 * time; every function that decides on authenticity must be checked. */
#ifndef SD_CRYPTO_H
#define SD_CRYPTO_H

#include <stddef.h>

#include "core/b64.h"
#include "core/sd.h"

#define SD_LINK_PREFIX        "link_"
#define SD_LINK_RANDOM_BYTES  24
#define SD_LINK_TOKEN_LEN     (5 + SD_B64URL_LEN(SD_LINK_RANDOM_BYTES)) /* 37 */
#define SD_FETCH_RANDOM_BYTES 48
#define SD_FETCH_TOKEN_LEN    SD_B64URL_LEN(SD_FETCH_RANDOM_BYTES) /* 64 */
#define SD_CHALLENGE_BYTES    32
#define SD_CHALLENGE_LEN      SD_B64_LEN(SD_CHALLENGE_BYTES) /* 44 */
#define SD_SHA256_HEX_LEN     64
#define SD_SHA512_HEX_LEN     128
#define SD_KEY_BYTES          32
#define SD_SIG_BYTES          64

/* Must be called once before anything else here (sodium_init). */
SD_MUST_CHECK int sd_crypto_init(void);

void sd_token_link(char out[SD_LINK_TOKEN_LEN + 1]);
void sd_token_fetch(char out[SD_FETCH_TOKEN_LEN + 1]);
void sd_challenge_new(char out[SD_CHALLENGE_LEN + 1]);

/* Lower-case hex SHA-256 / SHA-512 of n bytes. */
void sd_sha256_hex(const void *p, size_t n, char out[SD_SHA256_HEX_LEN + 1]);
void sd_sha512_hex(const void *p, size_t n, char out[SD_SHA512_HEX_LEN + 1]);

/* 1 when the presented token hashes to stored_hash (SHA-256 hex, or SHA-512
 * hex for 128-character hashes), compared in constant time. */
SD_MUST_CHECK int sd_token_matches(const char *token, size_t token_len, const char *stored_hash);

/* 1 when pk is a usable Ed25519 public key: canonical, on the curve, not of
 * small order (it must convert to an X25519 key). */
SD_MUST_CHECK int sd_ed25519_pk_valid(const unsigned char pk[SD_KEY_BYTES]);

/* 1 when sig is pk's Ed25519 signature of msg. */
SD_MUST_CHECK int sd_ed25519_verify(const unsigned char sig[SD_SIG_BYTES], const void *msg,
                                    size_t n, const unsigned char pk[SD_KEY_BYTES]);

/* X25519 public key of an Ed25519 one; -1 when it has none. */
SD_MUST_CHECK int sd_ed25519_to_x25519(const unsigned char ed[SD_KEY_BYTES],
                                       unsigned char x[SD_KEY_BYTES]);

#endif
