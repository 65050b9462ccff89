#include "core/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/num.h"
#include "core/outbound.h"

/* Settings that may come from a flag, the environment or the .env file. */
enum cfg_key {
	K_DB,
	K_BASE_URL,
	K_LISTEN,
	K_THREADS,
	K_STATE,
	K_SOCKET_MODE,
	K_SQLITE_SYNC,
	K_MAX_MSGS,
	K_MAX_BYTES,
	K_CHALLENGES,
	K_CHALLENGE_TTL,
	K_RETENTION,
	K_REQ_INBOX,
	K_REQ_CALLER,
	K_USER,
	K_MAX_INBOXES,
	K_MAX_STORED,
	K_MIN_FREE,
	K_METRICS,
	K_METRICS_REFRESH,
	K_STATUS_INTERVAL,
	K_RECEIPT_DAYS,
	K_WEBHOOK_INTERVAL,
	K_WEBHOOK_ALLOW,
	K_WEBHOOK_RETRY,
	K_WEBHOOK_ATTEMPTS,
	K_WEBHOOK_TIMEOUT,
	K_WEBHOOK_SENDERS,
	K_EVENTS_PUBLISH,
	K_EVENTS_KEY_FILE,
	K_DB_HOST,
	K_DB_PORT,
	K_DB_USER,
	K_DB_PASSWORD,
	K_DB_NAME,
	K_DB_SOCKET,
	K__MAX
};

static const struct {
	const char *env;
	const char *flag;
} keys[K__MAX] = {
    [K_DB] = {"SEALDROP_DB", "--db"},
    [K_BASE_URL] = {"BASE_URL", "--base-url"},
    [K_LISTEN] = {"SEALDROP_LISTEN", "--listen"},
    [K_THREADS] = {"SEALDROP_THREADS", "--threads"},
    [K_STATE] = {"SEALDROP_STATE_DIR", "--state"},
    [K_SOCKET_MODE] = {"SEALDROP_SOCKET_MODE", "--socket-mode"},
    [K_SQLITE_SYNC] = {"SEALDROP_SQLITE_SYNC", "--sqlite-sync"},
    [K_MAX_MSGS] = {"SEALDROP_INBOX_MAX_MESSAGES", "--inbox-max-messages"},
    [K_MAX_BYTES] = {"SEALDROP_INBOX_MAX_BYTES", "--inbox-max-bytes"},
    [K_CHALLENGES] = {"SEALDROP_CHALLENGES_PER_CALLER", "--challenges-per-caller"},
    [K_CHALLENGE_TTL] = {"SEALDROP_CHALLENGE_TTL", "--challenge-ttl"},
    [K_RETENTION] = {"SEALDROP_RETENTION_DAYS", "--retention-days"},
    [K_REQ_INBOX] = {"SEALDROP_REQUESTS_PER_INBOX", "--requests-per-inbox"},
    [K_REQ_CALLER] = {"SEALDROP_REQUESTS_PER_CALLER", "--requests-per-caller"},
    [K_USER] = {"SEALDROP_USER", "--user"},
    [K_MAX_INBOXES] = {"SEALDROP_MAX_INBOXES", "--max-inboxes"},
    [K_MAX_STORED] = {"SEALDROP_MAX_STORED_BYTES", "--max-stored-bytes"},
    [K_MIN_FREE] = {"SEALDROP_MIN_FREE_BYTES", "--min-free-bytes"},
    [K_METRICS] = {"SEALDROP_METRICS", "--metrics"},
    [K_METRICS_REFRESH] = {"SEALDROP_METRICS_REFRESH", "--metrics-refresh"},
    [K_STATUS_INTERVAL] = {"SEALDROP_STATUS_INTERVAL", "--status-interval"},
    [K_RECEIPT_DAYS] = {"SEALDROP_RECEIPT_DAYS", "--receipt-days"},
    [K_WEBHOOK_INTERVAL] = {"SEALDROP_WEBHOOK_INTERVAL", "--webhook-interval"},
    [K_WEBHOOK_ALLOW] = {"SEALDROP_WEBHOOK_ALLOW", "--webhook-allow"},
    [K_WEBHOOK_RETRY] = {"SEALDROP_WEBHOOK_RETRY", "--webhook-retry"},
    [K_WEBHOOK_ATTEMPTS] = {"SEALDROP_WEBHOOK_ATTEMPTS", "--webhook-attempts"},
    [K_WEBHOOK_TIMEOUT] = {"SEALDROP_WEBHOOK_TIMEOUT", "--webhook-timeout"},
    [K_WEBHOOK_SENDERS] = {"SEALDROP_WEBHOOK_SENDERS", "--webhook-senders"},
    [K_EVENTS_PUBLISH] = {"SEALDROP_EVENTS_PUBLISH", "--events-publish"},
    [K_EVENTS_KEY_FILE] = {"SEALDROP_EVENTS_KEY_FILE", "--events-key-file"},
    [K_DB_HOST] = {"DB_HOST", NULL},
    [K_DB_PORT] = {"DB_PORT", NULL},
    [K_DB_USER] = {"DB_USER", NULL},
    [K_DB_PASSWORD] = {"DB_PASSWORD", NULL},
    [K_DB_NAME] = {"DB_NAME", NULL},
    [K_DB_SOCKET] = {"DB_SOCKET", NULL},
};

struct cfg_src {
	const char *flag[K__MAX];
	char *dotenv[K__MAX];
};

const char *sd_config_usage(void)
{
	return "usage: sealdropd [options]\n"
	       "  --listen unix:PATH|HOST:PORT  FastCGI socket (default: socket on fd 0,\n"
	       "                                or plain CGI when run by a web server)\n"
	       "  --threads N                   worker threads (default 4)\n"
	       "  --db DSN                      sqlite:PATH or mysql://user:pass@host:port/db\n"
	       "                                or mysql://user:pass@unix(/path/sock)/db\n"
	       "  --base-url URL                public URL of the service (for links)\n"
	       "  --state DIR                   state directory (default ./var)\n"
	       "  --env-file FILE               .env file to read (default ./.env)\n"
	       "  --socket-mode MODE            octal mode of a unix socket (default 660)\n"
	       "  --sqlite-sync full|normal     SQLite durability (default full)\n"
	       "  --inbox-max-messages N        per-inbox stored messages (default 10000)\n"
	       "  --inbox-max-bytes N           per-inbox stored bytes (default 67108864)\n"
	       "  --challenges-per-caller N     outstanding challenges per link and address (5)\n"
	       "  --challenge-ttl SECONDS       challenge lifetime (default 300)\n"
	       "  --retention-days N            purge messages older than N days (0 = never)\n"
	       "  --requests-per-inbox N        pending message requests per inbox (100)\n"
	       "  --requests-per-caller N       pending message requests per address (20)\n"
	       "  --max-inboxes N               inboxes this server holds at most (0 = no bound)\n"
	       "  --max-stored-bytes N          stored bytes of all inboxes at most (0 = no "
	       "bound)\n"
	       "  --min-free-bytes N            refuse new inboxes and sends when the SQLite\n"
	       "                                database's file system has less free (268435456)\n"
	       "  --user NAME                   started as root: drop to this user once the\n"
	       "                                socket is open\n"
	       "  --metrics unix:PATH|127.0.0.1:PORT\n"
	       "                                serve GET /metrics (Prometheus) there; loopback\n"
	       "                                or a unix socket only\n"
	       "  --metrics-refresh SECONDS     how often the metrics' totals are read (30)\n"
	       "  --status-interval SECONDS     receipts show status changes at most this often,\n"
	       "                                plus a random delay of up to half (3600)\n"
	       "  --receipt-days N              erase receipts and their replies N days after\n"
	       "                                their last activity (30)\n"
	       "  --webhook-interval SECONDS    at most one webhook ping per inbox per this (60)\n"
	       "  --webhook-allow LIST          IPs/CIDRs (comma list) webhooks may reach though\n"
	       "                                loopback or private (default: none)\n"
	       "  --webhook-retry SECONDS       first retry of a failed ping; doubles (5)\n"
	       "  --webhook-attempts N          tries before a webhook is marked failing (8)\n"
	       "  --webhook-timeout SECONDS     one ping's whole request, at most 60 (10)\n"
	       "  --webhook-senders N           webhook sender threads per process, 1..32 (4)\n"
	       "  --events-publish unix:PATH|http://HOST:PORT\n"
	       "                                nginx's nchan publisher: live events "
	       "(docs/API.md)\n"
	       "  --events-key-file FILE        the events channels' key (default "
	       "STATE/events.key,\n"
	       "                                made at first start; share it between instances)\n"
	       "  --backup FILE                 copy the SQLite database to FILE (a new file)\n"
	       "                                while it is in use, and exit\n"
	       "  --send-webhooks               send the webhook pings that are due, and exit\n"
	       "                                (for CGI installs, which run no sender: cron)\n"
	       "  --migrate                     apply database migrations and exit\n"
	       "  --recount                     with --migrate: compute every inbox's counters\n"
	       "                                from its rows (after PyCrypt ran on the database;\n"
	       "                                no instance may be serving meanwhile)\n"
	       "  --help                        this text\n"
	       "Every option is also an environment variable (SEALDROP_DB, BASE_URL,\n"
	       "SEALDROP_LISTEN, ...) and a .env key; PyCrypt's DB_HOST, DB_PORT, DB_USER,\n"
	       "DB_PASSWORD and DB_NAME select MySQL/MariaDB when SEALDROP_DB is unset.\n";
}

/* http:// or https://, a host (an IPv6 literal in brackets), an optional
 * port, no user part. */
static int base_url_ok(const char *u)
{
	const char *host, *end;

	if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else
		return 0;
	end = host + strcspn(host, "/?#");
	if (end == host || memchr(host, '@', (size_t)(end - host)) != NULL)
		return 0;
	if (*host == '[')
		return memchr(host, ']', (size_t)(end - host)) != NULL;
	return *host != ':';
}

int sd_env_parse_line(char *line, char **key, char **value)
{
	char *p = line, *eq, *end, *v;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	if (strncmp(p, "export ", 7) == 0)
		p += 7;
	eq = strchr(p, '=');
	if (eq == NULL)
		return -1;
	end = eq;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (*p == '\0')
		return -1;
	for (char *k = p; *k; k++)
		if (!(isalnum((unsigned char)*k) || *k == '_'))
			return -1;
	v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		v[--n] = '\0';
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	} else {
		/* An unquoted value may carry a trailing comment. */
		char *hash = strstr(v, " #");
		if (hash != NULL) {
			*hash = '\0';
			n = strlen(v);
			while (n > 0 && isspace((unsigned char)v[n - 1]))
				v[--n] = '\0';
		}
	}
	*key = p;
	*value = v;
	return 1;
}

static int dotenv_load(struct cfg_src *src, const char *path, int must_exist, char *err,
                       size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int lineno = 0;

	if (f == NULL) {
		if (!must_exist)
			return 0;
		snprintf(err, errlen, "cannot read env file %s", path);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *k, *v;
		int rc;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		rc = sd_env_parse_line(line, &k, &v);
		if (rc < 0) {
			snprintf(err, errlen, "%s:%d: not a KEY=VALUE line", path, lineno);
			fclose(f);
			return -1;
		}
		if (rc == 0)
			continue;
		for (int i = 0; i < K__MAX; i++) {
			if (strcmp(keys[i].env, k) == 0) {
				free(src->dotenv[i]);
				src->dotenv[i] = strdup(v);
			}
		}
	}
	fclose(f);
	return 0;
}

static const char *cfg_get(const struct cfg_src *src, enum cfg_key k)
{
	const char *v;

	if (src->flag[k] != NULL)
		return src->flag[k];
	v = getenv(keys[k].env);
	if (v != NULL && *v != '\0')
		return v;
	return src->dotenv[k];
}

static int copy_str(char *dst, size_t cap, const char *v, const char *what, char *err,
                    size_t errlen)
{
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s is too long", what);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int get_num(const struct cfg_src *src, enum cfg_key k, int64_t min, int64_t max,
                   int64_t *out, char *err, size_t errlen)
{
	const char *v = cfg_get(src, k), *why;

	if (v == NULL)
		return 0;
	if (sd_strtoi64(v, min, max, out, &why) != 0) {
		snprintf(err, errlen, "%s: %s (allowed %lld..%lld)", keys[k].env, why,
		         (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

/* Build a mysql:// DSN from PyCrypt's DB_* keys. */
static int dsn_from_pycrypt(const struct cfg_src *src, struct sd_config *cfg, char *err,
                            size_t errlen)
{
	const char *host = cfg_get(src, K_DB_HOST), *name = cfg_get(src, K_DB_NAME);
	const char *user = cfg_get(src, K_DB_USER), *pass = cfg_get(src, K_DB_PASSWORD);
	const char *port = cfg_get(src, K_DB_PORT), *sock = cfg_get(src, K_DB_SOCKET);
	int n;

	if (name == NULL || (host == NULL && sock == NULL))
		return 0;
	if (sock != NULL)
		n = snprintf(cfg->db, sizeof cfg->db, "mysql://%s:%s@unix(%s)/%s", user ? user : "",
		             pass ? pass : "", sock, name);
	else
		n = snprintf(cfg->db, sizeof cfg->db, "mysql://%s:%s@%s:%s/%s", user ? user : "",
		             pass ? pass : "", host, port ? port : "3306", name);
	if (n < 0 || (size_t)n >= sizeof cfg->db) {
		snprintf(err, errlen, "DB_* settings are too long");
		return -1;
	}
	return 0;
}

static void src_free(struct cfg_src *src)
{
	for (int i = 0; i < K__MAX; i++)
		free(src->dotenv[i]);
}

int sd_config_load(struct sd_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct cfg_src src;
	struct sd_allow allow;
	const char *env_file = getenv("SEALDROP_ENV_FILE"), *v;
	int env_file_given = env_file != NULL, rc = -1;

	memset(&src, 0, sizeof src);
	memset(cfg, 0, sizeof *cfg);
	cfg->threads = 4;
	cfg->metrics_refresh = 30;
	cfg->socket_mode = 0660;
	cfg->sqlite_sync_full = 1;
	cfg->limits.inbox_max_messages = 10000;
	cfg->limits.inbox_max_bytes = 64 * 1024 * 1024;
	cfg->limits.challenges_per_caller = 5;
	cfg->limits.challenge_ttl = 300;
	cfg->limits.requests_per_inbox = 100;
	cfg->limits.requests_per_caller = 20;
	cfg->limits.min_free_bytes = INT64_C(256) << 20;
	cfg->limits.retention_days = 0;
	cfg->limits.status_interval = 3600;
	cfg->limits.receipt_days = 30;
	cfg->limits.replies_per_receipt = 20;
	cfg->limits.replies_per_inbox = 1000;
	cfg->limits.webhook_interval = 60;
	cfg->webhook.retry_base = 5;
	cfg->webhook.attempts = 8;
	cfg->webhook.timeout = 10;
	cfg->webhook.senders = 4;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int found = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cfg->show_help = 1;
			rc = 0;
			goto out;
		}
		if (strcmp(a, "--migrate") == 0) {
			cfg->migrate_only = 1;
			continue;
		}
		if (strcmp(a, "--recount") == 0) {
			cfg->recount = 1;
			continue;
		}
		if (strcmp(a, "--send-webhooks") == 0) {
			cfg->send_webhooks = 1;
			continue;
		}
		if (strcmp(a, "--backup") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				snprintf(err, errlen, "--backup needs a file name");
				goto out;
			}
			if (copy_str(cfg->backup, sizeof cfg->backup, argv[++i], "backup file name",
			             err, errlen) != 0)
				goto out;
			continue;
		}
		if (strcmp(a, "--env-file") == 0) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--env-file needs a value");
				goto out;
			}
			env_file = argv[++i];
			env_file_given = 1;
			continue;
		}
		for (int k = 0; k < K__MAX; k++) {
			if (keys[k].flag == NULL || strcmp(keys[k].flag, a) != 0)
				continue;
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", a);
				goto out;
			}
			src.flag[k] = argv[++i];
			found = 1;
			break;
		}
		if (!found) {
			snprintf(err, errlen, "unknown option %.64s (see --help)", a);
			goto out;
		}
	}
	if (dotenv_load(&src, env_file ? env_file : ".env", env_file_given, err, errlen) != 0)
		goto out;

	if ((v = cfg_get(&src, K_STATE)) == NULL)
		v = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
	if (copy_str(cfg->state_dir, sizeof cfg->state_dir, v ? v : "var", "state directory", err,
	             errlen) != 0)
		goto out;
	if ((v = cfg_get(&src, K_DB)) != NULL) {
		if (copy_str(cfg->db, sizeof cfg->db, v, "SEALDROP_DB", err, errlen) != 0)
			goto out;
	} else {
		if (dsn_from_pycrypt(&src, cfg, err, errlen) != 0)
			goto out;
		if (cfg->db[0] == '\0' && snprintf(cfg->db, sizeof cfg->db, "sqlite:%s/sealdrop.db",
		                                   cfg->state_dir) >= (int)sizeof cfg->db) {
			snprintf(err, errlen, "state directory is too long");
			goto out;
		}
	}
	v = cfg_get(&src, K_BASE_URL);
	if (copy_str(cfg->base_url, sizeof cfg->base_url, v ? v : "", "BASE_URL", err, errlen) != 0)
		goto out;
	for (size_t n = strlen(cfg->base_url); n > 0 && cfg->base_url[n - 1] == '/'; n--)
		cfg->base_url[n - 1] = '\0';
	if (cfg->base_url[0] != '\0' && !base_url_ok(cfg->base_url)) {
		/* It names the server's origin in purpose-bound signatures. */
		snprintf(err, errlen,
		         "BASE_URL must be http(s)://host[:port][/path], without a user");
		goto out;
	}
	v = cfg_get(&src, K_USER);
	if (copy_str(cfg->user, sizeof cfg->user, v ? v : "", "user name", err, errlen) != 0)
		goto out;
	v = cfg_get(&src, K_LISTEN);
	if (copy_str(cfg->listen, sizeof cfg->listen, v ? v : "", "listen address", err, errlen) !=
	    0)
		goto out;
	v = cfg_get(&src, K_METRICS);
	if (copy_str(cfg->metrics, sizeof cfg->metrics, v ? v : "", "metrics address", err,
	             errlen) != 0)
		goto out;
	v = cfg_get(&src, K_WEBHOOK_ALLOW);
	if (copy_str(cfg->webhook.allow, sizeof cfg->webhook.allow, v ? v : "",
	             "webhook allow-list", err, errlen) != 0)
		goto out;
	v = cfg_get(&src, K_EVENTS_PUBLISH);
	if (copy_str(cfg->events_publish, sizeof cfg->events_publish, v ? v : "",
	             "events publisher", err, errlen) != 0)
		goto out;
	/* nginx's publisher is local or on a private network: no TLS client
	 * here (docs/DEPLOY.md). */
	if (cfg->events_publish[0] != '\0' && strncmp(cfg->events_publish, "unix:/", 6) != 0 &&
	    strncmp(cfg->events_publish, "http://", 7) != 0) {
		snprintf(err, errlen,
		         "SEALDROP_EVENTS_PUBLISH must be unix:/PATH or http://HOST:PORT");
		goto out;
	}
	if ((v = cfg_get(&src, K_EVENTS_KEY_FILE)) != NULL) {
		if (copy_str(cfg->events_key_file, sizeof cfg->events_key_file, v,
		             "events key file", err, errlen) != 0)
			goto out;
	} else if (snprintf(cfg->events_key_file, sizeof cfg->events_key_file, "%s/events.key",
	                    cfg->state_dir) >= (int)sizeof cfg->events_key_file) {
		snprintf(err, errlen, "state directory is too long");
		goto out;
	}
	if ((v = cfg_get(&src, K_SOCKET_MODE)) != NULL) {
		char *end;
		long m = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || m < 0 || m > 0777) {
			snprintf(err, errlen, "socket mode must be octal, e.g. 660");
			goto out;
		}
		cfg->socket_mode = m;
	}
	if ((v = cfg_get(&src, K_SQLITE_SYNC)) != NULL) {
		if (strcmp(v, "full") == 0)
			cfg->sqlite_sync_full = 1;
		else if (strcmp(v, "normal") == 0)
			cfg->sqlite_sync_full = 0;
		else {
			snprintf(err, errlen, "SEALDROP_SQLITE_SYNC must be full or normal");
			goto out;
		}
	}
	if (get_num(&src, K_THREADS, 1, 256, &cfg->threads, err, errlen) != 0 ||
	    get_num(&src, K_METRICS_REFRESH, 1, 3600, &cfg->metrics_refresh, err, errlen) != 0 ||
	    get_num(&src, K_MAX_MSGS, 1, INT64_C(1) << 40, &cfg->limits.inbox_max_messages, err,
	            errlen) != 0 ||
	    get_num(&src, K_MAX_BYTES, 1024, INT64_C(1) << 50, &cfg->limits.inbox_max_bytes, err,
	            errlen) != 0 ||
	    get_num(&src, K_CHALLENGES, 1, 1000, &cfg->limits.challenges_per_caller, err, errlen) !=
	        0 ||
	    get_num(&src, K_CHALLENGE_TTL, 10, 3600, &cfg->limits.challenge_ttl, err, errlen) !=
	        0 ||
	    get_num(&src, K_RETENTION, 0, 36500, &cfg->limits.retention_days, err, errlen) != 0 ||
	    get_num(&src, K_REQ_INBOX, 1, 100000, &cfg->limits.requests_per_inbox, err, errlen) !=
	        0 ||
	    get_num(&src, K_REQ_CALLER, 1, 10000, &cfg->limits.requests_per_caller, err, errlen) !=
	        0 ||
	    get_num(&src, K_MAX_INBOXES, 0, INT64_C(1) << 50, &cfg->limits.max_inboxes, err,
	            errlen) != 0 ||
	    get_num(&src, K_MAX_STORED, 0, INT64_C(1) << 60, &cfg->limits.max_stored_bytes, err,
	            errlen) != 0 ||
	    get_num(&src, K_MIN_FREE, 0, INT64_C(1) << 60, &cfg->limits.min_free_bytes, err,
	            errlen) != 0 ||
	    get_num(&src, K_STATUS_INTERVAL, 1, SD_STATUS_INTERVAL_MAX,
	            &cfg->limits.status_interval, err, errlen) != 0 ||
	    get_num(&src, K_RECEIPT_DAYS, 1, 36500, &cfg->limits.receipt_days, err, errlen) != 0 ||
	    get_num(&src, K_WEBHOOK_INTERVAL, 1, 86400, &cfg->limits.webhook_interval, err,
	            errlen) != 0 ||
	    get_num(&src, K_WEBHOOK_RETRY, 1, 3600, &cfg->webhook.retry_base, err, errlen) != 0 ||
	    get_num(&src, K_WEBHOOK_ATTEMPTS, 1, 100, &cfg->webhook.attempts, err, errlen) != 0 ||
	    get_num(&src, K_WEBHOOK_TIMEOUT, 1, SD_WEBHOOK_TIMEOUT_MAX, &cfg->webhook.timeout, err,
	            errlen) != 0 ||
	    get_num(&src, K_WEBHOOK_SENDERS, 1, SD_WEBHOOK_SENDERS_MAX, &cfg->webhook.senders, err,
	            errlen) != 0)
		goto out;
	if (cfg->backup[0] != '\0' && cfg->migrate_only) {
		snprintf(err, errlen, "--backup and --migrate are separate runs");
		goto out;
	}
	if (cfg->send_webhooks && (cfg->migrate_only || cfg->backup[0] != '\0')) {
		snprintf(err, errlen, "--send-webhooks is a run of its own");
		goto out;
	}
	if (sd_allow_parse(cfg->webhook.allow, &allow) != 0) {
		snprintf(err, errlen,
		         "SEALDROP_WEBHOOK_ALLOW must be a comma list of at most %d IPs or CIDRs",
		         SD_OUTBOUND_ALLOW_MAX);
		goto out;
	}
	if (cfg->recount && !cfg->migrate_only) {
		/* Recounting beside live senders could count a message twice. */
		snprintf(err, errlen, "--recount goes with --migrate (no instance may be serving)");
		goto out;
	}
	rc = 0;
out:
	src_free(&src);
	return rc;
}
