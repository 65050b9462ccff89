/* libFuzzer: the query-string reader of GET /events never writes past its
 * buffer, always terminates it, and a decoded value never holds a NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"link_token", "challenge", "challenge_signature", "x",
	                                    ""};
	char *q = malloc(size + 1);
	char out[40];

	if (q == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0'; /* QUERY_STRING is a C string */
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		for (size_t cap = 1; cap <= sizeof out; cap += 13) {
			long n = api_query_param(q, names[i], out, cap);

			if (n < -2 || n >= (long)cap)
				abort();
			if (n >= 0 && (strlen(out) != (size_t)n))
				abort();
		}
	}
	free(q);
	return 0;
}
