/* libcurl, configured once for every request: certificate verification on
 * (never switched off), http and https only, no redirects (a redirect
 * could carry a request somewhere the user did not name), bounded time and
 * a bounded reply. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/http.h"
#include "client/jsonv.h"
#include "config.h"

#define HTTP_CONNECT_TIMEOUT 15L  /* seconds */
#define HTTP_TOTAL_TIMEOUT   120L /* seconds */

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
		if ((grown = realloc(b->data, cap)) == NULL)
			return 0;
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
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TOTAL_TIMEOUT) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "sealdrop/" PACKAGE_VERSION) != CURLE_OK;
	return bad ? -1 : 0;
}

int http_json_request(const char *method, const char *url, json_object *body,
                      struct http_reply *reply)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL, *h2;
	struct http_body got = {NULL, 0, 0, 0};
	const char *text;
	CURLcode e;
	int rc = CLI_ENETWORK;

	memset(reply, 0, sizeof *reply);
	if (c == NULL || http_handle_setup(c, url) != 0) {
		cli_err("cannot set up libcurl");
		rc = CLI_EINTERNAL;
		goto out;
	}
	/* "Expect:" keeps curl from waiting for a 100 Continue nginx never sends. */
	h = curl_slist_append(h, "Accept: application/json");
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
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got) != CURLE_OK) {
		cli_err("cannot set up libcurl");
		rc = CLI_EINTERNAL;
		goto out;
	}
	e = curl_easy_perform(c);
	if (got.too_large || e == CURLE_FILESIZE_EXCEEDED) {
		cli_err("%s: the reply is larger than %ld bytes; not reading it", url,
		        HTTP_REPLY_MAX);
		goto out;
	}
	if (e != CURLE_OK) {
		cli_err("cannot reach %s: %s", url, curl_easy_strerror(e));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
	if (got.data != NULL)
		reply->json = jsonv_object_parse(got.data, got.len);
	rc = CLI_OK;
out:
	curl_slist_free_all(h);
	if (c != NULL)
		curl_easy_cleanup(c);
	free(got.data);
	return rc;
}

void http_reply_free(struct http_reply *r)
{
	json_object_put(r->json);
	r->json = NULL;
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
