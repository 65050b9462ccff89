/* Configuration: command-line flags > environment > .env file > defaults.
 * The .env keys of PyCrypt (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME,
 * BASE_URL) are honoured so an existing deployment's file works as is. */
#ifndef SD_CONFIG_H
#define SD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/sd.h"

/* The longest SEALDROP_STATUS_INTERVAL, seconds. */
#define SD_STATUS_INTERVAL_MAX (7 * 86400)

struct sd_limits {
	int64_t inbox_max_messages;    /* stored messages per inbox */
	int64_t inbox_max_bytes;       /* stored ciphertext+metadata bytes per inbox */
	int64_t challenges_per_caller; /* outstanding per link and caller address */
	int64_t challenge_ttl;         /* seconds */
	int64_t retention_days;        /* 0: keep until deleted */
	int64_t requests_per_inbox;    /* pending message requests to one inbox */
	int64_t requests_per_caller;   /* pending message requests from one caller */
	int64_t max_inboxes;           /* inboxes in all (0: no bound) */
	int64_t max_stored_bytes;      /* charged bytes of every inbox (0: no bound) */
	int64_t min_free_bytes;        /* free space kept on the SQLite file system */
	int64_t status_interval;       /* seconds between releases of receipt statuses */
	int64_t receipt_days;          /* receipts kept this long after their last activity */
	int64_t replies_per_receipt;   /* replies stored under one receipt */
	int64_t replies_per_inbox;     /* replies stored by one inbox */
};

struct sd_config {
	char db[1024];      /* sqlite:PATH or mysql://... */
	char base_url[512]; /* no trailing slash */
	char listen[512];   /* unix:PATH, HOST:PORT, or empty (fd 0 / CGI) */
	char state_dir[512];
	char user[64];           /* drop to this user after binding (started as root) */
	char metrics[512];       /* --metrics unix:PATH or loopback HOST:PORT; empty: none */
	char backup[1024];       /* --backup FILE: copy the SQLite database there, exit */
	int64_t metrics_refresh; /* seconds between reads of the metrics' totals */
	int64_t threads;
	int64_t socket_mode;
	int sqlite_sync_full; /* PRAGMA synchronous=FULL rather than NORMAL */
	int migrate_only;
	int recount; /* --recount, with --migrate */
	int show_help;
	struct sd_limits limits;
};

/* Load everything. Returns 0, or -1 with a message for people in err (which
 * never holds a password). */
SD_MUST_CHECK int sd_config_load(struct sd_config *cfg, int argc, char **argv, char *err,
                                 size_t errlen);

/* The --help text. */
const char *sd_config_usage(void);

/* Parse one .env line into key/value (both trimmed, quotes removed). Returns
 * 1 for a setting, 0 for a blank or comment line, -1 for garbage. Exposed for
 * the unit tests. */
int sd_env_parse_line(char *line, char **key, char **value);

#endif
