/* In-process notice that a message was stored, for whoever pushes "something
 * arrived" onward (live events, webhooks). Listeners are registered once at
 * start, before any worker runs; a notice is best effort and carries no
 * content: the inbox and the new message's id. */
#ifndef SD_EVENTS_H
#define SD_EVENTS_H

#include <stdint.h>

typedef void (*sd_stored_fn)(void *arg, const char *link_token, int64_t msg_id);

/* Add a listener (at most SD_EVENTS_MAX; -1 beyond). Not thread-safe: call
 * before starting workers. fn runs on the worker that stored the message,
 * after the commit: it must not block (queue and return). */
#define SD_EVENTS_MAX 4
int sd_events_on_stored(sd_stored_fn fn, void *arg);

/* 1 when a listener was registered (live events are on). */
int sd_events_listening(void);

/* Tell every listener that msg_id was committed to link_token's inbox. */
void sd_events_stored(const char *link_token, int64_t msg_id);

#endif
