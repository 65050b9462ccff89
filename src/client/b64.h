/* Base64 as the API and the identity file speak it, on libsodium's codec:
 * binary values are standard base64 (written padded, read with or without
 * padding), keys in links are base64url without padding. */
#ifndef SD_CLIENT_B64_H
#define SD_CLIENT_B64_H

#include <stddef.h>
#include <sodium.h>

/* Buffer sizes, NUL included. */
#define B64_STD_SIZE(n) sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL)
#define B64_URL_SIZE(n) sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING)

/* Encode n bytes into out (B64_STD_SIZE(n) / B64_URL_SIZE(n) bytes). */
void b64_std_encode(const unsigned char *in, size_t n, char *out, size_t cap);
void b64_url_encode(const unsigned char *in, size_t n, char *out, size_t cap);

/* Decode a NUL-terminated string into at most cap bytes; 0 and *outlen, or
 * -1 for malformed input (whitespace, wrong alphabet, bad padding, stray
 * bits) or input that would not fit. */
__attribute__((warn_unused_result)) int b64_std_decode(const char *s, unsigned char *out,
                                                       size_t cap, size_t *outlen);
__attribute__((warn_unused_result)) int b64_url_decode(const char *s, unsigned char *out,
                                                       size_t cap, size_t *outlen);

/* Decode exactly want bytes; 0 or -1. */
__attribute__((warn_unused_result)) int b64_std_decode_exact(const char *s, unsigned char *out,
                                                             size_t want);

/* 1 when s[0..n) is non-empty and uses only the base64url alphabet. */
int b64_url_alphabet(const char *s, size_t n);

#endif
