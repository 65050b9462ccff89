/* The server's global storage bounds: how many inboxes, how many stored
 * bytes in all, and how much free disk the SQLite database keeps. Checked
 * before a write that adds (a new inbox, a send); reading, acknowledging
 * and deleting are never refused by them, so a full server can always be
 * emptied by its users. */
#ifndef SD_API_CAPACITY_H
#define SD_API_CAPACITY_H

#include <stdint.h>

#include "api/api.h"

/* Before /register: 0, or -1 after a 503 capacity_reached (the inbox
 * bound) or 507 storage_full (bytes or disk). */
SD_MUST_CHECK int capacity_inbox_or_reply(struct sd_ctx *ctx);

/* Before /send of `charge` bytes: 0, or -1 after a 507 storage_full. */
SD_MUST_CHECK int capacity_send_or_reply(struct sd_ctx *ctx, int64_t charge);

/* After a write that added: counted at once, so a bound holds between two
 * looks at the database. */
void capacity_added(int64_t inboxes, int64_t bytes);

#endif
