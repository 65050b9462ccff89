/* libFuzzer: base64 decoding round-trips and never overruns its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[256];
	char enc[SD_B64_LEN(256) + 1];
	unsigned char back[256];
	size_t n = 0, m = 0;

	if (size > 400)
		return 0;
	if (sd_b64_decode((const char *)data, size, out, sizeof out, &n) == 0) {
		if (n > sizeof out)
			abort();
		/* What decodes re-encodes to a canonical form that decodes the same. */
		sd_b64_encode(out, n, enc);
		if (sd_b64_decode(enc, strlen(enc), back, sizeof back, &m) != 0 || m != n ||
		    memcmp(out, back, n) != 0)
			abort();
	}
	(void)sd_is_b64url((const char *)data, size);
	if (size > 0)
		(void)sd_token_matches(
		    (const char *)data, size,
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	return 0;
}
