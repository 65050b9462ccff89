/* A request as the api layer sees it, and the response it builds. The
 * transport (fcgi_io.c) fills one and writes the other; nothing here knows
 * whether it came over FastCGI or CGI. */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct sd_req {
	const char *method;
	const char *path; /* decoded path, no query string */
	const char *remote_addr;
	const char *authorization; /* the Authorization header, or NULL */
	const char *body;
	size_t body_len;
	int64_t content_length; /* as declared; -1 when absent */
};

struct sd_resp {
	int status;
	struct sd_buf body;  /* JSON, empty for 204 */
	const char *allow;   /* Allow header for 405 and preflight, or NULL */
	int64_t retry_after; /* seconds; 0: no header */
	const char *route;   /* route name for the log, never the raw path */
};

/* "200 OK", "404 Not Found", ... for the Status header. */
const char *http_status_line(int status);

/* Write the response head (Status + fixed API headers) into out. */
void http_head(const struct sd_resp *r, struct sd_buf *out);

#endif
