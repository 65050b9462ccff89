/* The envelope of docs/RECEIPTS.md, version 1, and what a receipt secret R
 * derives: the plaintext a sealdrop client seals to an inbox (or to a reply
 * key), padded so that the sealed box is one of three bucket sizes. Pure
 * functions, no I/O: tests/unit/test_envelope.c checks them against
 * tests/api/vectors/receipts.json. */
#ifndef SD_CLIENT_ENVELOPE_H
#define SD_CLIENT_ENVELOPE_H

#include <sodium.h>
#include <stddef.h>

#define ENVELOPE_VERSION        1
#define ENVELOPE_FLAG_REPLY_KEY 1
#define ENVELOPE_HEAD           4 /* version, flags, 16-bit length */
#define ENVELOPE_KEY_BYTES      crypto_box_PUBLICKEYBYTES
#define ENVELOPE_SEALED_MAX     16384 /* the largest bucket */
#define ENVELOPE_PLAIN_MAX      (ENVELOPE_SEALED_MAX - crypto_box_SEALBYTES)
/* The longest text: 16300 bytes with a reply key, 16332 without. */
#define ENVELOPE_TEXT_MAX(with_key) \
	(ENVELOPE_PLAIN_MAX - ENVELOPE_HEAD - ((with_key) ? ENVELOPE_KEY_BYTES : 0))

/* The receipt secret, its derivations, all 32 bytes; base64url 43 chars. */
#define RECEIPT_BYTES   32
#define RECEIPT_B64_LEN 43

struct receipt_keys {
	unsigned char auth[RECEIPT_BYTES]; /* shown to the server on each lookup */
	unsigned char id[RECEIPT_BYTES];   /* BLAKE2b-256(auth): stored by the server */
	unsigned char reply_pk[ENVELOPE_KEY_BYTES];
	unsigned char reply_sk[crypto_box_SECRETKEYBYTES];
};

/* Derive auth, receipt_id and the reply key pair from R. 0, or -1. */
int receipt_derive(const unsigned char r[RECEIPT_BYTES], struct receipt_keys *k);

/* 1 when a sealed box of n bytes is one of the buckets (1024, 4096, 16384). */
int envelope_sealed_is_bucket(size_t n);

/* The envelope of text[0..n) with reply_pk (or none when NULL), padded:
 * a new buffer into *plain and its size into *len. Returns 0, or -1 when
 * the text is too long (see ENVELOPE_TEXT_MAX) or memory ran out. The
 * caller wipes and frees *plain. */
int envelope_build(const unsigned char *text, size_t n, const unsigned char *reply_pk,
                   unsigned char **plain, size_t *len);

enum envelope_open_result {
	ENVELOPE_OPENED,  /* *text, *text_len and *reply_pk (NULL: none) are set */
	ENVELOPE_NOT_ONE, /* the first byte is not 0x01: a plain message */
	ENVELOPE_REFUSED, /* version 1 but malformed: show as unreadable */
};

/* Open plain[0..n) strictly, refusing everything RECEIPTS.md lists: flags
 * with unknown bits, a length past the end, a text that is not UTF-8,
 * padding that is not all zero. The results point into plain. */
enum envelope_open_result envelope_open(const unsigned char *plain, size_t n,
                                        const unsigned char **text, size_t *text_len,
                                        const unsigned char **reply_pk);

#endif
