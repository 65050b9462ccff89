/* The JSON gate: parse limits and typed fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
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

static void string_field_types(void **state)
{
	struct sd_verr err;
	json_object *o = parse("{\"s\":\"abc\",\"n\":0,\"f\":false,\"z\":null,\"e\":\"\","
	                       "\"u\":\"a\\u0000b\"}",
	                       &err);
	const char *v;
	size_t n;

	(void)state;
	assert_non_null(o);
	assert_int_equal(sd_field_string(o, "s", 1, 10, &v, &n, &err), SD_FIELD_OK);
	assert_string_equal(v, "abc");
	assert_int_equal(n, 3);
	assert_int_equal(sd_field_string(o, "s", 1, 2, &v, &n, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_string(o, "n", 1, 10, &v, &n, &err), SD_FIELD_BAD);
	assert_string_equal(err.code, "invalid_n");
	assert_int_equal(sd_field_string(o, "f", 1, 10, &v, &n, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_string(o, "z", 1, 10, &v, &n, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_string(o, "z", 0, 10, &v, &n, &err), SD_FIELD_ABSENT);
	assert_int_equal(sd_field_string(o, "e", 1, 10, &v, &n, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_string(o, "u", 1, 10, &v, &n, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_string(o, "missing", 1, 10, &v, &n, &err), SD_FIELD_BAD);
	assert_string_equal(err.code, "invalid_missing");
	assert_int_equal(sd_field_string(o, "missing", 0, 10, &v, &n, &err), SD_FIELD_ABSENT);
	json_object_put(o);
}

static void int_field_bounds_and_types(void **state)
{
	struct sd_verr err;
	json_object *o = parse("{\"a\":5,\"b\":5.0,\"c\":\"5\",\"d\":-1,"
	                       "\"e\":99999999999999999999,\"f\":9223372036854775807,\"g\":true}",
	                       &err);
	int64_t v;

	(void)state;
	assert_non_null(o);
	assert_int_equal(sd_field_int(o, "a", 1, 1, 10, &v, &err), SD_FIELD_OK);
	assert_int_equal(v, 5);
	assert_int_equal(sd_field_int(o, "a", 1, 6, 10, &v, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_int(o, "b", 1, 1, 10, &v, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_int(o, "c", 1, 1, 10, &v, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_int(o, "d", 1, 0, 10, &v, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_int(o, "f", 1, 0, INT64_MAX, &v, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_int(o, "g", 1, 0, 10, &v, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_int(o, "x", 0, 0, 10, &v, &err), SD_FIELD_ABSENT);
	json_object_put(o);
	/* Beyond 64 bits is refused by the parser or by the range check. */
	o = parse("{\"e\":99999999999999999999}", &err);
	if (o != NULL) {
		assert_int_equal(sd_field_int(o, "e", 1, 0, INT64_MAX - 1, &v, &err), SD_FIELD_BAD);
		json_object_put(o);
	}
}

static void bool_and_object_fields(void **state)
{
	struct sd_verr err;
	json_object *o = parse("{\"t\":true,\"n\":1,\"m\":{\"k\":1},\"a\":[]}", &err), *m;
	int b = 0;

	(void)state;
	assert_non_null(o);
	assert_int_equal(sd_field_bool(o, "t", &b, &err), SD_FIELD_OK);
	assert_int_equal(b, 1);
	assert_int_equal(sd_field_bool(o, "n", &b, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_object(o, "m", &m, &err), SD_FIELD_OK);
	assert_int_equal(sd_field_object(o, "a", &m, &err), SD_FIELD_BAD);
	assert_int_equal(sd_field_object(o, "none", &m, &err), SD_FIELD_ABSENT);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(object_parses),
	    cmocka_unit_test(non_objects_are_invalid_body),
	    cmocka_unit_test(malformed_json_is_invalid_json),
	    cmocka_unit_test(invalid_utf8_and_nul_refused),
	    cmocka_unit_test(deep_nesting_refused),
	    cmocka_unit_test(string_field_types),
	    cmocka_unit_test(int_field_bounds_and_types),
	    cmocka_unit_test(bool_and_object_fields),
	};

	return cmocka_run_group_tests_name("jsonin", tests, NULL, NULL);
}
