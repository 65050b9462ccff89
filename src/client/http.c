/* libcurl, configured once for every request: certificate verification on
 * (never switched off), http and https only, no redirects (a redirect
 * could carry a request somewhere the user did not name), bounded time and
 * a bounded reply. */
#include <curl/curl.h>
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <strings.h>

#include "client/cli.h"
#include "client/http.h"
#include "client/jsonv.h"
#include "config.h"

#define HTTP_CONNECT_TIMEOUT 15L  /* seconds */
#define HTTP_TOTAL_TIMEOUT   120L /* seconds */
#define HTTP_BEARER_MAX      256  /* characters of a fetch token we send */

static volatile sig_atomic_t http_cancel_flag;
static long http_total_timeout = HTTP_TOTAL_TIMEOUT;
static struct timespec http_deadline; /* 0: none; else CLOCK_MONOTONIC */
static int http_unanswered;           /* see http_last_unanswered */

int http_last_unanswered(void)
{
	return http_unanswered;
}

/* 1 once an absolute deadline set by http_cancel_reset has passed. */
static int http_deadline_passed(void)
{
	struct timespec now;

	if (http_deadline.tv_sec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > http_deadline.tv_sec ||
	       (now.tv_sec == http_deadline.tv_sec && now.tv_nsec >= http_deadline.tv_nsec);
}

void http_cancel(void)
{
	http_cancel_flag = 1;
}

int http_cancelled(void)
{
	return http_cancel_flag != 0;
}

void http_cancel_reset(long seconds)
{
	clock_gettime(CLOCK_MONOTONIC, &http_deadline);
	http_deadline.tv_sec += seconds;
	http_total_timeout = seconds;
	http_cancel_flag = 0;
}

int http_wait(long seconds)
{
	/* Steps of 100 ms: a cancel is noticed within one of them. */
	for (long step = 0; step < seconds * 10; step++) {
		struct timespec t = {0, 100L * 1000 * 1000};

		if (http_cancel_flag || http_deadline_passed())
			return -1;
		nanosleep(&t, NULL);
	}
	return http_cancel_flag || http_deadline_passed() ? -1 : 0;
}

/* Called by libcurl several times a second, also while it waits for a
 * server that sends nothing: a nonzero return aborts the transfer. */
static int http_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return http_cancel_flag || http_deadline_passed() ? 1 : 0;
}

/* Retry-After as delay-seconds (an HTTP date counts as absent). */
static size_t http_header_take(char *p, size_t size, size_t nitems, void *arg)
{
	static const char name[] = "retry-after:";
	size_t n = size * nitems, i = sizeof name - 1;
	long *retry_after = arg, v = 0;

	if (n < i || strncasecmp(p, name, i) != 0)
		return n;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || !isdigit((unsigned char)p[i]))
		return n;
	for (; i < n && isdigit((unsigned char)p[i]); i++)
		v = v < HTTP_RETRY_AFTER_MAX ? v * 10 + (p[i] - '0') : HTTP_RETRY_AFTER_MAX;
	*retry_after = v < 1 ? 1 : v > HTTP_RETRY_AFTER_MAX ? HTTP_RETRY_AFTER_MAX : v;
	return n;
}

/* Loopback is the one place plain http is not readable by others:
 * localhost, 127.0.0.0/8 written as digits and dots, [::1]. */
static int http_url_loopback(const char *url)
{
	const char *host = url + strlen("http://");
	size_t n = strcspn(host, ":/");

	if (host[0] == '[')
		return strncmp(host, "[::1]", 5) == 0 && strchr(":/", host[5]) != NULL;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return 1;
	return n > 4 && strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == n;
}

static void http_plain_warn(const char *url)
{
	static int warned;

	if (warned || strncasecmp(url, "http://", 7) != 0 || http_url_loopback(url))
		return;
	warned = 1;
	cli_err("warning: the server is plain http://: anyone on the way can read and change what "
	        "is sent and received; use https://");
}

struct http_body {
	char *data;
	size_t len;
	size_t cap;
	int too_large;
};

static size_t http_body_collect(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_body *b = arg;
	size_t n = size * nmemb, cap;
	char *grown;

	if (n > (size_t)HTTP_REPLY_MAX - b->len) {
		b->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		/* Not realloc: the old buffer may hold a token, wiped here. */
		if ((grown = malloc(cap)) == NULL)
			return 0;
		if (b->data != NULL) {
			memcpy(grown, b->data, b->len);
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Every option that matters for safety, checked. */
static int http_handle_setup(CURL *c, const char *url)
{
	const char *ca = getenv("SEALDROP_CA_FILE");
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
#endif
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	/* A private CA for a self-hosted server: verification stays on. */
	if (ca != NULL && ca[0] != '\0')
		bad |= curl_easy_setopt(c, CURLOPT_CAINFO, ca) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_REPLY_MAX) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, http_total_timeout) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "sealdrop/" PACKAGE_VERSION) != CURLE_OK;
	return bad ? -1 : 0;
}

CURL *http_handle_new(const char *url, long timeout)
{
	CURL *c;

	if (http_cancel_flag || http_deadline_passed())
		return NULL;
	http_plain_warn(url);
	if ((c = curl_easy_init()) == NULL)
		return NULL;
	if (http_handle_setup(c, url) != 0 ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout) != CURLE_OK) {
		curl_easy_cleanup(c);
		return NULL;
	}
	return c;
}

/* "Authorization: Bearer <token>" for a token of the base64url alphabet
 * only: a token read from a file must not add header lines. */
struct curl_slist *http_bearer_add(struct curl_slist *h, const char *bearer)
{
	char line[sizeof "Authorization: Bearer " + HTTP_BEARER_MAX];
	struct curl_slist *out;
	size_t n = strlen(bearer);

	if (n == 0 || n > HTTP_BEARER_MAX ||
	    strspn(bearer, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                   "abcdefghijklmnopqrstuvwxyz"
	                   "0123456789-_") != n)
		return NULL;
	snprintf(line, sizeof line, "Authorization: Bearer %s", bearer);
	out = curl_slist_append(h, line);
	sodium_memzero(line, sizeof line);
	return out;
}

int http_json_request(const char *method, const char *url, json_object *body, const char *bearer,
                      struct http_reply *reply)
{
	CURL *c = NULL;
	struct curl_slist *h = NULL, *h2;
	struct http_body got = {NULL, 0, 0, 0};
	const char *text;
	CURLcode e;
	int rc = CLI_ENETWORK;

	memset(reply, 0, sizeof *reply);
	http_unanswered = 0;
	if (http_cancel_flag || http_deadline_passed()) {
		cli_err("interrupted");
		return CLI_ENETWORK;
	}
	http_plain_warn(url);
	c = curl_easy_init();
	if (c == NULL || http_handle_setup(c, url) != 0) {
		cli_err("cannot set up libcurl");
		rc = CLI_EINTERNAL;
		goto out;
	}
	/* "Expect:" keeps curl from waiting for a 100 Continue nginx never sends. */
	h = curl_slist_append(h, "Accept: application/json");
	if (h != NULL && bearer != NULL && http_bearer_add(h, bearer) == NULL) {
		cli_err("the stored fetch token is malformed");
		rc = CLI_EDATA;
		goto out;
	}
	if (h != NULL && body != NULL) {
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
		                                                JSON_C_TO_STRING_NOSLASHESCAPE);
		if ((h2 = curl_slist_append(h, "Content-Type: application/json")) != NULL)
			h2 = curl_slist_append(h2, "Expect:");
		if (h2 == NULL || text == NULL ||
		    curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, text) != CURLE_OK) {
			cli_err("out of memory");
			rc = CLI_EINTERNAL;
			goto out;
		}
	}
	if (h == NULL || curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_collect) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header_take) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply->retry_after) != CURLE_OK) {
		cli_err("cannot set up libcurl");
		rc = CLI_EINTERNAL;
		goto out;
	}
	e = curl_easy_perform(c);
	if (e == CURLE_ABORTED_BY_CALLBACK) {
		cli_err("interrupted");
		goto out;
	}
	if (got.too_large || e == CURLE_FILESIZE_EXCEEDED) {
		cli_err("%s: the reply is larger than %ld bytes; not reading it", url,
		        HTTP_REPLY_MAX);
		goto out;
	}
	if (e != CURLE_OK) {
		long sent = 0;

		/* The request went out whole or in part, and no reply came
		 * (nothing, a broken connection, a time-out): the server may
		 * have acted on it. */
		if ((e == CURLE_GOT_NOTHING || e == CURLE_RECV_ERROR || e == CURLE_SEND_ERROR ||
		     e == CURLE_OPERATION_TIMEDOUT || e == CURLE_PARTIAL_FILE) &&
		    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0)
			http_unanswered = 1;
		cli_err("cannot reach %s: %s", url, curl_easy_strerror(e));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
	if (got.data != NULL)
		reply->json = jsonv_object_parse(got.data, got.len);
	rc = CLI_OK;
out:
	/* The header list holds "Authorization: Bearer <token>", the raw
	 * reply maybe a token (/register, /rotate_token): wiped, not just
	 * freed. */
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (got.data != NULL)
		sodium_memzero(got.data, got.cap);
	free(got.data);
	return rc;
}

void http_reply_free(struct http_reply *r)
{
	json_object_put(r->json);
	r->json = NULL;
}

void http_reply_secret_wipe(struct http_reply *r, const char *key)
{
	json_object *v;

	if (r->json != NULL && json_object_object_get_ex(r->json, key, &v) &&
	    json_object_is_type(v, json_type_string))
		sodium_memzero((char *)json_object_get_string(v),
		               (size_t)json_object_get_string_len(v));
}

const char *http_reply_reason(const struct http_reply *r)
{
	const char *s = jsonv_str_get(r->json, "error");

	if (s != NULL)
		return s;
	if (r->status >= 300 && r->status < 400)
		return "a redirect, which sealdrop does not follow (check the server URL)";
	return "no explanation given";
}
