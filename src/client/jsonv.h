/* Reading JSON values that came from elsewhere (the server, a file): one
 * type per field, or the value counts as absent. */
#ifndef SD_CLIENT_JSONV_H
#define SD_CLIENT_JSONV_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Parse text[0..len) as exactly one JSON object (whitespace around it is
 * fine, anything else is not). Returns it, or NULL. */
json_object *jsonv_object_parse(const char *text, size_t len);

/* The string member name of o, or NULL when absent or not a string. */
const char *jsonv_str_get(json_object *o, const char *name);

/* The integer member name of o in [min, max]: 0, or -1 when absent, of
 * another type or out of range (INT64_MIN and INT64_MAX count as out of
 * range: json-c gives them for any larger number). */
int jsonv_int_get(json_object *o, const char *name, int64_t min, int64_t max, int64_t *out);

/* The boolean member name of o: 0 or 1, or def when absent or mistyped. */
int jsonv_bool_get(json_object *o, const char *name, int def);

#endif
