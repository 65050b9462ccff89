#include "core/timeutil.h"

#include <stdio.h>

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* Formatting without gmtime_r/strftime: no time zone lookups, no locale,
 * on every row of every fetch. Days to civil date: Howard Hinnant's
 * algorithm (proleptic Gregorian, valid for years 0..9999 here). */
void sd_iso8601(time_t t, char out[SD_ISO8601_LEN + 1])
{
	int64_t secs = (int64_t)t, days, sod, era, doe, yoe, y, doy, mp, d, m;

	if (secs < 0 || secs > INT64_C(253402300799)) { /* 9999-12-31T23:59:59Z */
		snprintf(out, SD_ISO8601_LEN + 1, "1970-01-01T00:00:00Z");
		return;
	}
	days = secs / 86400;
	sod = secs % 86400;
	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	put2(out, (int)(y / 100));
	put2(out + 2, (int)(y % 100));
	out[4] = '-';
	put2(out + 5, (int)m);
	out[7] = '-';
	put2(out + 8, (int)d);
	out[10] = 'T';
	put2(out + 11, (int)(sod / 3600));
	out[13] = ':';
	put2(out + 14, (int)(sod / 60 % 60));
	out[16] = ':';
	put2(out + 17, (int)(sod % 60));
	out[19] = 'Z';
	out[20] = '\0';
}

int64_t sd_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
