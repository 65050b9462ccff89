/* Space on the file system that holds a SQLite database. */
#ifndef SD_DISK_H
#define SD_DISK_H

#include <stdint.h>

/* Free bytes (for an unprivileged user) and total bytes of the file system
 * of dsn's SQLite file, judged by its directory (the WAL grows there too).
 * 0, or -1 for another backend or when it cannot be known. */
int sd_sqlite_disk_space(const char *dsn, int64_t *free_bytes, int64_t *size_bytes);

#endif
