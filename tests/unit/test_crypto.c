/* Tokens, hashes, signatures and base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "core/b64.h"
#include "core/crypto.h"

static void link_token_has_prefix_and_32_url_chars(void **state)
{
	char a[SD_LINK_TOKEN_LEN + 1], b[SD_LINK_TOKEN_LEN + 1];

	(void)state;
	sd_token_link(a);
	sd_token_link(b);
	assert_int_equal(strlen(a), 37);
	assert_memory_equal(a, "link_", 5);
	assert_true(sd_is_b64url(a + 5, 32));
	assert_string_not_equal(a, b);
}

static void fetch_token_is_64_url_chars(void **state)
{
	char t[SD_FETCH_TOKEN_LEN + 1];

	(void)state;
	sd_token_fetch(t);
	assert_int_equal(strlen(t), 64);
	assert_true(sd_is_b64url(t, 64));
}

static void challenge_is_base64_of_32_bytes(void **state)
{
	char c[SD_CHALLENGE_LEN + 1];
	unsigned char raw[40];
	size_t n;

	(void)state;
	sd_challenge_new(c);
	assert_int_equal(strlen(c), 44);
	assert_int_equal(sd_b64_decode(c, strlen(c), raw, sizeof raw, &n), 0);
	assert_int_equal(n, 32);
}

static void sha256_hex_known_vector(void **state)
{
	char h[SD_SHA256_HEX_LEN + 1];

	(void)state;
	sd_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void token_matches_sha256_and_sha512_hashes(void **state)
{
	char h256[SD_SHA256_HEX_LEN + 1], h512[SD_SHA512_HEX_LEN + 1];

	(void)state;
	sd_sha256_hex("secret", 6, h256);
	sd_sha512_hex("secret", 6, h512);
	assert_true(sd_token_matches("secret", 6, h256));
	assert_true(sd_token_matches("secret", 6, h512));
	assert_false(sd_token_matches("secreT", 6, h256));
	assert_false(sd_token_matches("secret", 5, h512));
	assert_false(sd_token_matches("secret", 6, "abc"));
	assert_false(sd_token_matches("secret", 6, ""));
}

static void ed25519_key_validation(void **state)
{
	unsigned char pk[32], sk[64], zero[32] = {0};

	(void)state;
	crypto_sign_keypair(pk, sk);
	assert_true(sd_ed25519_pk_valid(pk));
	assert_false(sd_ed25519_pk_valid(zero)); /* small order */
}

static void signature_verifies_only_the_signed_bytes(void **state)
{
	unsigned char pk[32], sk[64], sig[64], other[32], osk[64];
	const char *msg = "challenge-text";

	(void)state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(other, osk);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
	assert_true(sd_ed25519_verify(sig, msg, strlen(msg), pk));
	assert_false(sd_ed25519_verify(sig, msg, strlen(msg) - 1, pk));
	assert_false(sd_ed25519_verify(sig, msg, strlen(msg), other));
	sig[0] ^= 1;
	assert_false(sd_ed25519_verify(sig, msg, strlen(msg), pk));
}

static void b64_decode_accepts_padding_or_none(void **state)
{
	unsigned char out[16];
	size_t n;

	(void)state;
	assert_int_equal(sd_b64_decode("aGk=", 4, out, sizeof out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "hi", 2);
	assert_int_equal(sd_b64_decode("aGk", 3, out, sizeof out, &n), 0);
	assert_int_equal(n, 2);
}

static void b64_decode_refuses_garbage(void **state)
{
	unsigned char out[16];
	size_t n;

	(void)state;
	assert_int_equal(sd_b64_decode("aG k=", 5, out, sizeof out, &n), -1);
	assert_int_equal(sd_b64_decode("aGk==", 5, out, sizeof out, &n), -1);
	assert_int_equal(sd_b64_decode("a$Gk", 4, out, sizeof out, &n), -1);
	assert_int_equal(sd_b64_decode("aGk-", 4, out, sizeof out, &n), -1); /* url alphabet */
	/* Too large for the buffer. */
	assert_int_equal(sd_b64_decode("aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=", 32, out, 8, &n), -1);
}

static void b64_encode_round_trip(void **state)
{
	unsigned char in[5] = {0xff, 0x00, 0x10, 0xfe, 0x7f}, out[8];
	char enc[SD_B64_LEN(5) + 1], url[SD_B64URL_LEN(5) + 1];
	size_t n;

	(void)state;
	sd_b64_encode(in, sizeof in, enc);
	assert_string_equal(enc, "/wAQ/n8=");
	sd_b64url_encode(in, sizeof in, url);
	assert_string_equal(url, "_wAQ_n8");
	assert_int_equal(sd_b64_decode(enc, strlen(enc), out, sizeof out, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, in, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(link_token_has_prefix_and_32_url_chars),
	    cmocka_unit_test(fetch_token_is_64_url_chars),
	    cmocka_unit_test(challenge_is_base64_of_32_bytes),
	    cmocka_unit_test(sha256_hex_known_vector),
	    cmocka_unit_test(token_matches_sha256_and_sha512_hashes),
	    cmocka_unit_test(ed25519_key_validation),
	    cmocka_unit_test(signature_verifies_only_the_signed_bytes),
	    cmocka_unit_test(b64_decode_accepts_padding_or_none),
	    cmocka_unit_test(b64_decode_refuses_garbage),
	    cmocka_unit_test(b64_encode_round_trip),
	};

	if (sd_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
