#include "server/events_key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_HEX           (2 * SD_EVENT_KEY_BYTES)
/* A temporary key file older than this was left by a crash: another
 * instance's lives for milliseconds. */
#define STALE_TMP_SECONDS 60

/* Remove "<name>.new.*" files a crashed start left beside the key. */
static void remove_stale_tmp(const char *path)
{
	char dir[700], prefix[300];
	const char *slash = strrchr(path, '/');
	size_t plen;
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int dfd;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		return;
	if (snprintf(prefix, sizeof prefix, "%s.new.", slash ? slash + 1 : path) >=
	    (int)sizeof prefix)
		return;
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) == 0 &&
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > STALE_TMP_SECONDS)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

/* Write a new key to a private temporary file and link it into place:
 * link() fails when another instance got there first, and then its key
 * is the one read. The temporary name is random: a PID repeats after a
 * crash (PID 1 in every container start). */
static int key_create(const char *path, char *err, size_t errlen)
{
	unsigned char key[SD_EVENT_KEY_BYTES], salt[8];
	char hex[KEY_HEX + 2], salt_hex[2 * sizeof salt + 1], tmp[700];
	int fd, ok;

	remove_stale_tmp(path);
	randombytes_buf(salt, sizeof salt);
	sodium_bin2hex(salt_hex, sizeof salt_hex, salt, sizeof salt);
	if (snprintf(tmp, sizeof tmp, "%s.new.%s", path, salt_hex) >= (int)sizeof tmp) {
		snprintf(err, errlen, "events key file name is too long");
		return -1;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	sodium_memzero(key, sizeof key);
	hex[KEY_HEX] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the events key %s: %s", tmp, strerror(errno));
		return -1;
	}
	ok = write(fd, hex, KEY_HEX + 1) == KEY_HEX + 1 && fsync(fd) == 0;
	sodium_memzero(hex, sizeof hex);
	ok = close(fd) == 0 && ok;
	if (ok && link(tmp, path) != 0 && errno != EEXIST)
		ok = 0;
	unlink(tmp);
	if (!ok)
		snprintf(err, errlen, "cannot write the events key %s: %s", path, strerror(errno));
	return ok ? 0 : -1;
}

int events_key_load(const char *path, unsigned char key[SD_EVENT_KEY_BYTES], char *err,
                    size_t errlen)
{
	char hex[KEY_HEX + 8];
	struct stat st;
	ssize_t n;
	size_t got;
	int fd;

	/* O_NONBLOCK: a FIFO in its place must not hang the start. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		if (key_create(path, err, errlen) != 0)
			return -1;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the events key %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "the events key %s must be a regular file", path);
		return -1;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		close(fd);
		snprintf(err, errlen,
		         "the events key %s must be its owner's alone, not its group's or "
		         "others' (chmod 600)",
		         path);
		return -1;
	}
	n = read(fd, hex, sizeof hex - 1);
	close(fd);
	hex[n > 0 ? n : 0] = '\0';
	/* 64 hex digits, then at most blanks and line ends. */
	if (n < KEY_HEX || strspn(hex + KEY_HEX, " \t\r\n") != (size_t)n - KEY_HEX ||
	    sodium_hex2bin(key, SD_EVENT_KEY_BYTES, hex, KEY_HEX, NULL, &got, NULL) != 0 ||
	    got != SD_EVENT_KEY_BYTES) {
		sodium_memzero(hex, sizeof hex);
		snprintf(err, errlen, "the events key %s must hold 64 hex digits", path);
		return -1;
	}
	sodium_memzero(hex, sizeof hex);
	return 0;
}
