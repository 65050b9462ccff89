/* The envelope and the receipt derivations (docs/RECEIPTS.md). */
#include <stdlib.h>
#include <string.h>

#include "client/envelope.h"
#include "client/text.h"

static const size_t envelope_buckets[] = {1024, 4096, 16384};

#define ENVELOPE_BUCKETS_N (sizeof envelope_buckets / sizeof envelope_buckets[0])
#define LABEL_AUTH         "sealdrop-v1 receipt auth"
#define LABEL_REPLY_KEY    "sealdrop-v1 reply key"

int receipt_derive(const unsigned char r[RECEIPT_BYTES], struct receipt_keys *k)
{
	unsigned char seed[crypto_box_SEEDBYTES];
	int rc = -1;

	if (crypto_generichash(k->auth, sizeof k->auth, (const unsigned char *)LABEL_AUTH,
	                       strlen(LABEL_AUTH), r, RECEIPT_BYTES) != 0 ||
	    crypto_generichash(k->id, sizeof k->id, k->auth, sizeof k->auth, NULL, 0) != 0 ||
	    crypto_generichash(seed, sizeof seed, (const unsigned char *)LABEL_REPLY_KEY,
	                       strlen(LABEL_REPLY_KEY), r, RECEIPT_BYTES) != 0 ||
	    crypto_box_seed_keypair(k->reply_pk, k->reply_sk, seed) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(seed, sizeof seed);
	return rc;
}

int envelope_sealed_is_bucket(size_t n)
{
	for (size_t i = 0; i < ENVELOPE_BUCKETS_N; i++)
		if (n == envelope_buckets[i])
			return 1;
	return 0;
}

/* The padded plaintext size for used bytes: the smallest bucket whose
 * sealed box holds them, 0 when none does. */
static size_t envelope_padded_size(size_t used)
{
	for (size_t i = 0; i < ENVELOPE_BUCKETS_N; i++)
		if (used + crypto_box_SEALBYTES <= envelope_buckets[i])
			return envelope_buckets[i] - crypto_box_SEALBYTES;
	return 0;
}

int envelope_build(const unsigned char *text, size_t n, const unsigned char *reply_pk,
                   unsigned char **plain, size_t *len)
{
	size_t at = ENVELOPE_HEAD + (reply_pk != NULL ? ENVELOPE_KEY_BYTES : 0), size;
	unsigned char *p;

	*plain = NULL;
	*len = 0;
	if (n > ENVELOPE_TEXT_MAX(reply_pk != NULL) || (size = envelope_padded_size(at + n)) == 0)
		return -1;
	if ((p = calloc(1, size)) == NULL)
		return -1;
	p[0] = ENVELOPE_VERSION;
	p[1] = reply_pk != NULL ? ENVELOPE_FLAG_REPLY_KEY : 0;
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)(n & 0xff);
	if (reply_pk != NULL)
		memcpy(p + ENVELOPE_HEAD, reply_pk, ENVELOPE_KEY_BYTES);
	if (n > 0)
		memcpy(p + at, text, n);
	*plain = p;
	*len = size;
	return 0;
}

enum envelope_open_result envelope_open(const unsigned char *plain, size_t n,
                                        const unsigned char **text, size_t *text_len,
                                        const unsigned char **reply_pk)
{
	size_t at = ENVELOPE_HEAD, len;

	*text = NULL;
	*text_len = 0;
	*reply_pk = NULL;
	if (n == 0 || plain[0] != ENVELOPE_VERSION)
		return ENVELOPE_NOT_ONE;
	if (n < ENVELOPE_HEAD || (plain[1] & ~ENVELOPE_FLAG_REPLY_KEY) != 0)
		return ENVELOPE_REFUSED;
	len = (size_t)plain[2] << 8 | plain[3];
	if (plain[1] & ENVELOPE_FLAG_REPLY_KEY)
		at += ENVELOPE_KEY_BYTES;
	if (at > n || len > n - at || !text_utf8_valid(plain + at, len))
		return ENVELOPE_REFUSED;
	for (size_t i = at + len; i < n; i++)
		if (plain[i] != 0)
			return ENVELOPE_REFUSED;
	if (plain[1] & ENVELOPE_FLAG_REPLY_KEY)
		*reply_pk = plain + ENVELOPE_HEAD;
	*text = plain + at;
	*text_len = len;
	return ENVELOPE_OPENED;
}
