/* The live-events key: 32 random bytes, in hex, in a file of its own
 * (default STATE/events.key), made 0600 at the first start. Instances
 * behind one nginx must share it (the same file, or a copy), or their
 * channels differ. */
#ifndef SD_EVENTS_KEY_H
#define SD_EVENTS_KEY_H

#include "core/event_channel.h"

/* Read path into key, creating it first when it does not exist (two
 * instances starting at once agree on one key). 0, or -1 with a message
 * for people in err. */
int events_key_load(const char *path, unsigned char key[SD_EVENT_KEY_BYTES], char *err,
                    size_t errlen);

#endif
