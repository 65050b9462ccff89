/* The error vocabulary of stores and helpers. Never an HTTP status: the api
 * layer maps these (api_util.c) so handlers never invent status codes. */
#ifndef SD_ERRORS_H
#define SD_ERRORS_H

enum sd_err {
	SD_OK = 0,
	SD_ENOTFOUND,  /* no such inbox / challenge / request */
	SD_EFORBIDDEN, /* it exists, but belongs to another inbox */
	SD_EFULL,      /* an inbox cap would be exceeded */
	SD_ELIMIT,     /* a per-caller limit is reached */
	SD_ECONFLICT,  /* a unique value already exists, or the state moved on */
	SD_ERETRY,     /* a lost conflict (deadlock, busy): nothing was done */
	SD_EDB,        /* the database failed or is unreachable */
	SD_ENOMEM,
	SD_EINVAL, /* a caller passed something impossible */
};

const char *sd_err_str(enum sd_err e);

#endif
