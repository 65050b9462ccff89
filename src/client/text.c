/* Showing untrusted text. A sealed message is opaque to the server, so
 * anyone holding a link can put ESC sequences in front of the recipient's
 * terminal; this file is where they are defused. */
#include <stdint.h>
#include <string.h>

#include "client/text.h"

/* Length of the well-formed UTF-8 sequence at s (at most n bytes) and its
 * code point, or 0 when the bytes there are not well-formed. */
static size_t text_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

int text_utf8_valid(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t i = 0, k;

	while (i < n) {
		if ((k = text_utf8_decode(s + i, n - i, &cp)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int text_is_control(uint32_t cp, int multiline)
{
	if (multiline && (cp == '\n' || cp == '\t'))
		return 0;
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

void text_safe_write(FILE *f, const unsigned char *s, size_t n, int multiline)
{
	uint32_t cp;
	size_t i = 0, k;

	while (i < n) {
		k = text_utf8_decode(s + i, n - i, &cp);
		if (k == 0 || text_is_control(cp, multiline)) {
			fputc('?', f);
			i += k ? k : 1;
			continue;
		}
		fwrite(s + i, 1, k, f);
		i += k;
	}
}

void text_body_write(FILE *f, const unsigned char *s, size_t n)
{
	size_t i = 0, line;

	while (i < n) {
		const unsigned char *nl = memchr(s + i, '\n', n - i);

		line = nl != NULL ? (size_t)(nl - (s + i)) + 1 : n - i;
		if (line >= 3 && memcmp(s + i, "---", 3) == 0)
			fputc('\\', f);
		text_safe_write(f, s + i, line, 1);
		i += line;
	}
}

void text_safe_inplace(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, k;
	uint32_t cp;

	while (i < n) {
		k = text_utf8_decode(p + i, n - i, &cp);
		if (k == 0 || text_is_control(cp, 0)) {
			p[o++] = '?';
			i += k ? k : 1;
			continue;
		}
		memmove(p + o, p + i, k);
		o += k;
		i += k;
	}
	p[o] = '\0';
}
