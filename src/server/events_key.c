#include "server/events_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_HEX (2 * SD_EVENT_KEY_BYTES)

/* Write a new key to a private temporary file and link it into place:
 * link() fails when another instance got there first, and then its key
 * is the one read. */
static int key_create(const char *path, char *err, size_t errlen)
{
	unsigned char key[SD_EVENT_KEY_BYTES];
	char hex[KEY_HEX + 2], tmp[700];
	int fd, ok;

	if (snprintf(tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
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

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (key_create(path, err, errlen) != 0)
			return -1;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the events key %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & S_IRWXO) != 0) {
		close(fd);
		snprintf(err, errlen,
		         "the events key %s must not be readable by others (chmod 600)", path);
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
