/* HTTP with JSON bodies, through libcurl. */
#ifndef SD_CLIENT_HTTP_H
#define SD_CLIENT_HTTP_H

#include <json-c/json.h>

#define HTTP_REPLY_MAX (4L * 1024 * 1024) /* bytes of a reply we read at most */

struct http_reply {
	long status;       /* the HTTP status */
	json_object *json; /* the body when it is one JSON object, else NULL */
};

/* Send method url, with body as JSON when not NULL. Returns CLI_OK and
 * fills reply whatever the status, or CLI_ENETWORK (message printed) when
 * no answer came: unreachable, TLS/certificate failure, timeout, or a
 * reply larger than HTTP_REPLY_MAX. The caller frees with http_reply_free. */
int http_json_request(const char *method, const char *url, json_object *body,
                      struct http_reply *reply);

void http_reply_free(struct http_reply *r);

/* The server's reason for a non-2xx reply, its "error" string (control
 * characters are filtered when printed), or a generic text. */
const char *http_reply_reason(const struct http_reply *r);

#endif
