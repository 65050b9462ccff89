/* HTTP through libcurl: certificate verification stays on, only http and
 * https, bounded time, and a server reply is read to at most 4 MiB. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "client/cli.h"
#include "config.h"

#define REPLY_MAX (4 * 1024 * 1024)

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct sd_buf *b = arg;

	if (b->len + size * n > REPLY_MAX)
		return 0; /* aborts the transfer */
	sd_buf_append(b, p, size * n);
	return size * n;
}

int http_json(const char *method, const char *url, json_object *body, const char *bearer,
              struct http_reply *reply)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct sd_buf out = {0};
	char auth[512];
	CURLcode rc;

	memset(reply, 0, sizeof *reply);
	if (c == NULL) {
		cli_err("cannot start libcurl");
		return EX_NETWORK_;
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS,
		                 json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	}
	if (bearer != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "sealdrop-cli/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	sodium_memzero(auth, sizeof auth);
	if (rc != CURLE_OK) {
		cli_err("cannot reach %s: %s", url, curl_easy_strerror(rc));
		curl_easy_cleanup(c);
		sd_buf_free(&out);
		return EX_NETWORK_;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
	curl_easy_cleanup(c);
	if (out.data != NULL)
		reply->json = json_tokener_parse(out.data);
	sd_buf_free(&out);
	return EX_OK_;
}

void http_reply_free(struct http_reply *r)
{
	json_object_put(r->json);
	r->json = NULL;
}

const char *http_error_text(const struct http_reply *r)
{
	json_object *v;

	if (r->json != NULL && json_object_object_get_ex(r->json, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "no explanation given";
}
