/* Base64 as the API speaks it: binary values are standard base64 (padding
 * optional on input, always written), tokens are base64url without padding. */
#ifndef SD_B64_H
#define SD_B64_H

#include <stddef.h>

#include "core/sd.h"

/* Length of the padded standard encoding of n bytes, without the NUL. */
#define SD_B64_LEN(n)    ((((n) + 2) / 3) * 4)
/* Length of the unpadded base64url encoding of n bytes, without the NUL. */
#define SD_B64URL_LEN(n) (((n)*4 + 2) / 3)

/* Decode standard base64 (with or without padding, no whitespace) into at
 * most cap bytes. Returns 0 and sets *outlen, or -1 on any malformed input
 * or when the result would not fit. */
SD_MUST_CHECK int sd_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap,
                                size_t *outlen);

/* Write the padded standard encoding of n bytes and a NUL into out, which
 * must hold SD_B64_LEN(n) + 1 bytes. */
void sd_b64_encode(const unsigned char *in, size_t n, char *out);

/* Write the unpadded base64url encoding and a NUL (SD_B64URL_LEN(n) + 1). */
void sd_b64url_encode(const unsigned char *in, size_t n, char *out);

/* 1 when s[0..n) uses only the base64url alphabet. */
int sd_is_b64url(const char *s, size_t n);

#endif
