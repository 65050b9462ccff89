/* Live events for watch: a long-poll of GET /events (docs/API.md "Live
 * events") that returns as soon as a message arrives in the inbox, so
 * watch fetches at once instead of at its next poll. */
#ifndef SD_CLIENT_EVENTS_H
#define SD_CLIENT_EVENTS_H

#include "client/session.h"

enum events_result {
	EVENTS_ARRIVED,     /* something arrived: fetch now */
	EVENTS_QUIET,       /* nothing within the wait (or the server ended it) */
	EVENTS_BUSY,        /* 429 or 5xx: wait the interval, then try again */
	EVENTS_UNAVAILABLE, /* no live events here (404, 501, refused, no fetch token) */
	EVENTS_INTERRUPTED, /* cancelled (Ctrl-C) */
};

/* Where the last long-poll left off (nchan's Last-Modified and Etag): the
 * next one then also hears what was published in between. */
struct events_cursor {
	char last_modified[64];
	char etag[64];
};

/* Wait at most seconds for the next event of s's inbox, authenticated by
 * its fetch token. */
enum events_result events_wait(const struct session *s, struct events_cursor *cur, long seconds);

#endif
