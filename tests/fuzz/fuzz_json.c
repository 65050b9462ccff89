/* libFuzzer: the JSON gate and every typed field reader on hostile bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_verr err;
	char *body = malloc(size + 1);
	json_object *o, *obj;
	const char *s;
	size_t n;
	int64_t v;
	int b;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0'; /* the transport always NUL-terminates */
	o = sd_json_parse_object(body, size, &err);
	if (o != NULL) {
		(void)sd_field_string(o, "link_token", 1, 128, &s, &n, &err);
		(void)sd_field_string(o, "display_name", 0, 256, &s, &n, &err);
		(void)sd_field_int(o, "limit", 0, 1, 200, &v, &err);
		(void)sd_field_int(o, "before_id", 0, 1, INT64_MAX - 1, &v, &err);
		(void)sd_field_bool(o, "include_seen", &b, &err);
		(void)sd_field_object(o, "metadata", &obj, &err);
		json_object_put(o);
	} else if (err.code[0] == '\0') {
		abort(); /* a refusal always says why */
	}
	free(body);
	return 0;
}
