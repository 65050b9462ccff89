/* One bounded number parser for every number that arrives as text:
 * CONTENT_LENGTH, configuration values, flags. */
#ifndef SD_NUM_H
#define SD_NUM_H

#include <stdint.h>

#include "core/sd.h"

/* Parse a whole decimal string into [min, max]. Returns 0, or -1 with
 * *errstr set to "invalid", "too small" or "too large". */
SD_MUST_CHECK int sd_strtoi64(const char *s, int64_t min, int64_t max, int64_t *out,
                              const char **errstr);

/* The value of one hexadecimal digit, or -1. */
int sd_hex_digit(char c);

#endif
