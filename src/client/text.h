/* Showing untrusted text: a message's plaintext and a server's error string
 * may hold terminal escape sequences or bytes that are not UTF-8. */
#ifndef SD_CLIENT_TEXT_H
#define SD_CLIENT_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates). */
int text_utf8_valid(const unsigned char *s, size_t n);

/* Write s[0..n) to f with every control character (C0, DEL, C1), every
 * invisible format character (zero-width space, BOM, soft hyphen, bidi
 * controls, U+2028/2029, the Hangul fillers, ...) and every byte that is
 * not part of well-formed UTF-8 shown as '?'. With multiline,
 * '\n' and '\t' are kept. */
void text_safe_write(FILE *f, const unsigned char *s, size_t n, int multiline);

/* A message body under its "--- #ID" header line: text_safe_write with
 * multiline, and a line that starts with "---", also behind zero-width
 * joiners, variation selectors or combining marks, gets a '\' in front,
 * so no sender can fake the start of another message. */
void text_body_write(FILE *f, const unsigned char *s, size_t n);

/* The same for a NUL-terminated string, in place (it never grows). */
void text_safe_inplace(char *s);

#endif
