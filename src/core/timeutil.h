#ifndef SD_TIMEUTIL_H
#define SD_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#define SD_ISO8601_LEN 20 /* 2026-11-22T10:00:00Z */

/* UTC ISO 8601 with a Z, second precision. */
void sd_iso8601(time_t t, char out[SD_ISO8601_LEN + 1]);

/* Monotonic microseconds, for durations only. */
int64_t sd_mono_usec(void);

#endif
