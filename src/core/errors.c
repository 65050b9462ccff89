#include "core/errors.h"

const char *sd_err_str(enum sd_err e)
{
	switch (e) {
	case SD_OK:
		return "ok";
	case SD_ENOTFOUND:
		return "not found";
	case SD_EFORBIDDEN:
		return "forbidden";
	case SD_ERETRY:
		return "conflict, retry";
	case SD_EFULL:
		return "full";
	case SD_ELIMIT:
		return "limit reached";
	case SD_ECONFLICT:
		return "conflict";
	case SD_EDB:
		return "database error";
	case SD_ENOMEM:
		return "out of memory";
	case SD_EINVAL:
		return "invalid argument";
	}
	return "unknown error";
}
