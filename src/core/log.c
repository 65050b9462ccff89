#include "core/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/timeutil.h"

static void log_write(const char *line, int n, size_t cap)
{
	ssize_t w;
	size_t off = 0;

	if (n < 0)
		return;
	if ((size_t)n >= cap)
		n = (int)cap - 1;
	while (off < (size_t)n) {
		w = write(STDERR_FILENO, line + off, (size_t)n - off);
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

void sd_log_request(const char *method, const char *route, int status, int64_t usec)
{
	char ts[SD_ISO8601_LEN + 1], line[256];
	int n;

	sd_iso8601(time(NULL), ts);
	n = snprintf(line, sizeof line, "%s %s %s %d %" PRId64 "us\n", ts, method, route, status,
	             usec);
	log_write(line, n, sizeof line);
}

static void log_v(const char *level, const char *fmt, va_list ap)
{
	char ts[SD_ISO8601_LEN + 1], line[512];
	int n, m;

	sd_iso8601(time(NULL), ts);
	n = snprintf(line, sizeof line, "%s %s ", ts, level);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	log_write(line, n, sizeof line);
}

void sd_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("info", fmt, ap);
	va_end(ap);
}

void sd_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("error", fmt, ap);
	va_end(ap);
}
