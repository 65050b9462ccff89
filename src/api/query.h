/* Parameters of a request's query string (GET endpoints: /events). */
#ifndef SD_QUERY_H
#define SD_QUERY_H

#include <stddef.h>

/* The first parameter `name` of query (a=b&c=d, percent-encoded, '+' a
 * space), decoded into out (cap bytes, NUL-terminated). Its length; -1 when
 * absent; -2 when it is longer than cap - 1 or holds a bad escape or a NUL
 * byte. query may be NULL. */
long api_query_param(const char *query, const char *name, char *out, size_t cap);

#endif
