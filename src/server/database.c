/* The database before serving. Done once in the main thread, after the
 * privilege drop, so the directory and files belong to --user; the workers
 * then open their own connections to a schema that is already current. */
#include "server/database.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"

/* The SQLite default lives in the state directory: create it (private). */
void database_dir_make(const struct sd_config *cfg)
{
	char path[sizeof cfg->db];
	char *slash;

	if (strncmp(cfg->db, "sqlite:", 7) != 0)
		return;
	snprintf(path, sizeof path, "%s", cfg->db + 7);
	slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return;
	*slash = '\0';
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		fprintf(stderr, "sealdropd: cannot create %s: %s\n", path, strerror(errno));
}

int database_migrate(const struct sd_config *cfg, int recount)
{
	struct sd_store *st = NULL;
	char err[512];
	enum sd_err e;

	if (store_open(cfg->db, cfg, &st, err, sizeof err) != SD_OK) {
		fprintf(stderr, "sealdropd: %s\n", err);
		return -1;
	}
	e = store_migrate(st);
	if (e == SD_OK && recount)
		e = store_recount(st);
	store_close(st);
	if (e != SD_OK) {
		fprintf(stderr, "sealdropd: database migration failed (%s)\n", sd_err_str(e));
		return -1;
	}
	return 0;
}
