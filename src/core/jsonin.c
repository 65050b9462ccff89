#include "core/jsonin.h"

#include "core/num.h"

#include <stdio.h>
#include <string.h>

void sd_verr_set(struct sd_verr *err, const char *code, const char *msg)
{
	snprintf(err->code, sizeof err->code, "%s", code);
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	err->too_large = 0;
}

void sd_verr_too_large(struct sd_verr *err, const char *code, const char *msg)
{
	sd_verr_set(err, code, msg);
	err->too_large = 1;
}

/* json-c accepts a little more than RFC 8259 (single-quoted strings, NaN,
 * Infinity). Outside strings, allow only structure, numbers and the three
 * literals, so what we accept is exactly JSON. */
static int json_lexically_strict(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= n)
				return 0;
			i++;
		} else if ((c == 'e' || c == 'E') && i > 0 &&
		           ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.')) {
			i++; /* exponent; json-c checks the number itself */
		} else if (c >= 'a' && c <= 'z') {
			size_t j = i;

			while (j < n && s[j] >= 'a' && s[j] <= 'z')
				j++;
			if (!((j - i == 4 && memcmp(s + i, "true", 4) == 0) ||
			      (j - i == 5 && memcmp(s + i, "false", 5) == 0) ||
			      (j - i == 4 && memcmp(s + i, "null", 4) == 0)))
				return 0;
			i = j;
		} else if (strchr("{}[],: \t\r\n0123456789-+.", c) != NULL && c != '\0') {
			i++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
 * above U+10FFFF. json-c's own check lets all three through, and a body
 * stored as sent (metadata) would then make /fetch serve invalid JSON. */
int sd_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], lo = 0x80, hi = 0xBF;
		size_t more;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			more = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			more = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			more = 3;
		else
			return 0; /* continuation byte, C0/C1 (overlong), F5.. */
		if (c == 0xE0)
			lo = 0xA0; /* overlong 3-byte */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
		else if (c == 0xF0)
			lo = 0x90; /* overlong 4-byte */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
		if (n - i <= more)
			return 0; /* cut short */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return 0;
		i += more + 1;
	}
	return 1;
}

json_object *sd_json_parse_object(const char *body, size_t len, struct sd_verr *err)
{
	json_tokener *tok;
	json_object *o;
	enum json_tokener_error jerr;
	size_t end;

	if (len == 0) {
		sd_verr_set(err, "invalid_json", "Request body must be a JSON object");
		return NULL;
	}
	if (memchr(body, '\0', len) != NULL) {
		sd_verr_set(err, "invalid_json", "Request body contains a NUL byte");
		return NULL;
	}
	if (!sd_utf8_valid(body, len)) {
		sd_verr_set(err, "invalid_json", "Request body is not valid UTF-8");
		return NULL;
	}
	if (!json_lexically_strict(body, len)) {
		sd_verr_set(err, "invalid_json", "Request body is not valid JSON");
		return NULL;
	}
	tok = json_tokener_new_ex(SD_JSON_MAX_DEPTH);
	if (tok == NULL) {
		sd_verr_set(err, "invalid_json", "Request body could not be parsed");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Hand json-c the terminating NUL too: it marks the end of input, so a
	 * bare top-level number or literal is complete, not "continue". */
	o = json_tokener_parse_ex(tok, body, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_success && o == NULL) {
		/* A bare JSON null: valid JSON, but not an object. */
		sd_verr_set(err, "invalid_body", "Request body must be a JSON object");
		return NULL;
	}
	if (o == NULL || jerr != json_tokener_success) {
		json_object_put(o);
		if (jerr == json_tokener_error_depth)
			sd_verr_set(err, "invalid_json", "Request body is nested too deeply");
		else if (jerr == json_tokener_continue)
			sd_verr_set(err, "invalid_json", "Request body is truncated JSON");
		else
			sd_verr_set(err, "invalid_json", "Request body is not valid JSON");
		return NULL;
	}
	while (end < len && strchr(" \t\r\n", body[end]) != NULL)
		end++;
	if (end < len) {
		json_object_put(o);
		sd_verr_set(err, "invalid_json", "Request body has data after the JSON value");
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		sd_verr_set(err, "invalid_body", "Request body must be a JSON object");
		return NULL;
	}
	return o;
}

/* A scanner over text that sd_json_parse_object accepted: strict JSON, so
 * outside strings there are only structure, numbers, literals and blanks.
 * Every step is bounded by n all the same. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
	while (i < n && is_blank(s[i]))
		i++;
	return i;
}

/* s[i] is the opening quote of a string: the index after its closing one
 * (n when it has none). */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* s[i] starts a value: the index just after it. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			i = skip_string(s, n, i);
			if (depth == 0)
				return i;
		} else if (c == '{' || c == '[') {
			depth++;
			i++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i; /* the end of the enclosing object */
			i++;
			if (--depth == 0)
				return i;
		} else if (depth == 0 && (c == ',' || is_blank(c))) {
			return i;
		} else {
			i++;
		}
	}
	return n;
}

/* Whether the string body s[a..b) (escapes and all) spells the ASCII name. */
static int key_is(const char *s, size_t a, size_t b, const char *name)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t k = 0;

	for (size_t i = a; i < b; i++, k++) {
		unsigned c = (unsigned char)s[i];

		if (c == '\\') {
			const char *e;

			if (++i >= b)
				return 0;
			if (s[i] == 'u') {
				if (b - i <= 4)
					return 0;
				c = 0;
				for (size_t j = 1; j <= 4; j++) {
					int h = sd_hex_digit(s[i + j]);

					if (h < 0)
						return 0;
					c = c * 16 + (unsigned)h;
				}
				i += 4;
			} else {
				if (s[i] == '\0' || (e = strchr(from, s[i])) == NULL)
					return 0;
				c = (unsigned char)to[e - from];
			}
		}
		if (name[k] == '\0' || (unsigned char)name[k] != c)
			return 0;
	}
	return name[k] == '\0';
}

enum sd_field_rc sd_field_raw(const char *body, size_t len, const char *name, char *out, size_t cap,
                              size_t *outlen)
{
	size_t i = skip_blanks(body, len, 0), vstart = 0, vend = 0, k = 0;
	int found = 0;

	if (i >= len || body[i] != '{')
		return SD_FIELD_ABSENT;
	for (i++;;) {
		size_t ka, kb, v;

		i = skip_blanks(body, len, i);
		if (i >= len || body[i] != '"')
			break;
		ka = i + 1;
		i = skip_string(body, len, i);
		kb = i - 1;
		i = skip_blanks(body, len, i);
		if (i >= len || body[i] != ':')
			break;
		v = skip_blanks(body, len, i + 1);
		i = skip_value(body, len, v);
		/* Members are read in order, so a repeated name ends at its last
		 * value, as the parser keeps it. */
		if (key_is(body, ka, kb, name)) {
			vstart = v;
			vend = i;
			found = 1;
		}
		i = skip_blanks(body, len, i);
		if (i >= len || body[i] != ',')
			break;
		i++;
	}
	if (!found)
		return SD_FIELD_ABSENT;
	for (size_t j = vstart; j < vend; j++) {
		size_t end = j + 1;

		if (is_blank(body[j]))
			continue;
		if (body[j] == '"')
			end = skip_string(body, vend, j);
		if (cap == 0 || end - j > cap - 1 - k)
			return SD_FIELD_BAD;
		memcpy(out + k, body + j, end - j);
		k += end - j;
		j = end - 1;
	}
	out[k] = '\0';
	if (k == 4 && memcmp(out, "null", 4) == 0) {
		out[0] = '\0';
		return SD_FIELD_ABSENT;
	}
	*outlen = k;
	return SD_FIELD_OK;
}
