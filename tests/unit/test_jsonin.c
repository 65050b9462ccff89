/* The JSON gate: parse limits, and a member's text as sent. Typed fields:
 * test_fields.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonin.h"

static json_object *parse(const char *s, struct sd_verr *err)
{
	return sd_json_parse_object(s, strlen(s), err);
}

static void object_parses(void **state)
{
	struct sd_verr err;
	json_object *o = parse("{\"a\": 1}\n", &err);

	(void)state;
	assert_non_null(o);
	json_object_put(o);
	o = parse("{\"x\":[1e3,2.5E-2,-0,true,false,null,\"e'\\\"\"]}", &err);
	assert_non_null(o);
	json_object_put(o);
}

static void non_objects_are_invalid_body(void **state)
{
	static const char *const bodies[] = {"[]", "1", "\"s\"", "null", "true"};
	struct sd_verr err;

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		assert_null(parse(bodies[i], &err));
		assert_string_equal(err.code, "invalid_body");
	}
}

static void malformed_json_is_invalid_json(void **state)
{
	static const char *const bodies[] = {"",
	                                     "{",
	                                     "{\"a\":}",
	                                     "{'a':1}",
	                                     "{\"a\":1} x",
	                                     "{\"a\":1}{}",
	                                     "{\"a\":01}",
	                                     "{\"a\":NaN}",
	                                     "{\"a\":nan}",
	                                     "{\"a\":Infinity}",
	                                     "{\"a\":tru}",
	                                     "{\"a\":1}/*c*/",
	                                     "{\"a\":\"unterminated}"};
	struct sd_verr err;

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		assert_null(parse(bodies[i], &err));
		assert_string_equal(err.code, "invalid_json");
	}
}

static void invalid_utf8_and_nul_refused(void **state)
{
	struct sd_verr err;
	const char nul[] = "{\"a\":\"x\0y\"}";

	(void)state;
	assert_null(parse("{\"a\":\"\xc3\x28\"}", &err));
	assert_string_equal(err.code, "invalid_json");
	assert_null(sd_json_parse_object(nul, sizeof nul - 1, &err));
	assert_string_equal(err.code, "invalid_json");
}

/* RFC 3629: what json-c's own check lets through is refused too. */
static void utf8_is_checked_as_rfc_3629_defines_it(void **state)
{
	static const char *const bad[] = {
	    "\xc0\xaf",         /* overlong '/' */
	    "\xe0\x80\xaf",     /* overlong, 3 bytes */
	    "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
	    "\xed\xa0\x80",     /* a surrogate */
	    "\xf4\x90\x80\x80", /* above U+10FFFF */
	    "\xf5\x80\x80\x80", /* never a lead byte */
	    "\x80",             /* a lone continuation */
	    "\xe2\x82",         /* cut short */
	};
	static const char *const good[] = {
	    "\xc2\x80",         "\xdf\xbf",         "\xe0\xa0\x80",
	    "\xed\x9f\xbf",     "\xee\x80\x80",     "\xef\xbf\xbf",
	    "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "Zo\xc3\xab \xe2\x9c\x93",
	};
	struct sd_verr err;
	char body[64];
	json_object *o;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(sd_utf8_valid(bad[i], strlen(bad[i])));
		snprintf(body, sizeof body, "{\"a\":\"%s\"}", bad[i]);
		assert_null(parse(body, &err));
		assert_string_equal(err.code, "invalid_json");
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_true(sd_utf8_valid(good[i], strlen(good[i])));
		snprintf(body, sizeof body, "{\"a\":\"%s\"}", good[i]);
		assert_non_null(o = parse(body, &err));
		json_object_put(o);
	}
}

static void deep_nesting_refused(void **state)
{
	struct sd_verr err;
	size_t depth = 10000;
	char *s = malloc(2 * depth + 8);

	(void)state;
	strcpy(s, "{\"a\":");
	memset(s + 5, '[', depth);
	memset(s + 5 + depth, ']', depth);
	strcpy(s + 5 + 2 * depth, "}");
	assert_null(parse(s, &err));
	assert_string_equal(err.code, "invalid_json");
	free(s);
}

/* sd_field_raw over a body the parser accepted, as the handlers call it. */
static enum sd_field_rc raw(const char *body, const char *name, char *out, size_t cap)
{
	struct sd_verr err;
	json_object *o = parse(body, &err);
	size_t n = 0;
	enum sd_field_rc rc;

	assert_non_null(o);
	json_object_put(o);
	memset(out, 'Z', cap);
	rc = sd_field_raw(body, strlen(body), name, out, cap, &n);
	if (rc == SD_FIELD_OK)
		assert_int_equal(n, strlen(out));
	if (rc == SD_FIELD_ABSENT && out[0] != 'Z')
		assert_string_equal(out, ""); /* a null leaves nothing behind */
	return rc;
}

static void raw_field_is_the_text_as_sent(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
	    {"{\"m\":{\"k\":\"v\"}}", "{\"k\":\"v\"}"},
	    {" { \"a\" : 1 , \"m\" : [ \"i 1\" , \"i2\" ] , \"b\":2 } ", "[\"i 1\",\"i2\"]"},
	    {"{\"m\":\"a string\"}", "\"a string\""},
	    {"{\"m\":\"\"}", "\"\""},
	    {"{\"m\":-1.50e+3}", "-1.50e+3"},
	    {"{\"m\":123456789012345678901234567890}", "123456789012345678901234567890"},
	    {"{\"m\":false}", "false"},
	    {"{\"m\":[]}", "[]"},
	    {"{\"m\":{}}", "{}"},
	    {"{\"m\":\"\\u00e9\\/ \\\" ]}\"}", "\"\\u00e9\\/ \\\" ]}\""},
	    {"{\"m\":1,\"m\":[2]}", "[2]"},
	    {"{\"\\u006d\":3}", "3"},
	    {"{\"x\":{\"m\":1},\"m\":\t\r\n[\n1 ,\n{ \"m\" : null } ]}", "[1,{\"m\":null}]"},
	    {"{\"x\":\"\\\"m\\\":1\",\"m\":true}", "true"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(raw(cases[i].body, "m", out, sizeof out), SD_FIELD_OK);
		assert_string_equal(out, cases[i].want);
	}
}

static void raw_field_absent_null_and_too_large(void **state)
{
	static const char *const absent[] = {"{}",
	                                     "{\"x\":1}",
	                                     "{\"m\":null}",
	                                     "{\"m\" : null }",
	                                     "{\"m\":1,\"m\":null}",
	                                     "{\"mm\":1,\"M\":2}",
	                                     "{\"x\":{\"m\":1}}",
	                                     "{\"\\u006d\\u0000\":1}"};
	char out[8];

	(void)state;
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		assert_int_equal(raw(absent[i], "m", out, sizeof out), SD_FIELD_ABSENT);
	/* cap 8: up to 7 bytes fit, blanks between tokens do not count. */
	assert_int_equal(raw("{\"m\":[1, 2, 3, 4]}", "m", out, sizeof out), SD_FIELD_BAD);
	assert_int_equal(raw("{\"m\":[1, 2, 3 ]}", "m", out, sizeof out), SD_FIELD_OK);
	assert_string_equal(out, "[1,2,3]");
	assert_int_equal(raw("{\"m\":\"12345\"}", "m", out, sizeof out), SD_FIELD_OK);
	assert_int_equal(raw("{\"m\":\"123456\"}", "m", out, sizeof out), SD_FIELD_BAD);
}

static void verr_size_flag(void **state)
{
	struct sd_verr err;

	(void)state;
	sd_verr_too_large(&err, "payload_too_large", "big");
	assert_string_equal(err.code, "payload_too_large");
	assert_string_equal(err.msg, "big");
	assert_int_equal(err.too_large, 1);
	sd_verr_set(&err, "invalid_json", "x");
	assert_int_equal(err.too_large, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(object_parses),
	    cmocka_unit_test(non_objects_are_invalid_body),
	    cmocka_unit_test(malformed_json_is_invalid_json),
	    cmocka_unit_test(invalid_utf8_and_nul_refused),
	    cmocka_unit_test(utf8_is_checked_as_rfc_3629_defines_it),
	    cmocka_unit_test(deep_nesting_refused),
	    cmocka_unit_test(raw_field_is_the_text_as_sent),
	    cmocka_unit_test(raw_field_absent_null_and_too_large),
	    cmocka_unit_test(verr_size_flag),
	};

	return cmocka_run_group_tests_name("jsonin", tests, NULL, NULL);
}
