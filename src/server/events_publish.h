/* Live events, the publishing half: a listener of core/events.h queues a
 * content-free notice for each stored message, and one thread posts it to
 * nginx's nchan publisher (SEALDROP_EVENTS_PUBLISH), which pushes it to
 * the inbox's subscribers. A worker never waits: the queue is bounded and a
 * notice that does not fit is dropped and counted (clients still poll). */
#ifndef SD_EVENTS_PUBLISH_H
#define SD_EVENTS_PUBLISH_H

#include "core/config.h"

/* Load the key, register the listener and start the thread, when
 * cfg->events_publish is set (otherwise nothing: /events answers 501).
 * Call before the workers start. 0, or -1 after a message on stderr. */
int events_publish_start(const struct sd_config *cfg);

/* Stop the thread (notices still queued are dropped) and join it. */
void events_publish_stop(void);

#endif
