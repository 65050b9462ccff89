/* Untrusted JSON in: one parser with a depth cap and UTF-8 validation, and
 * typed field readers. A field has exactly one JSON type; anything else is
 * reported, never coerced (so "link_token": 0 can never become a lookup). */
#ifndef SD_JSONIN_H
#define SD_JSONIN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sd.h"

#define SD_JSON_MAX_DEPTH 16

/* Why a request body or field was refused; filled by every reader here. */
struct sd_verr {
	char code[48]; /* stable, e.g. "invalid_link_token" */
	char msg[160]; /* for people */
	int too_large; /* the problem is size: 413 rather than 400 (sd_verr_too_large) */
};

/* Parse body[0..len) as one JSON object; body[len] must be a NUL. Returns the object (the caller
 * puts it) or NULL with *err filled. */
json_object *sd_json_parse_object(const char *body, size_t len, struct sd_verr *err);

enum sd_field_rc { SD_FIELD_ABSENT = 0, SD_FIELD_OK = 1, SD_FIELD_BAD = -1 };

/* A string field of 1..maxlen bytes without NUL bytes. A JSON null counts as
 * absent only when the field is optional. */
enum sd_field_rc sd_field_string(json_object *o, const char *name, int required, size_t maxlen,
                                 const char **out, size_t *len, struct sd_verr *err);

/* A boolean field. */
enum sd_field_rc sd_field_bool(json_object *o, const char *name, int *out, struct sd_verr *err);

/* An integer field in [min, max]; floats, strings and overflow are refused. */
enum sd_field_rc sd_field_int(json_object *o, const char *name, int required, int64_t min,
                              int64_t max, int64_t *out, struct sd_verr *err);

/* A JSON object field (null counts as absent). */
enum sd_field_rc sd_field_object(json_object *o, const char *name, json_object **out,
                                 struct sd_verr *err);

/* PyCrypt's lenient integer option (/fetch's limit): a JSON integer or a
 * string of ASCII digits, clamped to [min, max] (beyond 64 bits saturates,
 * then clamps). Anything else (absent, null, float, bool, any other string,
 * array, object) is dflt. Never an error. */
int64_t sd_field_int_clamped(json_object *o, const char *name, int64_t dflt, int64_t min,
                             int64_t max);

/* Any JSON value, as the client wrote it: the text of the last member `name`
 * of the top-level object in body[0..len) (a body that sd_json_parse_object
 * accepted), without insignificant whitespace, NUL-terminated in out[0..cap).
 * Absent or null is SD_FIELD_ABSENT; longer than cap - 1 bytes is
 * SD_FIELD_BAD with code "<name>_too_large" and err->too_large set. */
enum sd_field_rc sd_field_raw(const char *body, size_t len, const char *name, char *out, size_t cap,
                              size_t *outlen, struct sd_verr *err);

/* Fill *err for field `name`: code "invalid_<name>". */
void sd_verr_field(struct sd_verr *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sd_verr_set(struct sd_verr *err, const char *code, const char *msg);
/* A size error: like sd_verr_set, with too_large set (answered 413). */
void sd_verr_too_large(struct sd_verr *err, const char *code, const char *msg);

#endif
