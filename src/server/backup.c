/* The copy goes through SQLite's online backup API, page by page, from one
 * read transaction held for the whole copy. In WAL mode a reader blocks no
 * writer, so the server keeps committing meanwhile (its WAL grows until the
 * copy ends); and because the snapshot is held, the copy is exactly the
 * database as of its start and never has to restart when the server
 * writes — which a backup stepping without its own transaction would do
 * after every commit, forever under steady load. Steps are bounded with a
 * short sleep between them so the copy does not starve the server's I/O. */
#include "server/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_STEP_PAGES 512
#define BACKUP_PAUSE_MS   10

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Run root's copy as the owner of the database instead: SQLite may create
 * the -wal and -shm files beside it, and root-owned ones would lock the
 * server out. */
static int owner_ok(const char *src)
{
	struct stat st;

	if (stat(src, &st) != 0) {
		fprintf(stderr, "sealdropd: --backup: no database at %s: %s\n", src,
		        strerror(errno));
		return 0;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		fprintf(stderr,
		        "sealdropd: --backup: run it as the database's owner (or as root with "
		        "--user OWNER)\n");
		return 0;
	}
	return 1;
}

/* The new file, mode 0600 whatever the umask; never an existing one. */
static int dest_create(const char *dest)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "sealdropd: --backup: %s exists; not overwriting it\n",
			        dest);
		else
			fprintf(stderr, "sealdropd: --backup: cannot create %s: %s\n", dest,
			        strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0) {
		fprintf(stderr, "sealdropd: --backup: chmod %s: %s\n", dest, strerror(errno));
		close(fd);
		unlink(dest);
		return -1;
	}
	close(fd);
	return 0;
}

/* The copy itself, from src (in a read transaction) to dst. */
static int copy_pages(sqlite3 *src, sqlite3 *dst, int *pages)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL) {
		fprintf(stderr, "sealdropd: --backup: %s\n", sqlite3_errmsg(dst));
		return -1;
	}
	do {
		rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(BACKUP_PAUSE_MS);
	} while (!interrupted && (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED));
	*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	if (interrupted) {
		fprintf(stderr, "sealdropd: --backup: interrupted\n");
		return -1;
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "sealdropd: --backup: copy failed: %s\n", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* The copy must read back whole. */
static int quick_check(sqlite3 *dst)
{
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);

		ok = v != NULL && strcmp((const char *)v, "ok") == 0;
	}
	sqlite3_finalize(st);
	if (!ok)
		fprintf(stderr, "sealdropd: --backup: the copy fails quick_check\n");
	return ok ? 0 : -1;
}

/* The file and its directory entry on disk before success is reported. */
static int sync_path(const char *dest)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc = 0;

	if ((fd = open(dest, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	snprintf(dir, sizeof dir, "%s", dest);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		fprintf(stderr, "sealdropd: --backup: cannot sync %s: %s\n", dest, strerror(errno));
	return rc;
}

static void remove_partial(const char *dest)
{
	static const char *const suffix[] = {"-journal", "-wal", "-shm"};
	char side[PATH_MAX + 16];

	unlink(dest);
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(side, sizeof side, "%s%s", dest, suffix[i]);
		unlink(side);
	}
}

int backup_run(const struct sd_config *cfg)
{
	const char *src_path = cfg->db + 7, *dest = cfg->backup;
	sqlite3 *src = NULL, *dst = NULL;
	int pages = 0, rc = 1, created = 0;

	if (strncmp(cfg->db, "sqlite:", 7) != 0) {
		fprintf(stderr,
		        "sealdropd: --backup copies SQLite databases; back up MariaDB/MySQL "
		        "with mariadb-backup (docs/DEPLOY.md)\n");
		return 78;
	}
	if (!owner_ok(src_path))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (dest_create(dest) != 0)
		return 1;
	created = 1;
	/* Read-only: the copy never writes to the live database, nor
	 * checkpoints it on close. */
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(src, 5000) != SQLITE_OK ||
	    sqlite3_exec(src, "BEGIN; SELECT COUNT(*) FROM sqlite_master;", NULL, NULL, NULL) !=
	        SQLITE_OK) {
		fprintf(stderr, "sealdropd: --backup: cannot read %s: %s\n", src_path,
		        src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "sealdropd: --backup: cannot open %s: %s\n", dest,
		        dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	if (copy_pages(src, dst, &pages) != 0)
		goto out;
	(void)sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	src = NULL;
	if (quick_check(dst) != 0)
		goto out;
	if (sqlite3_close(dst) != SQLITE_OK) {
		fprintf(stderr, "sealdropd: --backup: cannot close %s\n", dest);
		dst = NULL;
		goto out;
	}
	dst = NULL;
	if (sync_path(dest) != 0)
		goto out;
	fprintf(stderr, "sealdropd: backup complete: %d pages in %s\n", pages, dest);
	rc = 0;
out:
	if (src != NULL)
		sqlite3_close(src);
	if (dst != NULL)
		sqlite3_close(dst);
	if (rc != 0 && created)
		remove_partial(dest);
	return rc;
}
