/* Message id lists: what to acknowledge, and what watch has shown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/ids.h"

static int ids_grow(struct ids *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	int64_t *v;

	if (l->n < l->cap)
		return 0;
	if (cap > SIZE_MAX / sizeof *v || (v = realloc(l->v, cap * sizeof *v)) == NULL) {
		cli_err("out of memory");
		return -1;
	}
	l->v = v;
	l->cap = cap;
	return 0;
}

int ids_push(struct ids *l, int64_t id)
{
	if (ids_grow(l) != 0)
		return -1;
	l->v[l->n++] = id;
	return 0;
}

int ids_insert_unique(struct ids *l, int64_t id)
{
	size_t lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (l->v[mid] == id)
			return 0;
		if (l->v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ids_grow(l) != 0)
		return -1;
	memmove(l->v + lo + 1, l->v + lo, (l->n - lo) * sizeof *l->v);
	l->v[lo] = id;
	l->n++;
	return 1;
}

int ids_contains(const struct ids *l, int64_t id)
{
	size_t lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (l->v[mid] == id)
			return 1;
		if (l->v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int ids_args_parse(struct ids *l, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		char *end;

		while (*s != '\0') {
			long long v;

			if (*s == ',' || *s == ' ') {
				s++;
				continue;
			}
			errno = 0;
			v = (*s >= '0' && *s <= '9') ? strtoll(s, &end, 10) : 0;
			if (v < 1 || errno != 0 || (*end != '\0' && *end != ',' && *end != ' ')) {
				cli_err("message ids are positive integers, e.g. 12,13");
				return -1;
			}
			if (ids_push(l, (int64_t)v) != 0)
				return -1;
			s = end;
		}
	}
	return 0;
}

void ids_free(struct ids *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}
