/* Local files. The identity file is the one secret a recipient has: it is
 * written 0600 and atomically, so a crash or a full disk leaves the old
 * file in place. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/file.h"
#include "core/io.h"

int file_bounded_read(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	int rc = CLI_EIO;

	*out = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		cli_err("cannot read %s: %s", path, strerror(errno));
		return CLI_EIO;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		cli_err("out of memory");
		rc = CLI_EINTERNAL;
		goto out;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		cli_err("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (n > max) {
		cli_err("%s is larger than %zu bytes", path, max);
		rc = CLI_EDATA;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = CLI_OK;
out:
	fclose(f);
	free(buf);
	return rc;
}

int file_existing_refuse(const char *path, const char *hint)
{
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return CLI_OK;
	if (hint != NULL)
		cli_err("%s exists; not replacing it (%s)", path, hint);
	else
		cli_err("%s exists; not replacing it", path);
	return CLI_EIO;
}

/* mkdir -p of path's directory; new directories are private. */
static int file_parent_make(const char *path)
{
	char dir[PATH_MAX], *p;

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void file_parent_sync(const char *path)
{
	char dir[PATH_MAX], *p;
	int fd;

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return;
	p = strrchr(dir, '/');
	if (p == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Move tmp to path. With excl, link() refuses an existing path where
 * rename() would replace it; a file system without hard links falls back to
 * rename() after the earlier existence check. */
static int file_tmp_install(const char *tmp, const char *path, int excl)
{
	if (!excl)
		return rename(tmp, path);
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno == EPERM || errno == ENOTSUP || errno == ENOSYS)
		return rename(tmp, path);
	return -1;
}

int file_private_write(const char *path, const char *text, int excl)
{
	char tmp[PATH_MAX];
	int fd = -1, rc = CLI_EIO, made = 0;

	if (file_parent_make(path) != 0) {
		cli_err("cannot create the directory of %s: %s", path, strerror(errno));
		goto out;
	}
	if (excl && file_existing_refuse(path, NULL) != CLI_OK)
		goto out;
	if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp) {
		cli_err("the path %s is too long", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	made = 1;
	if (sd_write_all(fd, text, strlen(text)) != 0 || sd_write_all(fd, "\n", 1) != 0 ||
	    fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (file_tmp_install(tmp, path, excl) != 0)
		goto fail;
	made = 0;
	file_parent_sync(path);
	rc = CLI_OK;
	goto out;
fail:
	cli_err("cannot write %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	return rc;
}
