/* Typed access to JSON from the server and from identity files. */
#include <string.h>

#include "client/jsonv.h"

json_object *jsonv_object_parse(const char *text, size_t len)
{
	json_tokener *tok;
	json_object *o = NULL;
	size_t end;

	if (len > (size_t)INT32_MAX || memchr(text, '\0', len) != NULL)
		return NULL;
	if ((tok = json_tokener_new()) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success)
		goto bad;
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (strchr(" \t\r\n", text[end]) == NULL)
			goto bad;
	if (!json_object_is_type(o, json_type_object))
		goto bad;
	json_tokener_free(tok);
	return o;
bad:
	json_object_put(o);
	json_tokener_free(tok);
	return NULL;
}

const char *jsonv_str_get(json_object *o, const char *name)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int jsonv_int_get(json_object *o, const char *name, int64_t min, int64_t max, int64_t *out)
{
	json_object *v;
	int64_t n;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	/* json-c saturates numbers past the int64 range: an extreme may stand
	 * for a number we were never sent. */
	if (n == INT64_MAX || n == INT64_MIN || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int jsonv_bool_get(json_object *o, const char *name, int def)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v) ? 1 : 0;
}
