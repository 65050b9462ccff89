#include "core/buf.h"

#include "core/fault.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(struct sd_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = sd_realloc(b->data, cap);
	if (p == NULL) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void sd_buf_reset(struct sd_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sd_buf_free(struct sd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

void sd_buf_append(struct sd_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sd_buf_printf(struct sd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Bytes that JSON strings must escape: controls, '"' and '\'. A table
 * keeps the common case (long base64 runs) to one load and one test. */
static const unsigned char json_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1,
};

/* Whether any of the 8 bytes of w needs escaping: below 0x20, '"' or
 * '\\' (the "has a byte less than / equal to" bit tricks; exact for the
 * word as a whole). Bytes from 0x80 up are UTF-8 and go out as they are. */
static int word_needs_escape(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
	uint64_t found = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
	                 ((backslash - ones) & ~backslash);

	return (found & high) != 0;
}

void sd_json_str(struct sd_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;

	sd_buf_append(b, "\"", 1);
	while (i < n) {
		unsigned char c;
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};
		size_t elen = 2;

		run = i;
		/* A fetch page is mostly base64: skip it a word at a time. */
		for (uint64_t w; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, 8);
			if (word_needs_escape(w))
				break;
		}
		while (i < n && !json_esc[(unsigned char)s[i]])
			i++;
		sd_buf_append(b, s + run, i - run);
		if (i == n)
			break;
		c = (unsigned char)s[i++];
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		sd_buf_append(b, esc, elen);
	}
	sd_buf_append(b, "\"", 1);
}

void sd_json_cstr(struct sd_buf *b, const char *s)
{
	sd_json_str(b, s, strlen(s));
}

void sd_json_key(struct sd_buf *b, const char *key)
{
	sd_json_cstr(b, key);
	sd_buf_append(b, ":", 1);
}

void sd_json_int(struct sd_buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	sd_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}
