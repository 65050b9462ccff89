/* A growable byte buffer with a JSON writer on top. Responses are built in
 * one buffer per worker thread that is reset, not freed, between requests. */
#ifndef SD_BUF_H
#define SD_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sd_buf {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* an allocation failed: the content is incomplete */
};

void sd_buf_reset(struct sd_buf *b);
void sd_buf_free(struct sd_buf *b);
void sd_buf_append(struct sd_buf *b, const void *p, size_t n);
/* Inline: the length of a literal is known when compiling. */
static inline void sd_buf_puts(struct sd_buf *b, const char *s)
{
	sd_buf_append(b, s, strlen(s));
}
void sd_buf_printf(struct sd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON pieces. Strings are escaped; the caller writes the structure. */
void sd_json_str(struct sd_buf *b, const char *s, size_t n);
void sd_json_cstr(struct sd_buf *b, const char *s);
void sd_json_key(struct sd_buf *b, const char *key); /* "key": */
void sd_json_int(struct sd_buf *b, int64_t v);

#endif
