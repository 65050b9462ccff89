/* Logs go to stderr, one line each, written with a single write(2) so lines
 * from worker threads never interleave. Nothing secret is ever passed here:
 * callers log route names, never paths (the path of /key/<token> holds a
 * link token), and never bodies, tokens or signatures. */
#ifndef SD_LOG_H
#define SD_LOG_H

#include <stdint.h>

/* time route status microseconds, e.g.
 * 2026-11-22T10:00:00Z POST /send 201 412us */
void sd_log_request(const char *method, const char *route, int status, int64_t usec);

void sd_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sd_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
