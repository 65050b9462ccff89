/* Local files: bounded reads and private, atomic writes. */
#ifndef SD_CLIENT_FILE_H
#define SD_CLIENT_FILE_H

#include <stddef.h>

/* Read all of path into a malloc'd, NUL-terminated
 * buffer of at most max bytes. Returns an exit code (message printed);
 * *out is NULL unless CLI_OK. */
int file_bounded_read(const char *path, size_t max, char **out, size_t *len);

/* CLI_EIO with "PATH exists; not replacing it" (and " (HINT)" when hint
 * is not NULL, e.g. "use --force" for a command that has it) when path
 * exists, else CLI_OK: the check made before asking for a passphrase. */
int file_existing_refuse(const char *path, const char *hint);

/* Write text and a newline to path, mode 0600, creating missing parent
 * directories with mode 0700. The file is written beside path and renamed
 * over it, so a reader never sees half a file. With excl, an existing path
 * is refused. Returns an exit code (message printed). */
int file_private_write(const char *path, const char *text, int excl);

#endif
