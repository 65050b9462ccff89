/* HTTP with JSON bodies, through libcurl. */
#ifndef SD_CLIENT_HTTP_H
#define SD_CLIENT_HTTP_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <signal.h>

#define HTTP_REPLY_MAX       (4L * 1024 * 1024) /* bytes of a reply we read at most */

#define HTTP_RETRY_AFTER_MAX 3600L /* seconds; a larger Retry-After counts as this */

struct http_reply {
	long status;       /* the HTTP status */
	json_object *json; /* the body when it is one JSON object, else NULL */
	long retry_after;  /* Retry-After in seconds (1..HTTP_RETRY_AFTER_MAX), 0 when none */
};

/* Send method url, with body as JSON when not NULL and, when bearer is not
 * NULL, "Authorization: Bearer <bearer>". Returns CLI_OK and fills reply
 * whatever the status, or CLI_ENETWORK (message printed) when no answer
 * came: unreachable, TLS/certificate failure, timeout, a reply larger than
 * HTTP_REPLY_MAX, or http_cancel() was called. The caller frees with
 * http_reply_free. The first request to a plain http:// server that is not
 * this machine prints a warning. */
int http_json_request(const char *method, const char *url, json_object *body, const char *bearer,
                      struct http_reply *reply);

/* 1 when the last http_json_request failed after its request was sent (no
 * reply, a broken connection, a time-out), so the server may have acted on
 * it; 0 for a request that never left, an interrupt, or any reply. */
int http_last_unanswered(void);

/* Abort the request in flight and refuse new ones. Async-signal-safe: a
 * SIGINT handler calls it so that Ctrl-C does not wait for a server that
 * hangs (libcurl runs with CURLOPT_NOSIGNAL and is not interrupted). */
void http_cancel(void);

/* 1 once http_cancel was called. */
int http_cancelled(void);

/* Take requests again after a cancel (watch's last ack) until an absolute
 * deadline seconds from now: at it, a request in flight is aborted, a wait
 * ends and a new request is refused, however many there are. */
void http_cancel_reset(long seconds);

/* Sleep for seconds, in short steps, returning early (-1) when cancelled. */
int http_wait(long seconds);

void http_reply_free(struct http_reply *r);

/* A libcurl handle for url set up as every request's (verified TLS, http
 * and https only, no redirects, a cancel aborts it), with a total time-out
 * of timeout seconds: for a caller that reads a reply its own way (live
 * events). NULL when cancelled or on failure. */
CURL *http_handle_new(const char *url, long timeout);

/* Append "Authorization: Bearer <bearer>" to h; NULL when bearer is not a
 * token (base64url, 1..256 characters) or out of memory. */
struct curl_slist *http_bearer_add(struct curl_slist *h, const char *bearer);

/* Wipe the string value of key in r's JSON (a token) before it is freed. */
void http_reply_secret_wipe(struct http_reply *r, const char *key);

/* The server's reason for a non-2xx reply, its "error" string (control
 * characters are filtered when printed), or a generic text. */
const char *http_reply_reason(const struct http_reply *r);

#endif
