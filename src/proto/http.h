/* The protocol layer, below the transport (server/) and the handlers
 * (api/): a request as the handlers see it, the response they build, and
 * the request in flight that carries both. The transport (fcgi_io.c) fills
 * one and writes the other; nothing here knows whether it came over
 * FastCGI or CGI. */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"

struct sd_store;

struct sd_req {
	const char *method;
	const char *path;  /* decoded path, no query string */
	const char *query; /* the query string as sent (QUERY_STRING), or NULL */
	const char *remote_addr;
	const char *authorization; /* the Authorization header, or NULL */
	/* Where the request was addressed, as the web server knows it (its own
	 * configured name, not the client's Host header): the origin that
	 * purpose-bound signatures name when BASE_URL is not set. */
	const char *scheme, *server_name, *server_port;
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
	/* Non-empty: nginx is to answer with this internal location instead
	 * (X-Accel-Redirect), e.g. the live-events subscriber. */
	char accel_redirect[96];
};

/* A request in flight: what was asked, the answer being built, and what
 * answering may use. */
struct sd_ctx {
	const struct sd_req *req;
	struct sd_resp *resp;
	struct sd_store *store; /* NULL when the database is out of reach */
	const struct sd_config *cfg;
	time_t now;
};

/* "200 OK", "404 Not Found", ... for the Status header. */
const char *http_status_line(int status);

/* Write the response head (Status + fixed API headers) into out. */
void http_head(const struct sd_resp *r, struct sd_buf *out);

#endif
