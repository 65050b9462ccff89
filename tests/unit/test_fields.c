/* The field table reader (api/fields.c): every type of field, missing and
 * required, of the wrong type, at and past its bounds; defaults and
 * presence flags; the first bad field is the one answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/fields.h"
#include "core/fault.h"

struct every {
	char link[SD_LINK_TOKEN_MAX + 1];
	char name[9];
	unsigned char key[4];
	int has_key;
	char blob[SD_B64_LEN(8) + 1];
	size_t blob_bytes;
	char raw[9];
	int flag;
	int64_t n, m;
	int choice;
	int64_t ids[3];
	size_t n_ids;
	struct api_cred cred;
};

/* Each test reads one row, or a few, into a struct every. */
static enum sd_err read_into(const char *body, const struct api_field *tab, size_t n,
                             struct every *out, struct sd_verr *err)
{
	memset(out, 0xAA, sizeof *out); /* what a row leaves unwritten shows */
	memset(err, 0, sizeof *err);
	return api_fields_read(body, strlen(body), tab, n, out, err);
}

static enum sd_err read_row(const char *body, const struct api_field *row, struct every *out,
                            struct sd_verr *err)
{
	return read_into(body, row, 1, out, err);
}

/* body is refused with row's 400. */
static void refused(const char *body, const struct api_field *row)
{
	struct every out;
	struct sd_verr err;

	if (read_row(body, row, &out, &err) != SD_EINVAL)
		fail_msg("accepted: %s", body);
	assert_string_equal(err.code, row->code);
	assert_string_equal(err.msg, row->msg);
	assert_int_equal(err.too_large, 0);
}

/* body is refused with row's 413. */
static void too_large(const char *body, const struct api_field *row)
{
	struct every out;
	struct sd_verr err;

	if (read_row(body, row, &out, &err) != SD_EINVAL)
		fail_msg("accepted: %s", body);
	assert_string_equal(err.code, row->big_code);
	assert_string_equal(err.msg, row->big_msg);
	assert_int_equal(err.too_large, 1);
}

static void accepted(const char *body, const struct api_field *row, struct every *out)
{
	struct sd_verr err;

	if (read_row(body, row, out, &err) != SD_OK)
		fail_msg("refused (%s): %s", err.code, body);
}

#define LINK_A "link_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void link_field(void **state)
{
	static const struct api_field strict = API_LINK_TOKEN(struct every, link);
	static const struct api_field optional = {.name = "link_token",
	                                          .type = API_LINK,
	                                          API_AT(struct every, link),
	                                          .code = "invalid",
	                                          .msg = "bad link"};
	static const char *const bad[] = {
	    "{}",
	    "{\"link_token\":null}",
	    "{\"link_token\":0}",
	    "{\"link_token\":false}",
	    "{\"link_token\":[]}",
	    "{\"link_token\":{}}",
	    "{\"link_token\":\"\"}",
	    "{\"link_token\":\"link_\"}",
	    "{\"link_token\":\"nolink\"}",
	    "{\"link_token\":\"link_bad*chars\"}",
	    "{\"link_token\":\"link_abc\\u0000def\"}",
	    "{\"link_token\":\"link_"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", /* 129 bytes */
	};
	struct every out;

	(void)state;
	accepted("{\"link_token\":\"" LINK_A "\"}", &strict, &out);
	assert_string_equal(out.link, LINK_A);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &strict);
	/* Optional: missing or null is "", anything else is still checked. */
	accepted("{}", &optional, &out);
	assert_string_equal(out.link, "");
	accepted("{\"link_token\":null}", &optional, &out);
	assert_string_equal(out.link, "");
	for (size_t i = 2; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &optional);
}

static void lenient_link_names_no_inbox(void **state)
{
	static const struct api_field row = {.name = "link_token",
	                                     .type = API_LINK,
	                                     .flags = API_REQUIRED | API_LENIENT,
	                                     API_AT(struct every, link),
	                                     .code = "invalid_link_token",
	                                     .msg = "link_token must be a non-empty string"};
	static const char *const no_inbox[] = {"\"nolink\"", "\"link_\"", "\"link_bad*chars\"",
	                                       "\"link_\\u00e9\"", "\"link_a\\u0000b\""};
	static const char *const bad[] = {"null", "0", "1.5", "true", "[]", "{}", "\"\""};
	char body[128];
	struct every out;

	(void)state;
	accepted("{\"link_token\":\"" LINK_A "\"}", &row, &out);
	assert_string_equal(out.link, LINK_A);
	for (size_t i = 0; i < SD_ARRAY_LEN(no_inbox); i++) {
		snprintf(body, sizeof body, "{\"link_token\":%s}", no_inbox[i]);
		accepted(body, &row, &out);
		assert_string_equal(out.link, "");
	}
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++) {
		snprintf(body, sizeof body, "{\"link_token\":%s}", bad[i]);
		refused(body, &row);
	}
	refused("{}", &row);
}

static int not_x(const void *v, size_t n)
{
	return n > 0 && ((const char *)v)[0] != 'x';
}

static void string_field(void **state)
{
	static const struct api_field row = {.name = "s",
	                                     .type = API_STRING,
	                                     .min = 2,
	                                     .max = 8,
	                                     .check = not_x,
	                                     API_AT(struct every, name),
	                                     .code = "invalid_s",
	                                     .msg = "s is bad"};
	static const char *const bad[] = {
	    "{\"s\":\"a\"}",   "{\"s\":\"\"}", "{\"s\":\"123456789\"}", "{\"s\":\"a\\u0000b\"}",
	    "{\"s\":\"xyz\"}", "{\"s\":5}",    "{\"s\":[\"ab\"]}",      "{\"s\":true}"};
	struct every out;

	(void)state;
	accepted("{\"s\":\"ab\"}", &row, &out);
	assert_string_equal(out.name, "ab");
	accepted("{\"s\":\"12345678\"}", &row, &out);
	assert_string_equal(out.name, "12345678");
	accepted("{\"s\":\"\\u00e9\\u00e9\"}", &row, &out); /* 4 bytes */
	assert_string_equal(out.name, "\xc3\xa9\xc3\xa9");
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &row);
	accepted("{}", &row, &out);
	assert_string_equal(out.name, "");
	accepted("{\"s\":null}", &row, &out);
	assert_string_equal(out.name, "");
}

static int not_zero(const void *v, size_t n)
{
	return memcmp(v, "\0\0\0\0", n) != 0;
}

static void key_field_and_presence(void **state)
{
	static const struct api_field row = {.name = "k",
	                                     .type = API_KEY,
	                                     .max = 4,
	                                     .check = not_zero,
	                                     API_AT(struct every, key),
	                                     API_PRESENT(struct every, has_key),
	                                     .code = "invalid_k",
	                                     .msg = "k is bad"};
	static const struct api_field required = {.name = "k",
	                                          .type = API_KEY,
	                                          .flags = API_REQUIRED,
	                                          .max = 4,
	                                          API_AT(struct every, key),
	                                          .code = "invalid_k",
	                                          .msg = "k is bad"};
	/* "AQIDBA==" is 01 02 03 04; "AAAAAA==" is four zeros. */
	static const char *const bad[] = {"{\"k\":\"AQID\"}",
	                                  "{\"k\":\"AQIDBAU=\"}",
	                                  "{\"k\":\"AAAAAA==\"}",
	                                  "{\"k\":\"not base64\"}",
	                                  "{\"k\":\"\"}",
	                                  "{\"k\":7}",
	                                  "{\"k\":[]}"};
	struct every out;

	(void)state;
	accepted("{\"k\":\"AQIDBA==\"}", &row, &out);
	assert_memory_equal(out.key, "\1\2\3\4", 4);
	assert_int_equal(out.has_key, 1);
	accepted("{\"k\":\"AQIDBA\"}", &row, &out); /* padding is optional */
	assert_memory_equal(out.key, "\1\2\3\4", 4);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &row);
	accepted("{}", &row, &out);
	assert_int_equal(out.has_key, 0);
	assert_memory_equal(out.key, "\0\0\0\0", 4);
	accepted("{\"k\":null}", &row, &out);
	assert_int_equal(out.has_key, 0);
	refused("{}", &required);
	refused("{\"k\":null}", &required);
}

/* API_NULLABLE: a null member is told apart from a missing one. */
static void nullable_field_tells_null_from_absent(void **state)
{
	static const struct api_field row = {.name = "k",
	                                     .type = API_KEY,
	                                     .flags = API_NULLABLE,
	                                     .max = 4,
	                                     API_AT(struct every, key),
	                                     API_PRESENT(struct every, has_key),
	                                     .code = "invalid_k",
	                                     .msg = "k is bad"};
	struct every out;

	(void)state;
	accepted("{\"k\":\"AQIDBA==\"}", &row, &out);
	assert_int_equal(out.has_key, 1);
	accepted("{\"k\":null}", &row, &out);
	assert_int_equal(out.has_key, API_GIVEN_NULL);
	assert_memory_equal(out.key, "\0\0\0\0", 4);
	accepted("{}", &row, &out);
	assert_int_equal(out.has_key, 0);
	refused("{\"k\":7}", &row);
}

static void blob_field_400_and_413(void **state)
{
	static const struct api_field row = {.name = "b",
	                                     .type = API_BLOB,
	                                     .flags = API_REQUIRED,
	                                     .min = 4,
	                                     .max = 8,
	                                     API_AT(struct every, blob),
	                                     API_LEN(struct every, blob_bytes),
	                                     .code = "invalid_b",
	                                     .msg = "b is bad",
	                                     .big_code = "b_too_large",
	                                     .big_msg = "b is too large"};
	static const char *const bad[] = {
	    "{}",
	    "{\"b\":null}",
	    "{\"b\":1}",
	    "{\"b\":\"\"}",
	    "{\"b\":\"AAAA\"}",          /* 3 bytes: under min */
	    "{\"b\":\"%%%%%%%%\"}",      /* not base64 */
	    "{\"b\":\"!!!!!!!!!!!!\"}",  /* 12 characters, not base64: 400, not 413 */
	    "{\"b\":\"AAAA\\u0000AAA\"}" /* a NUL */
	};
	static const char *const big[] = {
	    "{\"b\":\"AAAAAAAAAAAA\"}",     /* 9 bytes */
	    "{\"b\":\"AAAAAAAAAAAAAAAA\"}", /* too long to be 8 bytes, not decoded */
	    "{\"b\":\"%%%%%%%%%%%%%\"}",    /* so even when it is not base64 */
	};
	struct every out;

	(void)state;
	accepted("{\"b\":\"AAAAAA\"}", &row, &out); /* 4 bytes, unpadded */
	assert_string_equal(out.blob, "AAAAAA==");  /* kept padded */
	assert_int_equal(out.blob_bytes, 4);
	accepted("{\"b\":\"AQIDBAUGBwg=\"}", &row, &out);
	assert_string_equal(out.blob, "AQIDBAUGBwg=");
	assert_int_equal(out.blob_bytes, 8);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &row);
	for (size_t i = 0; i < SD_ARRAY_LEN(big); i++)
		too_large(big[i], &row);
}

static void raw_field_is_the_text_as_sent(void **state)
{
	static const struct api_field row = {.name = "m",
	                                     .type = API_RAW,
	                                     .max = 8,
	                                     API_AT(struct every, raw),
	                                     .big_code = "m_too_large",
	                                     .big_msg = "m is too large"};
	struct every out;

	(void)state;
	accepted("{\"m\": [1, 2, 3] }", &row, &out);
	assert_string_equal(out.raw, "[1,2,3]");
	accepted("{\"m\":\"abc\",\"m\":1.50}", &row, &out);
	assert_string_equal(out.raw, "1.50");
	accepted("{\"m\":\"123456\"}", &row, &out); /* 8 bytes with its quotes */
	assert_string_equal(out.raw, "\"123456\"");
	accepted("{}", &row, &out);
	assert_string_equal(out.raw, "");
	accepted("{\"m\":null}", &row, &out);
	assert_string_equal(out.raw, "");
	too_large("{\"m\":\"1234567\"}", &row);
	too_large("{\"m\":[1,2,3,4,5]}", &row);
}

static void bool_field(void **state)
{
	static const struct api_field row = {.name = "f",
	                                     .type = API_BOOL,
	                                     .dflt = 1,
	                                     API_AT(struct every, flag),
	                                     .code = "invalid_f",
	                                     .msg = "f must be true or false"};
	static const char *const bad[] = {"{\"f\":\"true\"}", "{\"f\":1}", "{\"f\":0}",
	                                  "{\"f\":[]}"};
	struct every out;

	(void)state;
	accepted("{\"f\":false}", &row, &out);
	assert_int_equal(out.flag, 0);
	accepted("{\"f\":true}", &row, &out);
	assert_int_equal(out.flag, 1);
	accepted("{}", &row, &out);
	assert_int_equal(out.flag, 1);
	accepted("{\"f\":null}", &row, &out);
	assert_int_equal(out.flag, 1);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &row);
}

static void int_field_bounds_and_types(void **state)
{
	static const struct api_field row = {.name = "n",
	                                     .type = API_INT,
	                                     .flags = API_REQUIRED,
	                                     .min = 1,
	                                     .max = 10,
	                                     API_AT(struct every, n),
	                                     .code = "invalid_n",
	                                     .msg = "n is bad"};
	static const struct api_field wide = {.name = "n",
	                                      .type = API_INT,
	                                      .min = INT64_MIN,
	                                      .max = INT64_MAX,
	                                      .dflt = 7,
	                                      API_AT(struct every, n),
	                                      .code = "invalid_n",
	                                      .msg = "n is bad"};
	static const char *const bad[] = {
	    "{}",          "{\"n\":null}", "{\"n\":0}",     "{\"n\":11}",   "{\"n\":-1}",
	    "{\"n\":5.0}", "{\"n\":1e1}",  "{\"n\":\"5\"}", "{\"n\":true}", "{\"n\":[5]}"};
	struct every out;

	(void)state;
	accepted("{\"n\":1}", &row, &out);
	assert_int_equal(out.n, 1);
	accepted("{\"n\":10}", &row, &out);
	assert_int_equal(out.n, 10);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &row);
	/* Saturated values are never taken for numbers. */
	refused("{\"n\":9223372036854775807}", &wide);
	refused("{\"n\":-9223372036854775808}", &wide);
	refused("{\"n\":9223372036854775808}", &wide);
	refused("{\"n\":99999999999999999999}", &wide);
	accepted("{\"n\":9223372036854775806}", &wide, &out);
	assert_true(out.n == INT64_MAX - 1);
	accepted("{}", &wide, &out);
	assert_int_equal(out.n, 7);
}

static void lenient_int_clamps_or_defaults(void **state)
{
	static const struct api_field row = {.name = "limit",
	                                     .type = API_INT,
	                                     .flags = API_LENIENT,
	                                     .min = 1,
	                                     .max = 200,
	                                     .dflt = 50,
	                                     API_AT(struct every, n)};
	static const struct {
		const char *value;
		int64_t want;
	} cases[] = {
	    {"500", 200},
	    {"20", 20},
	    {"0", 1},
	    {"-5", 1},
	    {"\"20\"", 20},
	    {"\"0\"", 1},
	    {"\"99999999999999999999999\"", 200},
	    {"99999999999999999999999", 200},
	    {"-99999999999999999999", 1},
	    {"5.0", 50},
	    {"1.5", 50},
	    {"true", 50},
	    {"null", 50},
	    {"\"\"", 50},
	    {"\"2x\"", 50},
	    {"\"-5\"", 50},
	    {"\" 5\"", 50},
	    {"\"2.5\"", 50},
	    {"[1]", 50},
	    {"{}", 50},
	};
	char body[96];
	struct every out;

	(void)state;
	for (size_t i = 0; i < SD_ARRAY_LEN(cases); i++) {
		snprintf(body, sizeof body, "{\"limit\":%s}", cases[i].value);
		accepted(body, &row, &out);
		if (out.n != cases[i].want)
			fail_msg("limit %s: %lld", cases[i].value, (long long)out.n);
	}
	accepted("{}", &row, &out);
	assert_int_equal(out.n, 50);
}

static const char *const actions[] = {"reject", "accept", NULL};

static void enum_field(void **state)
{
	static const struct api_field strict = {.name = "a",
	                                        .type = API_ENUM,
	                                        .flags = API_REQUIRED,
	                                        .choices = actions,
	                                        API_AT(struct every, choice),
	                                        .code = "invalid_a",
	                                        .msg = "a is bad"};
	static const struct api_field lenient = {.name = "a",
	                                         .type = API_ENUM,
	                                         .flags = API_LENIENT | API_CASELESS,
	                                         .dflt = 0,
	                                         .choices = actions,
	                                         API_AT(struct every, choice)};
	static const char *const bad[] = {"ACCEPT", "Accept",        "accept ", " reject",
	                                  "",       "accept\\u0000", "acc"};
	static const char *const other[] = {"1", "true", "null", "[\"accept\"]", "{}"};
	char body[64];
	struct every out;

	(void)state;
	accepted("{\"a\":\"accept\"}", &strict, &out);
	assert_int_equal(out.choice, 1);
	accepted("{\"a\":\"reject\"}", &strict, &out);
	assert_int_equal(out.choice, 0);
	refused("{}", &strict);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++) {
		snprintf(body, sizeof body, "{\"a\":\"%s\"}", bad[i]);
		refused(body, &strict);
	}
	for (size_t i = 0; i < SD_ARRAY_LEN(other); i++) {
		snprintf(body, sizeof body, "{\"a\":%s}", other[i]);
		refused(body, &strict);
		accepted(body, &lenient, &out);
		assert_int_equal(out.choice, 0);
	}
	accepted("{\"a\":\"ACCEPT\"}", &lenient, &out);
	assert_int_equal(out.choice, 1);
	accepted("{\"a\":\"accept \"}", &lenient, &out);
	assert_int_equal(out.choice, 0);
}

static void ids_sorted_distinct_bounded(void **state)
{
	static const struct api_field row = {.name = "ids",
	                                     .type = API_IDS,
	                                     .flags = API_REQUIRED,
	                                     .max = 3,
	                                     API_AT(struct every, ids),
	                                     API_LEN(struct every, n_ids),
	                                     .code = "invalid_ids",
	                                     .msg = "ids is bad"};
	static const char *const bad[] = {
	    "{}",
	    "{\"ids\":null}",
	    "{\"ids\":\"1\"}",
	    "{\"ids\":1}",
	    "{\"ids\":[0]}",
	    "{\"ids\":[-1]}",
	    "{\"ids\":[1.5]}",
	    "{\"ids\":[\"1\"]}",
	    "{\"ids\":[null]}",
	    "{\"ids\":[[1]]}",
	    "{\"ids\":[9223372036854775807]}",
	    "{\"ids\":[9223372036854775808]}",
	    "{\"ids\":[1,2,3,4]}",
	    "{\"ids\":[1,1,1,1]}", /* counted as sent */
	};
	struct every out;

	(void)state;
	accepted("{\"ids\":[3,1,3]}", &row, &out);
	assert_int_equal(out.n_ids, 2);
	assert_int_equal(out.ids[0], 1);
	assert_int_equal(out.ids[1], 3);
	accepted("{\"ids\":[]}", &row, &out);
	assert_int_equal(out.n_ids, 0);
	accepted("{\"ids\":[9223372036854775806,2,1]}", &row, &out);
	assert_int_equal(out.n_ids, 3);
	assert_true(out.ids[2] == INT64_MAX - 1);
	for (size_t i = 0; i < SD_ARRAY_LEN(bad); i++)
		refused(bad[i], &row);
}

static void credential_is_recorded_never_refused(void **state)
{
	static const struct api_field row = {
	    .name = "c", .type = API_CREDENTIAL, .max = 4, API_AT(struct every, cred)};
	static const struct {
		const char *body;
		int given, usable;
	} cases[] = {
	    {"{}", 0, 0},
	    {"{\"c\":null}", 0, 0},
	    {"{\"c\":\"abcd\"}", 1, 1},
	    {"{\"c\":\"abcde\"}", 1, 0},
	    {"{\"c\":\"\"}", 1, 0},
	    {"{\"c\":\"a\\u0000b\"}", 1, 0},
	    {"{\"c\":5}", 1, 0},
	    {"{\"c\":[\"abc\"]}", 1, 0},
	    {"{\"c\":{}}", 1, 0},
	};
	struct every out;

	(void)state;
	for (size_t i = 0; i < SD_ARRAY_LEN(cases); i++) {
		accepted(cases[i].body, &row, &out);
		assert_int_equal(out.cred.given, cases[i].given);
		assert_int_equal(out.cred.usable, cases[i].usable);
	}
	accepted("{\"c\":\"ab\"}", &row, &out);
	assert_string_equal(out.cred.text, "ab");
	assert_int_equal(out.cred.len, 2);
}

static const struct api_field two[] = {
    {.name = "a",
     .type = API_INT,
     .flags = API_REQUIRED,
     .min = 1,
     .max = 9,
     API_AT(struct every, n),
     .code = "invalid_a",
     .msg = "a is bad"},
    {.name = "b",
     .type = API_RAW,
     .max = 8,
     API_AT(struct every, raw),
     .big_code = "b_too_large",
     .big_msg = "b is too large"},
    {.name = "c", .type = API_CREDENTIAL, .max = 4, API_AT(struct every, cred)},
};

static void first_bad_field_wins(void **state)
{
	struct every out;
	struct sd_verr err;

	(void)state;
	/* Members in any order: the table's order decides. */
	assert_int_equal(read_into("{\"b\":[1,2,3,4,5],\"a\":0}", two, 3, &out, &err), SD_EINVAL);
	assert_string_equal(err.code, "invalid_a");
	assert_int_equal(err.too_large, 0);
	assert_int_equal(read_into("{\"b\":[1,2,3,4,5],\"a\":1}", two, 3, &out, &err), SD_EINVAL);
	assert_string_equal(err.code, "b_too_large");
	assert_int_equal(err.too_large, 1);
	assert_int_equal(read_into("{\"c\":5,\"b\":1,\"a\":2}", two, 3, &out, &err), SD_OK);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.raw, "1");
	assert_int_equal(out.cred.given, 1);
	/* Unknown members are ignored. */
	assert_int_equal(read_into("{\"a\":3,\"zz\":[{}]}", two, 3, &out, &err), SD_OK);
	assert_int_equal(out.n, 3);
}

static void every_row_writes_its_default(void **state)
{
	static const struct api_field rows[] = {
	    {.name = "l", .type = API_LINK, API_AT(struct every, link)},
	    {.name = "s", .type = API_STRING, .max = 8, API_AT(struct every, name)},
	    {.name = "k",
	     .type = API_KEY,
	     .max = 4,
	     API_AT(struct every, key),
	     API_PRESENT(struct every, has_key)},
	    {.name = "b",
	     .type = API_BLOB,
	     .max = 8,
	     API_AT(struct every, blob),
	     API_LEN(struct every, blob_bytes)},
	    {.name = "r", .type = API_RAW, .max = 8, API_AT(struct every, raw)},
	    {.name = "f", .type = API_BOOL, API_AT(struct every, flag)},
	    {.name = "n", .type = API_INT, .min = 0, .max = 9, .dflt = 3, API_AT(struct every, n)},
	    {.name = "e",
	     .type = API_ENUM,
	     .choices = actions,
	     .dflt = 1,
	     API_AT(struct every, choice)},
	    {.name = "i",
	     .type = API_IDS,
	     .max = 3,
	     API_AT(struct every, ids),
	     API_LEN(struct every, n_ids)},
	    {.name = "c", .type = API_CREDENTIAL, .max = 4, API_AT(struct every, cred)},
	};
	struct every out;
	struct sd_verr err;

	(void)state;
	assert_int_equal(read_into("{}", rows, SD_ARRAY_LEN(rows), &out, &err), SD_OK);
	assert_string_equal(out.link, "");
	assert_string_equal(out.name, "");
	assert_memory_equal(out.key, "\0\0\0\0", 4);
	assert_int_equal(out.has_key, 0);
	assert_string_equal(out.blob, "");
	assert_int_equal(out.blob_bytes, 0);
	assert_string_equal(out.raw, "");
	assert_int_equal(out.flag, 0);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.choice, 1);
	assert_int_equal(out.n_ids, 0);
	assert_int_equal(out.cred.given, 0);
	assert_int_equal(out.cred.usable, 0);
}

static void unless_skips_a_field(void **state)
{
	static const struct api_field rows[] = {
	    {.name = "since",
	     .type = API_INT,
	     .min = 0,
	     .max = 9,
	     API_AT(struct every, m),
	     .code = "invalid_since",
	     .msg = "since is bad"},
	    {.name = "before",
	     .type = API_INT,
	     .min = 1,
	     .max = 9,
	     .dflt = 99,
	     .unless = "since",
	     API_AT(struct every, n),
	     .code = "invalid_before",
	     .msg = "before is bad"},
	};
	struct every out;
	struct sd_verr err;

	(void)state;
	assert_int_equal(read_into("{\"since\":2,\"before\":\"junk\"}", rows, 2, &out, &err),
	                 SD_OK);
	assert_int_equal(out.n, 99); /* not even checked */
	assert_int_equal(out.m, 2);
	assert_int_equal(read_into("{\"since\":0,\"before\":-1}", rows, 2, &out, &err), SD_OK);
	assert_int_equal(out.n, 99);
	assert_int_equal(read_into("{\"since\":null,\"before\":\"junk\"}", rows, 2, &out, &err),
	                 SD_EINVAL);
	assert_string_equal(err.code, "invalid_before");
	assert_int_equal(read_into("{\"before\":5}", rows, 2, &out, &err), SD_OK);
	assert_int_equal(out.n, 5);
	assert_int_equal(read_into("{\"since\":-1,\"before\":5}", rows, 2, &out, &err), SD_EINVAL);
	assert_string_equal(err.code, "invalid_since");
}

static void bodies_that_are_not_objects(void **state)
{
	struct every out;
	struct sd_verr err;

	(void)state;
	assert_int_equal(read_into("{\"a\":1", two, 3, &out, &err), SD_EINVAL);
	assert_string_equal(err.code, "invalid_json");
	assert_int_equal(read_into("[{\"a\":1}]", two, 3, &out, &err), SD_EINVAL);
	assert_string_equal(err.code, "invalid_body");
	assert_int_equal(read_into("", two, 3, &out, &err), SD_EINVAL);
	assert_string_equal(err.code, "invalid_json");
}

/* The request is answered with 400 or 413 as the row says, or not at all. */
static int reply_status(const char *body, const char **code)
{
	static char seen[64];
	struct sd_req req = {
	    .method = "POST", .path = "/t", .body = body, .body_len = strlen(body)};
	struct sd_resp resp = {.status = 0};
	struct sd_ctx ctx = {.req = &req, .resp = &resp};
	struct every out;
	int rc = api_fields_or_reply(&ctx, two, SD_ARRAY_LEN(two), &out);
	const char *c = resp.body.data ? strstr(resp.body.data, "\"code\":\"") : NULL;

	seen[0] = '\0';
	if (c != NULL)
		snprintf(seen, sizeof seen, "%.*s", (int)strcspn(c + 8, "\""), c + 8);
	*code = seen;
	sd_buf_free(&resp.body);
	assert_int_equal(rc, resp.status == 0 ? 0 : -1);
	return resp.status;
}

static void or_reply_answers_400_or_413(void **state)
{
	const char *code;

	(void)state;
	assert_int_equal(reply_status("{\"a\":1}", &code), 0);
	assert_int_equal(reply_status("{\"a\":10}", &code), 400);
	assert_string_equal(code, "invalid_a");
	assert_int_equal(reply_status("{\"a\":1,\"b\":\"1234567890\"}", &code), 413);
	assert_string_equal(code, "b_too_large");
	assert_int_equal(reply_status("nope", &code), 400);
	assert_string_equal(code, "invalid_json");
}

#ifdef SD_FAULT_INJECTION
static void no_memory_is_not_a_client_error(void **state)
{
	static const struct api_field row = {.name = "b",
	                                     .type = API_BLOB,
	                                     .max = 8,
	                                     API_AT(struct every, blob),
	                                     API_LEN(struct every, blob_bytes),
	                                     .code = "invalid_b",
	                                     .msg = "b is bad"};
	struct every out;
	struct sd_verr err;

	(void)state;
	sd_fault_arm(SD_FAULT_ALLOC, 1, 0);
	assert_int_equal(read_row("{\"b\":\"AAAAAA==\"}", &row, &out, &err), SD_ENOMEM);
	sd_fault_arm(SD_FAULT_ALLOC, 0, 0);
	assert_int_equal(read_row("{\"b\":\"AAAAAA==\"}", &row, &out, &err), SD_OK);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(link_field),
	    cmocka_unit_test(nullable_field_tells_null_from_absent),
	    cmocka_unit_test(lenient_link_names_no_inbox),
	    cmocka_unit_test(string_field),
	    cmocka_unit_test(key_field_and_presence),
	    cmocka_unit_test(blob_field_400_and_413),
	    cmocka_unit_test(raw_field_is_the_text_as_sent),
	    cmocka_unit_test(bool_field),
	    cmocka_unit_test(int_field_bounds_and_types),
	    cmocka_unit_test(lenient_int_clamps_or_defaults),
	    cmocka_unit_test(enum_field),
	    cmocka_unit_test(ids_sorted_distinct_bounded),
	    cmocka_unit_test(credential_is_recorded_never_refused),
	    cmocka_unit_test(first_bad_field_wins),
	    cmocka_unit_test(every_row_writes_its_default),
	    cmocka_unit_test(unless_skips_a_field),
	    cmocka_unit_test(bodies_that_are_not_objects),
	    cmocka_unit_test(or_reply_answers_400_or_413),
#ifdef SD_FAULT_INJECTION
	    cmocka_unit_test(no_memory_is_not_a_client_error),
#endif
	};

	return cmocka_run_group_tests_name("fields", tests, NULL, NULL);
}
