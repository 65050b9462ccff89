/* .env parsing and the precedence flags > environment > .env > defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static char envfile[] = "/tmp/sd-unit-env-XXXXXX";

static void write_env(const char *text)
{
	FILE *f = fopen(envfile, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	int fd = mkstemp(envfile);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	unsetenv("SEALDROP_DB");
	unsetenv("BASE_URL");
	unsetenv("DB_HOST");
	unsetenv("SEALDROP_THREADS");
	unsetenv("SEALDROP_REQUESTS_PER_INBOX");
	unsetenv("SEALDROP_REQUESTS_PER_CALLER");
	unsetenv("SEALDROP_WEBHOOK_INTERVAL");
	unsetenv("SEALDROP_WEBHOOK_RETRY");
	unsetenv("SEALDROP_WEBHOOK_ATTEMPTS");
	unsetenv("SEALDROP_WEBHOOK_ALLOW");
	unsetenv("SEALDROP_WEBHOOK_TIMEOUT");
	unsetenv("SEALDROP_WEBHOOK_SENDERS");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(envfile);
	return 0;
}

static void env_lines(void **state)
{
	char l1[] = "  export KEY = \"quoted value\"  ", l2[] = "# comment", l3[] = "",
	     l4[] = "PLAIN=abc # trailing", l5[] = "no equals sign", l6[] = "BAD-KEY=1",
	     l7[] = "EMPTY=";
	char *k, *v;

	(void)state;
	assert_int_equal(sd_env_parse_line(l1, &k, &v), 1);
	assert_string_equal(k, "KEY");
	assert_string_equal(v, "quoted value");
	assert_int_equal(sd_env_parse_line(l2, &k, &v), 0);
	assert_int_equal(sd_env_parse_line(l3, &k, &v), 0);
	assert_int_equal(sd_env_parse_line(l4, &k, &v), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(sd_env_parse_line(l5, &k, &v), -1);
	assert_int_equal(sd_env_parse_line(l6, &k, &v), -1);
	assert_int_equal(sd_env_parse_line(l7, &k, &v), 1);
	assert_string_equal(v, "");
}

static void defaults_are_sqlite_in_state_dir(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, NULL};

	(void)state;
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_string_equal(cfg.db, "sqlite:var/sealdrop.db");
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.limits.challenge_ttl, 300);
}

static void pycrypt_env_selects_mysql(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, NULL};

	(void)state;
	write_env("DEBUG=True\nPORT=5000\nDB_HOST=localhost\nDB_USER=pycrypt_user\n"
	          "DB_PASSWORD=pw\nDB_NAME=pycrypt_db\nBASE_URL=https://x.example/\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_string_equal(cfg.db, "mysql://pycrypt_user:pw@localhost:3306/pycrypt_db");
	assert_string_equal(cfg.base_url, "https://x.example");
}

static void flags_beat_environment_beat_dotenv(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, "--threads", "7", NULL};
	char *argv2[] = {"sealdropd", "--env-file", envfile, NULL};

	(void)state;
	write_env("SEALDROP_THREADS=3\nSEALDROP_DB=sqlite:/from/dotenv.db\n");
	setenv("SEALDROP_THREADS", "5", 1);
	assert_int_equal(sd_config_load(&cfg, 5, argv, err, sizeof err), 0);
	assert_int_equal(cfg.threads, 7);
	assert_string_equal(cfg.db, "sqlite:/from/dotenv.db");
	assert_int_equal(sd_config_load(&cfg, 3, argv2, err, sizeof err), 0);
	assert_int_equal(cfg.threads, 5);
	unsetenv("SEALDROP_THREADS");
	assert_int_equal(sd_config_load(&cfg, 3, argv2, err, sizeof err), 0);
	assert_int_equal(cfg.threads, 3);
}

static void bad_values_are_refused(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *a1[] = {"sealdropd", "--env-file", envfile, "--threads", "0", NULL};
	char *a2[] = {"sealdropd", "--env-file", envfile, "--threads", "4x", NULL};
	char *a3[] = {"sealdropd", "--env-file", envfile, "--bogus", NULL};
	char *a4[] = {"sealdropd", "--env-file", envfile, "--threads", NULL};

	(void)state;
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 5, a1, err, sizeof err), -1);
	assert_int_equal(sd_config_load(&cfg, 5, a2, err, sizeof err), -1);
	assert_int_equal(sd_config_load(&cfg, 4, a3, err, sizeof err), -1);
	assert_int_equal(sd_config_load(&cfg, 4, a4, err, sizeof err), -1);
	write_env("garbage line\n");
	assert_int_equal(sd_config_load(&cfg, 3, a4, err, sizeof err), -1);
}

/* --recount only with --migrate: beside live senders it could miscount. */
/* BASE_URL names the origin purpose-bound signatures carry: a value that
 * has none is refused at start, not at the first signature. */
static void base_url_must_be_an_origin(void **state)
{
	static const char *bad[] = {"drop.example",       "ftp://drop.example",
	                            "https://",           "https://u:p@drop.example",
	                            "https://:443/x",     "https://[::1:443",
	                            "javascript:alert(1)"};
	static const char *good[] = {"http://127.0.0.1:8080", "https://drop.example/base/",
	                             "https://[::1]:8443"};
	struct sd_config cfg;
	char err[256];

	(void)state;
	write_env("");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *argv[] = {"sealdropd",  "--env-file",   envfile,
		                "--base-url", (char *)bad[i], NULL};

		assert_int_equal(sd_config_load(&cfg, 5, argv, err, sizeof err), -1);
		assert_non_null(strstr(err, "BASE_URL"));
	}
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		char *argv[] = {"sealdropd",  "--env-file",    envfile,
		                "--base-url", (char *)good[i], NULL};

		assert_int_equal(sd_config_load(&cfg, 5, argv, err, sizeof err), 0);
	}
}

static void live_events_options(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *none[] = {"sealdropd", "--env-file", envfile, "--state", "/srv/st", NULL};
	char *sock[] = {"sealdropd",        "--env-file",        envfile,  "--events-publish",
	                "unix:/run/e.sock", "--events-key-file", "/etc/k", NULL};
	char *bad[] = {"sealdropd",        "--env-file",    envfile,
	               "--events-publish", "unix:rel.sock", NULL};
	char *ftp[] = {"sealdropd", "--env-file", envfile, "--events-publish", "ftp://h/", NULL};
	/* No TLS client for the publisher: refused at start, not ignored. */
	char *tls[] = {"sealdropd",        "--env-file",      envfile,
	               "--events-publish", "https://h:8443/", NULL};

	(void)state;
	unsetenv("SEALDROP_EVENTS_PUBLISH");
	unsetenv("SEALDROP_EVENTS_KEY_FILE");
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 5, none, err, sizeof err), 0);
	assert_string_equal(cfg.events_publish, ""); /* off unless asked for */
	assert_string_equal(cfg.events_key_file, "/srv/st/events.key");
	assert_int_equal(sd_config_load(&cfg, 7, sock, err, sizeof err), 0);
	assert_string_equal(cfg.events_publish, "unix:/run/e.sock");
	assert_string_equal(cfg.events_key_file, "/etc/k");
	write_env("SEALDROP_EVENTS_PUBLISH=http://127.0.0.1:8079\n");
	assert_int_equal(sd_config_load(&cfg, 3, none, err, sizeof err), 0);
	assert_string_equal(cfg.events_publish, "http://127.0.0.1:8079");
	assert_int_equal(sd_config_load(&cfg, 5, bad, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_EVENTS_PUBLISH"));
	assert_int_equal(sd_config_load(&cfg, 5, ftp, err, sizeof err), -1);
	assert_int_equal(sd_config_load(&cfg, 5, tls, err, sizeof err), -1);
	assert_non_null(strstr(err, "http://HOST:PORT"));
}

static void recount_goes_with_migrate(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *alone[] = {"sealdropd", "--env-file", envfile, "--recount", NULL};
	char *both[] = {"sealdropd", "--env-file", envfile, "--migrate", "--recount", NULL};

	(void)state;
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 4, alone, err, sizeof err), -1);
	assert_non_null(strstr(err, "--migrate"));
	assert_int_equal(sd_config_load(&cfg, 5, both, err, sizeof err), 0);
	assert_true(cfg.recount && cfg.migrate_only);
}

static void message_request_caps(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, NULL};
	char *inbox[] = {"sealdropd", "--env-file", envfile, "--requests-per-inbox", "7", NULL};
	char *callr[] = {"sealdropd", "--env-file", envfile, "--requests-per-caller", "3", NULL};
	char *zero[] = {"sealdropd", "--env-file", envfile, "--requests-per-caller", "0", NULL};
	char *huge[] = {"sealdropd", "--env-file", envfile, "--requests-per-inbox", "100001", NULL};

	(void)state;
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.requests_per_inbox, 100);
	assert_int_equal(cfg.limits.requests_per_caller, 20);
	write_env("SEALDROP_REQUESTS_PER_INBOX=50\nSEALDROP_REQUESTS_PER_CALLER=5\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.requests_per_inbox, 50);
	assert_int_equal(cfg.limits.requests_per_caller, 5);
	setenv("SEALDROP_REQUESTS_PER_CALLER", "9", 1);
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.requests_per_caller, 9);
	assert_int_equal(sd_config_load(&cfg, 5, inbox, err, sizeof err), 0);
	assert_int_equal(cfg.limits.requests_per_inbox, 7);
	assert_int_equal(cfg.limits.requests_per_caller, 9);
	assert_int_equal(sd_config_load(&cfg, 5, callr, err, sizeof err), 0);
	assert_int_equal(cfg.limits.requests_per_inbox, 50);
	assert_int_equal(cfg.limits.requests_per_caller, 3);
	unsetenv("SEALDROP_REQUESTS_PER_CALLER");
	assert_int_equal(sd_config_load(&cfg, 5, zero, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_REQUESTS_PER_CALLER"));
	assert_int_equal(sd_config_load(&cfg, 5, huge, err, sizeof err), -1);
	write_env("SEALDROP_REQUESTS_PER_INBOX=many\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_REQUESTS_PER_INBOX"));
}

static void metrics_and_backup_options(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, NULL};
	char *flags[] = {"sealdropd",        "--env-file",        envfile, "--metrics",
	                 "unix:/run/m.sock", "--metrics-refresh", "5",     NULL};
	char *slow[] = {"sealdropd", "--env-file", envfile, "--metrics-refresh", "3601", NULL};
	char *backup[] = {"sealdropd", "--env-file", envfile, "--backup", "/tmp/copy.db", NULL};
	char *bare[] = {"sealdropd", "--env-file", envfile, "--backup", NULL};
	char *both[] = {"sealdropd", "--env-file", envfile, "--backup", "x.db", "--migrate", NULL};

	(void)state;
	unsetenv("SEALDROP_METRICS");
	unsetenv("SEALDROP_METRICS_REFRESH");
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_string_equal(cfg.metrics, "");
	assert_int_equal(cfg.metrics_refresh, 30);
	assert_string_equal(cfg.backup, "");
	write_env("SEALDROP_METRICS=127.0.0.1:9464\nSEALDROP_METRICS_REFRESH=60\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_string_equal(cfg.metrics, "127.0.0.1:9464");
	assert_int_equal(cfg.metrics_refresh, 60);
	assert_int_equal(sd_config_load(&cfg, 7, flags, err, sizeof err), 0);
	assert_string_equal(cfg.metrics, "unix:/run/m.sock");
	assert_int_equal(cfg.metrics_refresh, 5);
	assert_int_equal(sd_config_load(&cfg, 5, slow, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_METRICS_REFRESH"));
	assert_int_equal(sd_config_load(&cfg, 5, backup, err, sizeof err), 0);
	assert_string_equal(cfg.backup, "/tmp/copy.db");
	assert_int_equal(sd_config_load(&cfg, 4, bare, err, sizeof err), -1);
	assert_non_null(strstr(err, "--backup"));
	assert_int_equal(sd_config_load(&cfg, 6, both, err, sizeof err), -1);
}

static void receipt_settings(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, NULL};
	char *flags[] = {"sealdropd", "--env-file",     envfile, "--status-interval",
	                 "2",         "--receipt-days", "7",     NULL};
	char *zero[] = {"sealdropd", "--env-file", envfile, "--status-interval", "0", NULL};
	char *long_[] = {"sealdropd", "--env-file", envfile, "--status-interval", "604801", NULL};
	char *none[] = {"sealdropd", "--env-file", envfile, "--receipt-days", "0", NULL};

	(void)state;
	unsetenv("SEALDROP_STATUS_INTERVAL");
	unsetenv("SEALDROP_RECEIPT_DAYS");
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.status_interval, 3600);
	assert_int_equal(cfg.limits.receipt_days, 30);
	assert_int_equal(cfg.limits.replies_per_receipt, 20);
	assert_int_equal(cfg.limits.replies_per_inbox, 1000);
	write_env("SEALDROP_STATUS_INTERVAL=60\nSEALDROP_RECEIPT_DAYS=90\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.status_interval, 60);
	assert_int_equal(cfg.limits.receipt_days, 90);
	setenv("SEALDROP_STATUS_INTERVAL", "1", 1);
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.status_interval, 1);
	unsetenv("SEALDROP_STATUS_INTERVAL");
	assert_int_equal(sd_config_load(&cfg, 7, flags, err, sizeof err), 0);
	assert_int_equal(cfg.limits.status_interval, 2);
	assert_int_equal(cfg.limits.receipt_days, 7);
	assert_int_equal(sd_config_load(&cfg, 5, zero, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_STATUS_INTERVAL"));
	assert_int_equal(sd_config_load(&cfg, 5, long_, err, sizeof err), -1);
	assert_int_equal(sd_config_load(&cfg, 5, none, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_RECEIPT_DAYS"));
}

static void webhook_options(void **state)
{
	struct sd_config cfg;
	char err[256];
	char *argv[] = {"sealdropd", "--env-file", envfile, NULL};
	char *flags[] = {"sealdropd", "--env-file",      envfile,      "--webhook-interval",
	                 "7",         "--webhook-allow", "10.0.0.0/8", "--send-webhooks",
	                 NULL};
	char *both[] = {"sealdropd", "--env-file", envfile, "--send-webhooks", "--migrate", NULL};

	(void)state;
	write_env("");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.limits.webhook_interval, 60);
	assert_int_equal(cfg.webhook.retry_base, 5);
	assert_int_equal(cfg.webhook.attempts, 8);
	assert_int_equal(cfg.webhook.timeout, 10);
	assert_int_equal(cfg.webhook.senders, 4);
	assert_string_equal(cfg.webhook.allow, "");
	assert_false(cfg.send_webhooks);
	write_env("SEALDROP_WEBHOOK_INTERVAL=1\nSEALDROP_WEBHOOK_RETRY=2\n"
	          "SEALDROP_WEBHOOK_ATTEMPTS=3\nSEALDROP_WEBHOOK_ALLOW=127.0.0.1, ::1\n"
	          "SEALDROP_WEBHOOK_TIMEOUT=60\nSEALDROP_WEBHOOK_SENDERS=32\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), 0);
	assert_int_equal(cfg.webhook.timeout, 60);
	assert_int_equal(cfg.webhook.senders, 32);
	assert_int_equal(cfg.limits.webhook_interval, 1);
	assert_int_equal(cfg.webhook.retry_base, 2);
	assert_int_equal(cfg.webhook.attempts, 3);
	assert_string_equal(cfg.webhook.allow, "127.0.0.1, ::1");
	assert_int_equal(sd_config_load(&cfg, 8, flags, err, sizeof err), 0);
	assert_int_equal(cfg.limits.webhook_interval, 7);
	assert_string_equal(cfg.webhook.allow, "10.0.0.0/8");
	assert_true(cfg.send_webhooks);
	assert_int_equal(sd_config_load(&cfg, 5, both, err, sizeof err), -1);
	write_env("SEALDROP_WEBHOOK_ALLOW=localhost\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_WEBHOOK_ALLOW"));
	write_env("SEALDROP_WEBHOOK_INTERVAL=0\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_WEBHOOK_INTERVAL"));
	/* The claim lease (server/webhooks.c) counts on these bounds. */
	write_env("SEALDROP_WEBHOOK_TIMEOUT=61\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_WEBHOOK_TIMEOUT"));
	write_env("SEALDROP_WEBHOOK_SENDERS=0\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEALDROP_WEBHOOK_SENDERS"));
	write_env("SEALDROP_WEBHOOK_SENDERS=33\n");
	assert_int_equal(sd_config_load(&cfg, 3, argv, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(webhook_options),
	    cmocka_unit_test(env_lines),
	    cmocka_unit_test(receipt_settings),
	    cmocka_unit_test(base_url_must_be_an_origin),
	    cmocka_unit_test(recount_goes_with_migrate),
	    cmocka_unit_test(defaults_are_sqlite_in_state_dir),
	    cmocka_unit_test(pycrypt_env_selects_mysql),
	    cmocka_unit_test(flags_beat_environment_beat_dotenv),
	    cmocka_unit_test(bad_values_are_refused),
	    cmocka_unit_test(message_request_caps),
	    cmocka_unit_test(metrics_and_backup_options),
	    cmocka_unit_test(live_events_options),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
