/* The database before the first request: its directory and its schema. */
#ifndef SD_DATABASE_H
#define SD_DATABASE_H

#include "core/config.h"

/* For an SQLite database, create its directory (mode 0700) when missing;
 * a failure is reported and left for the open to fail on. */
void database_dir_make(const struct sd_config *cfg);

/* Open the database once and bring its schema up to date; with recount,
 * also compute every inbox's counters from its rows (--migrate --recount,
 * which an operator runs with no instance serving, e.g. after PyCrypt ran
 * on the database). Returns 0, or -1 with the reason on stderr. */
int database_migrate(const struct sd_config *cfg, int recount);

#endif
