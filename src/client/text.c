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

/* A code point in [lo, hi] of a sorted table of ranges. */
struct text_range {
	uint32_t lo, hi;
};

static int text_in(const struct text_range *t, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n && t[i].lo <= cp; i++)
		if (cp <= t[i].hi)
			return 1;
	return 0;
}

/* Shown as '?': Unicode format characters (Cf: zero-width spaces, the BOM,
 * soft hyphen, bidi embeddings, overrides and isolates, invisible
 * operators, tags), the line and paragraph separators and the fillers that
 * draw nothing. Invisible, they would let a sender hide what a line starts
 * with, or reorder it. The joiners U+200C/U+200D stay (emoji, Indic
 * scripts) and are skipped where a line's start is judged instead. */
static const struct text_range text_hidden[] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x115F, 0x1160},
    {0x17B4, 0x17B5},   {0x180B, 0x180F},   {0x200B, 0x200B},   {0x200E, 0x200F},
    {0x2028, 0x202E},   {0x2060, 0x206F},   {0x3164, 0x3164},   {0xFEFF, 0xFEFF},
    {0xFFA0, 0xFFA0},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE007F},
};

/* Drawn with no width of their own: joiners, variation selectors and
 * combining marks. A line that starts with them is judged by what follows. */
static const struct text_range text_zero_width[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},   {0x200C, 0x200D},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF},
};

#define TEXT_N(t) (sizeof(t) / sizeof((t)[0]))

static int text_is_control(uint32_t cp, int multiline)
{
	if (multiline && (cp == '\n' || cp == '\t'))
		return 0;
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
	       (cp >= 0xAD && text_in(text_hidden, TEXT_N(text_hidden), cp));
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
	size_t i = 0, line, j, k;
	uint32_t cp;

	while (i < n) {
		const unsigned char *nl = memchr(s + i, '\n', n - i);

		line = nl != NULL ? (size_t)(nl - (s + i)) + 1 : n - i;
		/* What the line starts with once nothing invisible is in front. */
		for (j = 0; j < line && (k = text_utf8_decode(s + i + j, line - j, &cp)) != 0 &&
		            text_in(text_zero_width, TEXT_N(text_zero_width), cp);
		     j += k)
			;
		if (line - j >= 3 && memcmp(s + i + j, "---", 3) == 0)
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
