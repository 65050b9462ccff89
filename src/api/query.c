#include "api/query.h"

#include <string.h>

#include "core/num.h"

/* Decode s[0..n) into out; its length, or -2. */
static long decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || sd_hex_digit(s[i + 1]) < 0 || sd_hex_digit(s[i + 2]) < 0)
				return -2;
			c = sd_hex_digit(s[i + 1]) * 16 + sd_hex_digit(s[i + 2]);
			i += 2;
		}
		if (c == 0 || at + 1 >= cap)
			return -2;
		out[at++] = (char)c;
	}
	out[at] = '\0';
	return (long)at;
}

long api_query_param(const char *query, const char *name, char *out, size_t cap)
{
	size_t name_len = strlen(name);
	const char *p = query;

	if (cap == 0)
		return -2;
	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&");

		if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=')
			return decode(p + name_len + 1, len - name_len - 1, out, cap);
		if (len == name_len && strncmp(p, name, name_len) == 0)
			return decode(p, 0, out, cap); /* "name" alone: empty */
		p += len;
		if (*p == '&')
			p++;
	}
	return -1;
}
