/* Least privilege for sealdropd. */
#ifndef SD_PRIVILEGES_H
#define SD_PRIVILEGES_H

#include "core/config.h"

/* Become cfg->user (when set; that needs root) and set no_new_privs.
 * Called once the socket is bound, before any database is opened or any
 * request read. Returns 0, or -1 with the reason on stderr. */
int privileges_drop(const struct sd_config *cfg);

#endif
