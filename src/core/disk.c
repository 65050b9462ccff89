#include "core/disk.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

int sd_sqlite_disk_space(const char *dsn, int64_t *free_bytes, int64_t *size_bytes)
{
	char dir[1024];
	char *slash;
	struct statvfs v;

	if (strncmp(dsn, "sqlite:", 7) != 0 ||
	    snprintf(dir, sizeof dir, "%s", dsn + 7) >= (int)sizeof dir)
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (statvfs(dir, &v) != 0)
		return -1;
	*free_bytes = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
	*size_bytes = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
	return 0;
}
