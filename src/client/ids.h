/* A growable list of message ids. */
#ifndef SD_CLIENT_IDS_H
#define SD_CLIENT_IDS_H

#include <stddef.h>
#include <stdint.h>

struct ids {
	int64_t *v;
	size_t n;
	size_t cap;
};

/* Append id. Returns 0, or -1 when out of memory (message printed). */
int ids_push(struct ids *l, int64_t id);

/* Insert id keeping the list sorted: 1 when it was new, 0 when already
 * there, -1 when out of memory (message printed). */
int ids_insert_unique(struct ids *l, int64_t id);

/* 1 when id is in a list kept sorted by ids_insert_unique, else 0. */
int ids_contains(const struct ids *l, int64_t id);

/* Parse "12,13" or "12 13" style arguments and append them. Returns 0, or
 * -1 on anything that is not a positive integer (message printed). */
int ids_args_parse(struct ids *l, int argc, char **argv);

void ids_free(struct ids *l);

#endif
