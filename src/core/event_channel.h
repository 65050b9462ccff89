/* The live-events channel of an inbox: keyed BLAKE2b of its link token
 * under the server's events key, in hex. Not the link token itself, so
 * holding a link (or guessing a channel) never lets anyone listen, and
 * knowing a channel id tells nothing about the inbox. */
#ifndef SD_EVENT_CHANNEL_H
#define SD_EVENT_CHANNEL_H

#include <stddef.h>

#define SD_EVENT_KEY_BYTES   32
#define SD_EVENT_CHANNEL_HEX 64 /* 32 bytes of hash, in hex */

/* Set the key (once, at start, before any worker runs). Until then live
 * events are off and sd_event_channel_on() is 0. */
void sd_event_channel_set_key(const unsigned char key[SD_EVENT_KEY_BYTES]);

/* 1 when a key was set: this process publishes events. */
int sd_event_channel_on(void);

/* The channel of link_token into out (SD_EVENT_CHANNEL_HEX + 1 bytes). */
void sd_event_channel_id(const char *link_token, char out[SD_EVENT_CHANNEL_HEX + 1]);

/* The spelling of link_token that names its inbox's channel, into out
 * (cap bytes, truncated past it): with fold_case (the store matches a
 * link in any case, store_links_fold_case) the token in lower case, so
 * every spelling the store takes for the inbox names one channel without
 * asking the database for the stored one; otherwise the token as given.
 * ASCII only: a link token is link_ and base64url. */
void sd_event_channel_link(const char *link_token, int fold_case, char *out, size_t cap);

#endif
