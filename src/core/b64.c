#include "core/b64.h"

#include <sodium.h>

int sd_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen)
{
	const char *end = NULL;
	int variant = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;

	if (inlen == 0) {
		*outlen = 0;
		return 0;
	}
	if (in[inlen - 1] == '=') {
		/* Padded input must be a whole number of quads. */
		if (inlen % 4 != 0)
			return -1;
		variant = sodium_base64_VARIANT_ORIGINAL;
	}
	if (sodium_base642bin(out, cap, in, inlen, NULL, outlen, &end, variant) != 0)
		return -1;
	return end == in + inlen ? 0 : -1;
}

void sd_b64_encode(const unsigned char *in, size_t n, char *out)
{
	sodium_bin2base64(out, SD_B64_LEN(n) + 1, in, n, sodium_base64_VARIANT_ORIGINAL);
}

void sd_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	sodium_bin2base64(out, SD_B64URL_LEN(n) + 1, in, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int sd_is_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}
