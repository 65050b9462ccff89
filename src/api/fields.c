#include "api/fields.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_util.h"
#include "core/b64.h"
#include "core/fault.h"

/* How reading one value ended. */
enum value_rc { VALUE_OK, VALUE_BAD, VALUE_TOO_LARGE, VALUE_NOMEM };

/* The whole body, for API_RAW (the text as sent, not the parsed value). */
struct body_text {
	const char *s;
	size_t len;
};

static void put_int(char *at, int v)
{
	memcpy(at, &v, sizeof v);
}

static void put_i64(char *at, int64_t v)
{
	memcpy(at, &v, sizeof v);
}

static void put_size(char *at, size_t v)
{
	memcpy(at, &v, sizeof v);
}

/* max as a byte count, with room for `extra`; SIZE_MAX when it is none. */
static size_t bytes(const struct api_field *f, size_t each, size_t extra)
{
	return f->max >= 0 && f->max <= INT32_MAX ? (size_t)f->max * each + extra : SIZE_MAX;
}

/* How many bytes a row writes at its offset. */
static size_t value_size(const struct api_field *f)
{
	switch (f->type) {
	case API_LINK:
		return SD_LINK_TOKEN_MAX + 1;
	case API_STRING:
	case API_RAW:
		return bytes(f, 1, 1);
	case API_KEY:
		return bytes(f, 1, 0);
	case API_BLOB:
		return bytes(f, 1, 0) == SIZE_MAX ? SIZE_MAX : SD_B64_LEN((size_t)f->max) + 1;
	case API_BOOL:
	case API_ENUM:
		return sizeof(int);
	case API_INT:
	case API_FLAGS:
		return sizeof(int64_t);
	case API_IDS:
		return bytes(f, sizeof(int64_t), 0);
	case API_CREDENTIAL:
		return f->max > 0 && f->max <= API_CRED_MAX ? sizeof(struct api_cred) : SIZE_MAX;
	}
	return SIZE_MAX;
}

/* A row whose member cannot hold what it writes is the programmer's error:
 * asserted in debug builds, refused (never overflowed) in release. */
static int row_fits(const struct api_field *f)
{
	return SD_ALWAYS(value_size(f) <= f->size &&
	                 ((f->type != API_ENUM && f->type != API_FLAGS) || f->choices != NULL));
}

/* The member `name` of the body, or NULL when it is missing or null. */
static json_object *member(json_object *root, const char *name)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(root, name, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* 1 when the body has member `name` and it is null. */
static int given_null(json_object *root, const char *name)
{
	json_object *v = NULL;

	return json_object_object_get_ex(root, name, &v) && json_object_is_type(v, json_type_null);
}

static int string_of(json_object *v, const char **s, size_t *n)
{
	if (!json_object_is_type(v, json_type_string))
		return 0;
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	return 1;
}

static void put_text(char *at, const char *s, size_t n)
{
	memcpy(at, s, n);
	at[n] = '\0';
}

/* What a row reads as when the field is not given (or not read). */
static void put_default(const struct api_field *f, char *out)
{
	char *at = out + f->off;

	switch (f->type) {
	case API_BOOL:
	case API_ENUM:
		put_int(at, (int)f->dflt);
		break;
	case API_INT:
	case API_FLAGS:
		put_i64(at, f->dflt);
		break;
	case API_KEY:
	case API_CREDENTIAL:
		memset(at, 0, value_size(f));
		break;
	case API_IDS:
		put_size(out + f->len_off, 0);
		break;
	case API_BLOB:
		put_size(out + f->len_off, 0);
		at[0] = '\0';
		break;
	case API_LINK:
	case API_STRING:
	case API_RAW:
		at[0] = '\0';
		break;
	}
}

static enum value_rc read_link(const struct api_field *f, json_object *v, char *at)
{
	const char *s;
	size_t n;

	if (!string_of(v, &s, &n) || n == 0)
		return VALUE_BAD;
	if (!api_link_token_valid(s, n)) {
		if (!(f->flags & API_LENIENT))
			return VALUE_BAD;
		n = 0; /* a string that no inbox can have */
	}
	put_text(at, s, n);
	return VALUE_OK;
}

static enum value_rc read_string(const struct api_field *f, json_object *v, char *at)
{
	const char *s;
	size_t n;

	if (!string_of(v, &s, &n) || n < (size_t)f->min || n > (size_t)f->max ||
	    memchr(s, '\0', n) != NULL || (f->check != NULL && !f->check(s, n)))
		return VALUE_BAD;
	put_text(at, s, n);
	return VALUE_OK;
}

static enum value_rc read_key(const struct api_field *f, json_object *v, char *at)
{
	unsigned char *key = (unsigned char *)at;
	const char *s;
	size_t n, got;

	if (!string_of(v, &s, &n) || sd_b64_decode(s, n, key, (size_t)f->max, &got) != 0 ||
	    got != (size_t)f->max || (f->check != NULL && !f->check(key, got)))
		return VALUE_BAD;
	return VALUE_OK;
}

/* Decoded into a scratch buffer to learn its size, then kept in the one
 * canonical spelling. Over max is a size error (413), both before decoding
 * (text too long to fit) and after. */
static enum value_rc read_blob(const struct api_field *f, json_object *v, char *out)
{
	size_t max = (size_t)f->max, n, got;
	unsigned char *bytes;
	const char *s;
	enum value_rc rc = VALUE_BAD;

	if (!string_of(v, &s, &n) || n == 0 || memchr(s, '\0', n) != NULL)
		return VALUE_BAD;
	if (n > SD_B64_LEN(max))
		return VALUE_TOO_LARGE;
	/* A text of SD_B64_LEN(max) characters decodes to at most max + 2. */
	if ((bytes = sd_malloc(max + 3)) == NULL)
		return VALUE_NOMEM;
	if (sd_b64_decode(s, n, bytes, max + 3, &got) != 0)
		rc = VALUE_BAD;
	else if (got > max)
		rc = VALUE_TOO_LARGE;
	else if (got >= (size_t)f->min)
		rc = VALUE_OK;
	if (rc == VALUE_OK) {
		sd_b64_encode(bytes, got, out + f->off);
		put_size(out + f->len_off, got);
	}
	free(bytes);
	return rc;
}

static enum value_rc read_raw(const struct api_field *f, const struct body_text *body, char *at)
{
	size_t n;

	switch (sd_field_raw(body->s, body->len, f->name, at, (size_t)f->max + 1, &n)) {
	case SD_FIELD_OK:
		return VALUE_OK;
	case SD_FIELD_BAD:
		return VALUE_TOO_LARGE;
	case SD_FIELD_ABSENT:
		break;
	}
	at[0] = '\0';
	return VALUE_OK;
}

static enum value_rc read_bool(json_object *v, char *at)
{
	if (!json_object_is_type(v, json_type_boolean))
		return VALUE_BAD;
	put_int(at, json_object_get_boolean(v) ? 1 : 0);
	return VALUE_OK;
}

static enum value_rc read_int(const struct api_field *f, json_object *v, char *at)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return VALUE_BAD;
	errno = 0;
	n = json_object_get_int64(v);
	/* json-c saturates out-of-range values and sets errno; a uint64 above
	 * INT64_MAX also reads as INT64_MAX: refuse both. */
	if (errno == ERANGE || n == INT64_MAX || n == INT64_MIN || n < f->min || n > f->max)
		return VALUE_BAD;
	put_i64(at, n);
	return VALUE_OK;
}

/* PyCrypt's int(value), for /fetch's limit: an integer, or a string of
 * ASCII digits. Beyond 64 bits saturates (json-c reads a huge integer as
 * INT64_MAX or INT64_MIN), and the caller clamps. */
static int lenient_int(json_object *v, int64_t *n)
{
	const char *s;
	size_t len;

	if (json_object_is_type(v, json_type_int)) {
		*n = json_object_get_int64(v);
		return 1;
	}
	if (!string_of(v, &s, &len) || len == 0)
		return 0;
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*n = *n > (INT64_MAX - 9) / 10 ? INT64_MAX : *n * 10 + (s[i] - '0');
	}
	return 1;
}

static void read_int_lenient(const struct api_field *f, json_object *v, char *at)
{
	int64_t n;

	if (!lenient_int(v, &n))
		n = f->dflt;
	put_i64(at, n < f->min ? f->min : n > f->max ? f->max : n);
}

static enum value_rc read_enum(const struct api_field *f, json_object *v, char *at)
{
	const char *s;
	size_t n;

	if (string_of(v, &s, &n)) {
		for (int i = 0; f->choices[i] != NULL; i++) {
			const char *c = f->choices[i];

			if (strlen(c) == n && ((f->flags & API_CASELESS) ? strncasecmp(s, c, n) == 0
			                                                 : memcmp(s, c, n) == 0)) {
				put_int(at, i);
				return VALUE_OK;
			}
		}
	}
	if (!(f->flags & API_LENIENT))
		return VALUE_BAD;
	put_int(at, (int)f->dflt);
	return VALUE_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static enum value_rc read_ids(const struct api_field *f, json_object *v, char *out)
{
	int64_t *ids = (int64_t *)(void *)(out + f->off);
	size_t len, k = 0;

	if (!json_object_is_type(v, json_type_array) ||
	    (len = json_object_array_length(v)) > (size_t)f->max)
		return VALUE_BAD;
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_int))
			return VALUE_BAD;
		ids[i] = json_object_get_int64(e);
		if (ids[i] < 1 || ids[i] == INT64_MAX)
			return VALUE_BAD;
	}
	/* Sorted and distinct: the store touches each id once. */
	qsort(ids, len, sizeof *ids, cmp_i64);
	for (size_t i = 0; i < len; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	put_size(out + f->len_off, k);
	return VALUE_OK;
}

#define API_FLAG_NAME_MAX 32

static enum value_rc read_flags(const struct api_field *f, json_object *v, char *at)
{
	int64_t bits = 0;
	size_t len;

	if (!json_object_is_type(v, json_type_array) ||
	    (len = json_object_array_length(v)) > (size_t)f->max)
		return VALUE_BAD;
	for (size_t i = 0; i < len; i++) {
		const char *s;
		size_t n;

		if (!string_of(json_object_array_get_idx(v, i), &s, &n) || n == 0 ||
		    n > API_FLAG_NAME_MAX)
			return VALUE_BAD;
		for (int k = 0; f->choices[k] != NULL && k < 62; k++)
			if (strlen(f->choices[k]) == n && memcmp(f->choices[k], s, n) == 0)
				bits |= INT64_C(1) << k;
	}
	put_i64(at, bits);
	return VALUE_OK;
}

static void read_credential(const struct api_field *f, json_object *v, char *at)
{
	struct api_cred c = {.given = 1};
	const char *s;
	size_t n;

	if (string_of(v, &s, &n) && n > 0 && n <= (size_t)f->max && memchr(s, '\0', n) == NULL) {
		c.usable = 1;
		c.len = n;
		put_text(c.text, s, n);
	}
	memcpy(at, &c, sizeof c);
}

/* A given (not missing, not null) value into its row's member. */
static enum value_rc read_value(const struct api_field *f, json_object *v,
                                const struct body_text *body, char *out)
{
	char *at = out + f->off;

	switch (f->type) {
	case API_LINK:
		return read_link(f, v, at);
	case API_STRING:
		return read_string(f, v, at);
	case API_KEY:
		return read_key(f, v, at);
	case API_BLOB:
		return read_blob(f, v, out);
	case API_RAW:
		return read_raw(f, body, at);
	case API_BOOL:
		return read_bool(v, at);
	case API_INT:
		if (!(f->flags & API_LENIENT))
			return read_int(f, v, at);
		read_int_lenient(f, v, at);
		return VALUE_OK;
	case API_ENUM:
		return read_enum(f, v, at);
	case API_IDS:
		return read_ids(f, v, out);
	case API_FLAGS:
		return read_flags(f, v, at);
	case API_CREDENTIAL:
		read_credential(f, v, at);
		return VALUE_OK;
	}
	return VALUE_BAD;
}

/* One row: its value, or its default, into out. */
static enum value_rc read_row(const struct api_field *f, json_object *root,
                              const struct body_text *body, char *out)
{
	json_object *v = member(root, f->name);

	if (!row_fits(f))
		return VALUE_BAD;
	if (f->unless != NULL && member(root, f->unless) != NULL)
		v = NULL; /* not looked at, not even checked */
	else if (v == NULL && (f->flags & API_REQUIRED))
		return VALUE_BAD;
	if (f->has_present)
		put_int(out + f->present_off,
		        v != NULL                                                ? 1
		        : (f->flags & API_NULLABLE) && given_null(root, f->name) ? API_GIVEN_NULL
		                                                                 : 0);
	if (v == NULL) {
		put_default(f, out);
		return VALUE_OK;
	}
	return read_value(f, v, body, out);
}

/* The answer to a row that did not read. */
static enum sd_err refuse(const struct api_field *f, enum value_rc rc, struct sd_verr *err)
{
	if (rc == VALUE_NOMEM)
		return SD_ENOMEM;
	if (rc == VALUE_TOO_LARGE && f->big_code != NULL)
		sd_verr_too_large(err, f->big_code, f->big_msg);
	else if (f->code != NULL && f->msg != NULL)
		sd_verr_set(err, f->code, f->msg);
	else /* a row that should never refuse (SD_ALWAYS caught it) */
		sd_verr_set(err, "invalid_body", "Request body is not acceptable");
	return SD_EINVAL;
}

enum sd_err api_fields_read(const char *body, size_t len, const struct api_field *tab, size_t n,
                            void *out, struct sd_verr *err)
{
	struct body_text text = {body, len};
	json_object *root = sd_json_parse_object(body, len, err);
	enum sd_err e = SD_OK;

	if (root == NULL)
		return SD_EINVAL;
	for (size_t i = 0; i < n && e == SD_OK; i++) {
		enum value_rc rc = read_row(&tab[i], root, &text, out);

		if (rc != VALUE_OK)
			e = refuse(&tab[i], rc, err);
	}
	json_object_put(root);
	return e;
}

int api_fields_or_reply(struct sd_ctx *ctx, const struct api_field *tab, size_t n, void *out)
{
	struct sd_verr err;
	enum sd_err e = api_fields_read(ctx->req->body, ctx->req->body_len, tab, n, out, &err);

	if (e == SD_EINVAL)
		reply_verr(ctx, &err);
	else if (e != SD_OK)
		reply_store_error(ctx, e);
	return e == SD_OK ? 0 : -1;
}
