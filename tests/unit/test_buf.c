/* The response writer: JSON escaping, integers, timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/timeutil.h"

static void json_str_escapes_what_json_requires(void **state)
{
	struct sd_buf b = {0};
	const char in[] = "a\"b\\c\nd\te\x01\x1f\x7f\xc3\xa9";

	(void)state;
	sd_json_str(&b, in, sizeof in - 1);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\x7f\xc3\xa9\"");
	sd_buf_free(&b);
}

static void json_str_round_trips_through_a_parser(void **state)
{
	struct sd_buf b = {0};
	char in[256];
	json_object *o;

	(void)state;
	for (int i = 0; i < 255; i++)
		in[i] = (char)(i + 1 < 128 ? i + 1 : 'x'); /* every ASCII byte, as UTF-8 */
	sd_json_str(&b, in, 255);
	o = json_tokener_parse(b.data);
	assert_non_null(o);
	assert_int_equal(json_object_get_string_len(o), 255);
	assert_memory_equal(json_object_get_string(o), in, 255);
	json_object_put(o);
	sd_buf_free(&b);
}

/* The escaping one byte at a time, as JSON (RFC 8259) asks for it. */
static void escape_by_byte(struct sd_buf *b, const unsigned char *s, size_t n)
{
	sd_buf_puts(b, "\"");
	for (size_t i = 0; i < n; i++) {
		char one[8];

		if (s[i] == '"' || s[i] == '\\')
			snprintf(one, sizeof one, "\\%c", s[i]);
		else if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
			snprintf(one, sizeof one, "\\%c",
			         s[i] == '\n'   ? 'n'
			         : s[i] == '\r' ? 'r'
			                        : 't');
		else if (s[i] < 0x20)
			snprintf(one, sizeof one, "\\u%04x", s[i]);
		else
			snprintf(one, sizeof one, "%c", s[i]);
		sd_buf_puts(b, one);
	}
	sd_buf_puts(b, "\"");
}

/* Whole words are skipped when nothing in them needs escaping: every byte
 * that does, and its neighbours, at every offset in and across words. */
static void json_str_finds_an_escape_at_any_offset(void **state)
{
	static const unsigned char odd[] = {0x00, 0x01, 0x1f, 0x20, '"',  '\\', 0x21, 0x5b,
	                                    0x5d, 0x7f, 0x80, 0x9f, 0xa2, 0xdc, 0xff};
	unsigned char in[40];
	struct sd_buf got = {0}, want = {0};

	(void)state;
	for (size_t k = 0; k < sizeof odd; k++)
		for (size_t len = 1; len <= sizeof in; len++)
			for (size_t at = 0; at < len; at++) {
				memset(in, 'Q', len);
				in[at] = odd[k];
				if (at + 9 < len)
					in[at + 9] = odd[(k + 1) % sizeof odd];
				sd_buf_reset(&got);
				sd_buf_reset(&want);
				sd_json_str(&got, (const char *)in, len);
				escape_by_byte(&want, in, len);
				assert_int_equal(got.len, want.len);
				assert_memory_equal(got.data, want.data, want.len);
			}
	sd_buf_free(&got);
	sd_buf_free(&want);
}

static void json_int_extremes(void **state)
{
	struct sd_buf b = {0};

	(void)state;
	sd_json_int(&b, 0);
	sd_buf_puts(&b, " ");
	sd_json_int(&b, -42);
	sd_buf_puts(&b, " ");
	sd_json_int(&b, INT64_MAX);
	sd_buf_puts(&b, " ");
	sd_json_int(&b, INT64_MIN);
	assert_string_equal(b.data, "0 -42 9223372036854775807 -9223372036854775808");
	sd_buf_free(&b);
}

static void iso8601_matches_gmtime(void **state)
{
	char mine[SD_ISO8601_LEN + 1], ref[32];
	time_t fixed[] = {0,
	                  59,
	                  86399,
	                  86400,
	                  951782400 /* 2000-02-29 */,
	                  1700000000,
	                  4102444799 /* 2099-12-31 */,
	                  253402300799};

	(void)state;
	srand(7);
	for (size_t i = 0; i < 20000; i++) {
		time_t t = i < sizeof fixed / sizeof fixed[0]
		               ? fixed[i]
		               : (time_t)(((int64_t)rand() << 16 ^ rand()) % 253402300800LL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%SZ", &tm);
		sd_iso8601(t, mine);
		assert_string_equal(mine, ref);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(json_str_escapes_what_json_requires),
	    cmocka_unit_test(json_str_round_trips_through_a_parser),
	    cmocka_unit_test(json_str_finds_an_escape_at_any_offset),
	    cmocka_unit_test(json_int_extremes),
	    cmocka_unit_test(iso8601_matches_gmtime),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
