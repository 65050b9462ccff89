/* MariaDB/MySQL backend: not built yet (next step of the MariaDB work). */
#include <stdio.h>

#include "store/store_impl.h"

enum sd_err store_mysql_open(const char *dsn, const struct sd_config *cfg,
			     struct sd_store **out, char *err, size_t errlen)
{
	(void)dsn;
	(void)cfg;
	*out = NULL;
	snprintf(err, errlen, "MySQL/MariaDB support is not built into this version");
	return SD_EINVAL;
}
