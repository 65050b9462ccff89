/* The CLI's envelope and receipt derivations (src/client/envelope.c)
 * against tests/api/vectors/receipts.json, the PyNaCl reference's output:
 * the same bytes, and the sealed forms open to them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "client/b64.h"
#include "client/envelope.h"

static json_object *vectors;

/* Decode the base64url member name of o into a new buffer. */
static unsigned char *vec_bytes(json_object *o, const char *name, size_t *n)
{
	json_object *v;
	const char *s;
	unsigned char *out;

	assert_true(json_object_object_get_ex(o, name, &v));
	s = json_object_get_string(v);
	out = malloc(strlen(s) + 1);
	assert_non_null(out);
	assert_int_equal(b64_url_decode(s, out, strlen(s) + 1, n), 0);
	return out;
}

static void vec_equal(json_object *o, const char *name, const unsigned char *got, size_t n)
{
	size_t len;
	unsigned char *want = vec_bytes(o, name, &len);

	assert_int_equal(len, n);
	assert_memory_equal(want, got, n);
	free(want);
}

static json_object *vec_list(const char *name)
{
	json_object *v;

	assert_true(json_object_object_get_ex(vectors, name, &v));
	assert_true(json_object_array_length(v) >= 3);
	return v;
}

static void derivations_match_the_vectors(void **state)
{
	json_object *list = vec_list("receipts");

	(void)state;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i);
		struct receipt_keys k;
		unsigned char *r;
		size_t n;

		r = vec_bytes(o, "R", &n);
		assert_int_equal(n, RECEIPT_BYTES);
		assert_int_equal(receipt_derive(r, &k), 0);
		vec_equal(o, "auth", k.auth, sizeof k.auth);
		vec_equal(o, "receipt_id", k.id, sizeof k.id);
		vec_equal(o, "reply_public_key", k.reply_pk, sizeof k.reply_pk);
		vec_equal(o, "reply_secret_key", k.reply_sk, sizeof k.reply_sk);
		free(r);
	}
}

static void envelopes_match_and_open(void **state)
{
	json_object *list = vec_list("envelopes"), *v;
	unsigned char *sk, *pk;
	size_t skn, pkn;

	(void)state;
	sk = vec_bytes(vectors, "inbox_secret_key", &skn);
	pk = vec_bytes(vectors, "inbox_public_key", &pkn);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i);
		const char *text;
		const unsigned char *got_text, *got_key;
		unsigned char *key = NULL, *plain, *sealed, *opened;
		size_t keyn = 0, n, sealed_n, got_n;

		assert_true(json_object_object_get_ex(o, "text", &v));
		text = json_object_get_string(v);
		if (json_object_object_get_ex(o, "reply_key", &v) &&
		    json_object_is_type(v, json_type_string)) {
			key = vec_bytes(o, "reply_key", &keyn);
			assert_int_equal(keyn, ENVELOPE_KEY_BYTES);
		}
		assert_int_equal(
		    envelope_build((const unsigned char *)text, strlen(text), key, &plain, &n), 0);
		vec_equal(o, "plaintext", plain, n);
		assert_true(json_object_object_get_ex(o, "sealed_len", &v));
		assert_int_equal(n + crypto_box_SEALBYTES, json_object_get_int(v));
		assert_true(envelope_sealed_is_bucket(n + crypto_box_SEALBYTES));
		/* The reference's sealed form opens with the inbox key to ours. */
		sealed = vec_bytes(o, "sealed", &sealed_n);
		assert_int_equal(sealed_n, n + crypto_box_SEALBYTES);
		opened = malloc(n);
		assert_int_equal(crypto_box_seal_open(opened, sealed, sealed_n, pk, sk), 0);
		assert_memory_equal(opened, plain, n);
		assert_int_equal(envelope_open(opened, n, &got_text, &got_n, &got_key),
		                 ENVELOPE_OPENED);
		assert_int_equal(got_n, strlen(text));
		assert_memory_equal(got_text, text, got_n);
		if (key != NULL)
			assert_memory_equal(got_key, key, ENVELOPE_KEY_BYTES);
		else
			assert_null(got_key);
		free(opened);
		free(sealed);
		free(plain);
		free(key);
	}
	free(sk);
	free(pk);
}

static void too_long_text_is_refused(void **state)
{
	static unsigned char text[ENVELOPE_PLAIN_MAX];
	unsigned char key[ENVELOPE_KEY_BYTES] = {7}, *plain;
	size_t n;

	(void)state;
	memset(text, 'a', sizeof text);
	assert_int_equal(envelope_build(text, ENVELOPE_TEXT_MAX(1), key, &plain, &n), 0);
	assert_int_equal(n, ENVELOPE_PLAIN_MAX);
	free(plain);
	assert_int_equal(envelope_build(text, ENVELOPE_TEXT_MAX(1) + 1, key, &plain, &n), -1);
	assert_null(plain);
	assert_int_equal(envelope_build(text, ENVELOPE_TEXT_MAX(0) + 1, NULL, &plain, &n), -1);
	/* 928 + 4 + 32 + 4 = 976 bytes: the first bucket, one more: the next. */
	assert_int_equal(envelope_build(text, 940, key, &plain, &n), 0);
	assert_int_equal(n, 976);
	free(plain);
	assert_int_equal(envelope_build(text, 941, key, &plain, &n), 0);
	assert_int_equal(n, 4048);
	free(plain);
}

/* Each refusal RECEIPTS.md lists, on an otherwise good envelope. */
static void open_refuses_what_receipts_md_lists(void **state)
{
	unsigned char key[ENVELOPE_KEY_BYTES] = {9}, *plain;
	const unsigned char *t, *k;
	size_t n, tn;

	(void)state;
	assert_int_equal(envelope_build((const unsigned char *)"hi", 2, key, &plain, &n), 0);
	assert_int_equal(envelope_open(plain, n, &t, &tn, &k), ENVELOPE_OPENED);
	plain[1] = 3; /* an unknown flag bit */
	assert_int_equal(envelope_open(plain, n, &t, &tn, &k), ENVELOPE_REFUSED);
	plain[1] = 1;
	plain[2] = 0xff; /* L past the end */
	assert_int_equal(envelope_open(plain, n, &t, &tn, &k), ENVELOPE_REFUSED);
	assert_null(t);
	plain[2] = 0;
	plain[36] = 0xc0; /* not UTF-8 */
	assert_int_equal(envelope_open(plain, n, &t, &tn, &k), ENVELOPE_REFUSED);
	plain[36] = 'h';
	plain[n - 1] = 1; /* padding not zero */
	assert_int_equal(envelope_open(plain, n, &t, &tn, &k), ENVELOPE_REFUSED);
	plain[n - 1] = 0;
	assert_int_equal(envelope_open(plain, 20, &t, &tn, &k), ENVELOPE_REFUSED); /* short key */
	assert_int_equal(envelope_open(plain, 3, &t, &tn, &k), ENVELOPE_REFUSED);
	plain[0] = 2; /* not 0x01: a plain message, shown as before */
	assert_int_equal(envelope_open(plain, n, &t, &tn, &k), ENVELOPE_NOT_ONE);
	free(plain);
	assert_int_equal(envelope_open((const unsigned char *)"plain", 5, &t, &tn, &k),
	                 ENVELOPE_NOT_ONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(derivations_match_the_vectors),
	    cmocka_unit_test(envelopes_match_and_open),
	    cmocka_unit_test(too_long_text_is_refused),
	    cmocka_unit_test(open_refuses_what_receipts_md_lists),
	};

	if (sodium_init() < 0 || (vectors = json_object_from_file(RECEIPT_VECTORS)) == NULL)
		return 1;
	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
