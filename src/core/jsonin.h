/* Untrusted JSON in: one parser with a depth cap and UTF-8 validation, and
 * the exact text of a member as the client wrote it. Typed fields are read
 * from the parsed object by api/fields.c, from each endpoint's table. */
#ifndef SD_JSONIN_H
#define SD_JSONIN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sd.h"

#define SD_JSON_MAX_DEPTH 16

/* Why a request body or field was refused. */
struct sd_verr {
	char code[48]; /* stable, e.g. "invalid_link_token" */
	char msg[160]; /* for people */
	int too_large; /* the problem is size: 413 rather than 400 (sd_verr_too_large) */
};

/* Parse body[0..len) as one JSON object; body[len] must be a NUL. Returns the object (the caller
 * puts it) or NULL with *err filled. */
json_object *sd_json_parse_object(const char *body, size_t len, struct sd_verr *err);

enum sd_field_rc { SD_FIELD_ABSENT = 0, SD_FIELD_OK = 1, SD_FIELD_BAD = -1 };

/* Any JSON value, as the client wrote it: the text of the last member `name`
 * of the top-level object in body[0..len) (a body that sd_json_parse_object
 * accepted), without insignificant whitespace, NUL-terminated in out[0..cap).
 * Absent or null is SD_FIELD_ABSENT; longer than cap - 1 bytes is
 * SD_FIELD_BAD. */
enum sd_field_rc sd_field_raw(const char *body, size_t len, const char *name, char *out, size_t cap,
                              size_t *outlen);

void sd_verr_set(struct sd_verr *err, const char *code, const char *msg);
/* A size error: like sd_verr_set, with too_large set (answered 413). */
void sd_verr_too_large(struct sd_verr *err, const char *code, const char *msg);

/* 1 when s[0..n) is UTF-8 as RFC 3629 defines it (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
int sd_utf8_valid(const char *s, size_t n);

#endif
