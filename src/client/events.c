#include "client/events.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/cli.h"
#include "client/http.h"

#define EVENTS_URL_MAX   (IDENTITY_SERVER_MAX + IDENTITY_TOKEN_MAX + 64)
#define EVENTS_REPLY_MAX 4096 /* an event is a few dozen bytes */

struct poll_state {
	struct events_cursor next; /* the reply's cursor headers */
	size_t body;               /* bytes of the reply read */
};

/* Keep a header's value when it is short and printable (it goes back to
 * the server in the next request's header). */
static void header_keep(const char *p, size_t n, size_t skip, char *out, size_t cap)
{
	size_t i = skip, len;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	len = n - i;
	while (len > 0 &&
	       (p[i + len - 1] == '\r' || p[i + len - 1] == '\n' || p[i + len - 1] == ' '))
		len--;
	if (len == 0 || len >= cap)
		return;
	for (size_t k = 0; k < len; k++)
		if (!isprint((unsigned char)p[i + k]))
			return;
	memcpy(out, p + i, len);
	out[len] = '\0';
}

static size_t header_take(char *p, size_t size, size_t nitems, void *arg)
{
	struct poll_state *st = arg;
	size_t n = size * nitems;

	if (n > 14 && strncasecmp(p, "last-modified:", 14) == 0)
		header_keep(p, n, 14, st->next.last_modified, sizeof st->next.last_modified);
	else if (n > 5 && strncasecmp(p, "etag:", 5) == 0)
		header_keep(p, n, 5, st->next.etag, sizeof st->next.etag);
	return n;
}

/* The body is not needed (a reply is the news): count it, bounded. */
static size_t body_take(char *p, size_t size, size_t nitems, void *arg)
{
	struct poll_state *st = arg;

	(void)p;
	st->body += size * nitems;
	return st->body > EVENTS_REPLY_MAX ? 0 : size * nitems;
}

static struct curl_slist *cursor_headers(struct curl_slist *h, const struct events_cursor *cur)
{
	char line[96];

	if (h != NULL && cur->last_modified[0] != '\0') {
		snprintf(line, sizeof line, "If-Modified-Since: %s", cur->last_modified);
		h = curl_slist_append(h, line);
	}
	if (h != NULL && cur->etag[0] != '\0') {
		snprintf(line, sizeof line, "If-None-Match: %s", cur->etag);
		h = curl_slist_append(h, line);
	}
	return h;
}

enum events_result events_wait(const struct session *s, struct events_cursor *cur, long seconds)
{
	struct poll_state st;
	char url[EVENTS_URL_MAX];
	struct curl_slist *h = NULL;
	enum events_result res = EVENTS_UNAVAILABLE;
	long status = 0;
	CURL *c;
	CURLcode e;

	if (s->fetch_token == NULL)
		return EVENTS_UNAVAILABLE; /* signing a challenge per wait is not worth it */
	if ((size_t)snprintf(url, sizeof url, "%s/events?link_token=%s", s->id.server,
	                     s->id.link_token) >= sizeof url)
		return EVENTS_UNAVAILABLE;
	if ((c = http_handle_new(url, seconds)) == NULL)
		return http_cancelled() ? EVENTS_INTERRUPTED : EVENTS_UNAVAILABLE;
	memset(&st, 0, sizeof st);
	h = curl_slist_append(NULL, "Accept: application/json"); /* long-poll, not a stream */
	h = h ? http_bearer_add(h, s->fetch_token) : NULL;
	h = cursor_headers(h, cur);
	if (h == NULL || curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_take) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, &st) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_take) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &st) != CURLE_OK)
		goto out;
	e = curl_easy_perform(c);
	if (http_cancelled()) {
		res = EVENTS_INTERRUPTED;
	} else if (e == CURLE_OPERATION_TIMEDOUT) {
		res = EVENTS_QUIET; /* held the whole wait: nothing arrived */
	} else if (e == CURLE_OK &&
	           curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK) {
		if (status == 200) {
			res = EVENTS_ARRIVED;
			*cur = st.next;
		} else if (status == 304 || status == 408) {
			res = EVENTS_QUIET; /* nchan's own time-out */
		} else if ((status == 429 || status >= 500) && status != 501) {
			res = EVENTS_BUSY;
		}
		/* 401, 403, 404 and the rest: this server has no events for us. */
	}
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return res;
}
