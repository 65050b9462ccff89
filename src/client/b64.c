/* Base64 through libsodium: constant-time, strict about stray bits. */
#include <string.h>

#include "client/b64.h"

void b64_std_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
}

void b64_url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* libsodium's padded variants insist on padding and the unpadded ones
 * refuse it; the API allows both, so strip up to two '=' and decode the
 * rest as unpadded. */
static int b64_decode_variant(const char *s, unsigned char *out, size_t cap, size_t *outlen,
                              int variant)
{
	size_t n = strlen(s);
	const char *end = NULL;

	if (n > 0 && s[n - 1] == '=')
		n--;
	if (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1 || sodium_base642bin(out, cap, s, n, NULL, outlen, &end, variant) != 0 ||
	    end != s + n)
		return -1;
	/* With padding, the text must be a whole number of 4-character groups. */
	if (n != strlen(s) && strlen(s) % 4 != 0)
		return -1;
	return 0;
}

int b64_std_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
	return b64_decode_variant(s, out, cap, outlen, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int b64_url_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
	return b64_decode_variant(s, out, cap, outlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int b64_std_decode_exact(const char *s, unsigned char *out, size_t want)
{
	size_t got = 0;

	if (b64_std_decode(s, out, want, &got) != 0 || got != want)
		return -1;
	return 0;
}

int b64_url_alphabet(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}
