/* sealdropd --backup FILE: a consistent copy of the SQLite database, made
 * while the server runs (docs/DEPLOY.md, "Backups"). */
#ifndef SD_BACKUP_H
#define SD_BACKUP_H

#include "core/config.h"

/* Copy cfg->db to cfg->backup, a file that must not exist yet (created
 * mode 0600). Returns the process's exit status: 0 only when the copy is
 * complete, synced and passes SQLite's quick_check; a partial copy is
 * removed. A MySQL/MariaDB configuration is refused (mariadb-backup is the
 * tool for it). Runs after the privilege drop. */
int backup_run(const struct sd_config *cfg);

#endif
