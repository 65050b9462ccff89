#include "core/timeutil.h"

void sd_iso8601(time_t t, char out[SD_ISO8601_LEN + 1])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, SD_ISO8601_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != SD_ISO8601_LEN)
		out[0] = '\0';
}

int64_t sd_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
