/* libFuzzer: the JSON gate and the field table reader, every type of
 * field, on hostile bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int any(const void *v, size_t n)
{
	return n > 0 && ((const unsigned char *)v)[0] != 'x';
}

static const char *const choices[] = {"DESC", "ASC", NULL};

struct every {
	char link[SD_LINK_TOKEN_MAX + 1], lenient_link[SD_LINK_TOKEN_MAX + 1];
	char name[257];
	unsigned char key[32];
	int has_key;
	char blob[SD_B64_LEN(SD_MSG_MAX_BYTES) + 1];
	size_t blob_bytes;
	char raw[SD_METADATA_MAX + 1];
	int flag, order, action;
	int64_t id, limit, before, flags;
	int64_t ids[SD_ACK_MAX_IDS];
	size_t n_ids;
	struct auth_proof proof;
};

#define ROW(n, t) .name = n, .type = t, .code = "invalid_" n, .msg = n " is bad"

static const struct api_field every_field[] = {
    {ROW("link_token", API_LINK), API_AT(struct every, link)},
    {ROW("contact", API_LINK), .flags = API_LENIENT, API_AT(struct every, lenient_link)},
    {ROW("display_name", API_STRING), .min = 1, .max = 256, .check = any,
     API_AT(struct every, name)},
    {ROW("public_key", API_KEY), .max = 32, API_AT(struct every, key),
     API_PRESENT(struct every, has_key)},
    {ROW("encrypted_message", API_BLOB), .min = 48, .max = SD_MSG_MAX_BYTES,
     API_AT(struct every, blob), API_LEN(struct every, blob_bytes), .big_code = "too_large",
     .big_msg = "too large"},
    {ROW("metadata", API_RAW), .max = SD_METADATA_MAX, API_AT(struct every, raw),
     .big_code = "metadata_too_large", .big_msg = "too large"},
    {ROW("include_seen", API_BOOL), API_AT(struct every, flag)},
    {ROW("request_id", API_INT), .min = 1, .max = INT64_MAX - 1, API_AT(struct every, id)},
    {ROW("limit", API_INT), .flags = API_LENIENT, .min = 1, .max = 200, .dflt = 50,
     API_AT(struct every, limit)},
    {ROW("before_id", API_INT), .min = 1, .max = INT64_MAX - 1, .dflt = INT64_MAX,
     .unless = "since_id", API_AT(struct every, before)},
    {ROW("order", API_ENUM), .flags = API_LENIENT | API_CASELESS, .choices = choices,
     API_AT(struct every, order)},
    {ROW("action", API_ENUM), .choices = choices, API_AT(struct every, action)},
    {ROW("message_ids", API_IDS), .max = SD_ACK_MAX_IDS, API_AT(struct every, ids),
     API_LEN(struct every, n_ids)},
    AUTH_PROOF_FIELDS("", struct every, proof),
    {ROW("capabilities", API_FLAGS), .max = 16, .choices = choices, API_AT(struct every, flags)},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_verr err;
	struct every *out = malloc(sizeof *out);
	char *body = malloc(size + 1);
	enum sd_err e;

	if (body == NULL || out == NULL) {
		free(body);
		free(out);
		return 0;
	}
	memcpy(body, data, size);
	body[size] = '\0'; /* the transport always NUL-terminates */
	/* Row by row, so that a late type is reached whatever an early one
	 * says, then the whole table at once. */
	for (size_t i = 0; i < SD_ARRAY_LEN(every_field); i++) {
		memset(&err, 0, sizeof err);
		e = api_fields_read(body, size, &every_field[i], 1, out, &err);
		if (e == SD_EINVAL && err.code[0] == '\0')
			abort(); /* a refusal always says why */
	}
	e = api_fields_read(body, size, every_field, SD_ARRAY_LEN(every_field), out, &err);
	if (e == SD_OK && (out->n_ids > SD_ACK_MAX_IDS || strlen(out->raw) > SD_METADATA_MAX ||
	                   out->limit < 1 || out->limit > 200))
		abort();
	free(body);
	free(out);
	return 0;
}
