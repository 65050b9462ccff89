/* sealdropd: flags and configuration, the start-up order, signals. Each
 * step lives in its own file: listen.c (the socket), privileges.c (--user,
 * no_new_privs), database.c (state directory, migrations), workers.c and
 * purge.c (the threads), webhooks.c (the webhook sender), events_publish.c
 * (live events). SIGTERM/SIGINT: stop accepting, finish what is in
 * flight, exit 0. */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "server/backup.h"
#include "server/database.h"
#include "server/events_publish.h"
#include "server/fcgi_io.h"
#include "server/listen.h"
#include "server/metrics_listen.h"
#include "server/metrics_refresh.h"
#include "server/privileges.h"
#include "server/purge.h"
#include "server/router.h"
#include "server/webhooks.h"
#include "server/workers.h"
#include "store/store.h"

#define EXIT_USAGE  64
#define EXIT_CONFIG 78

static volatile sig_atomic_t stop_flag;

/* With --metrics: the listener (opened before the privilege drop) and the
 * refresh thread. */
static int metrics_start(const struct sd_config *cfg, struct metrics_listener *ml,
                         struct metrics_refresh *mr)
{
	if (ml->fd < 0)
		return 0;
	router_each_route(sd_metrics_route_add);
	if (metrics_refresh_start(mr, cfg, &stop_flag) != 0 ||
	    metrics_listen_start(ml, &stop_flag) != 0) {
		fprintf(stderr, "sealdropd: cannot start the metrics threads\n");
		return -1;
	}
	return 0;
}

/* Serve FastCGI on listen_fd until SIGTERM or SIGINT. */
static int serve_fastcgi(const struct sd_config *cfg, int listen_fd, struct metrics_listener *ml)
{
	struct worker_pool pool;
	struct purger purger;
	struct webhook_sender sender;
	struct metrics_refresh refresh = {0};
	sigset_t set;
	int sig = 0;

	/* Every thread inherits a mask with the stop signals blocked; only the
	 * main thread takes them, with sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The sender first: it listens for stored messages, which only a
	 * worker stores. */
	if (webhook_sender_start(&sender, cfg, &stop_flag) != 0) {
		fprintf(stderr, "sealdropd: cannot start the webhook sender\n");
		return 1;
	}
	if (events_publish_start(cfg) != 0) {
		webhook_sender_stop(&sender);
		webhook_sender_join(&sender);
		return 1;
	}
	if (workers_start(&pool, cfg, listen_fd, &stop_flag) != 0) {
		webhook_sender_stop(&sender);
		webhook_sender_join(&sender);
		events_publish_stop();
		return 1;
	}
	if (pool.started == 0 || purger_start(&purger, cfg, &stop_flag) != 0) {
		fprintf(stderr, "sealdropd: cannot start threads\n");
		webhook_sender_stop(&sender);
		workers_join(&pool);
		webhook_sender_join(&sender);
		events_publish_stop();
		return 1;
	}
	if (metrics_start(cfg, ml, &refresh) != 0) {
		webhook_sender_stop(&sender);
		purger_stop(&purger);
		metrics_refresh_stop(&refresh);
		metrics_listen_close(ml);
		workers_join(&pool);
		purger_join(&purger);
		webhook_sender_join(&sender);
		events_publish_stop();
		return 1;
	}
	sd_log_info("sealdropd ready: %d threads, %s store", pool.started,
	            strncmp(cfg->db, "sqlite:", 7) == 0 ? "sqlite" : "mysql");
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		; /* SIGHUP: nothing to reload yet; keep serving */
	sd_log_info("signal %d: finishing requests in flight", sig);
	purger_stop(&purger);
	webhook_sender_stop(&sender);
	metrics_refresh_stop(&refresh);
	metrics_listen_close(ml);
	workers_join(&pool);
	purger_join(&purger);
	webhook_sender_join(&sender);
	events_publish_stop();
	sd_log_info("sealdropd stopped");
	return 0;
}

/* No --listen and no socket on fd 0: one CGI request, then exit. */
static int serve_cgi(const struct sd_config *cfg)
{
	struct sd_worker w = {-1, cfg, &stop_flag, NULL, NULL};
	int rc;

	if (getenv("GATEWAY_INTERFACE") == NULL) {
		fprintf(stderr,
		        "sealdropd: give --listen unix:PATH or HOST:PORT (or run "
		        "it from a web server as CGI / FastCGI)\n%s",
		        sd_config_usage());
		return EXIT_USAGE;
	}
	(void)database_migrate(cfg, 0); /* a failure answers 503 */
	rc = cgi_serve(&w);
	store_close(w.store);
	return rc;
}

/* The order matters: bind (may need root), drop privileges, then touch the
 * database, then serve. */
int main(int argc, char **argv)
{
	static struct sd_config cfg;
	struct metrics_listener metrics = {.fd = -1};
	char err[512];
	const char *unix_path = NULL;
	int listen_fd, rc;

	/* Whatever umask we inherit, the database, its -wal/-shm and anything
	 * else we create are for our user alone. */
	umask(077);
	if (sd_config_load(&cfg, argc, argv, err, sizeof err) != 0) {
		fprintf(stderr, "sealdropd: %s\n", err);
		return EXIT_USAGE;
	}
	if (cfg.show_help) {
		fputs(sd_config_usage(), stdout);
		return 0;
	}
	if (sd_crypto_init() != 0) {
		fprintf(stderr, "sealdropd: libsodium failed to initialise\n");
		return 1;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "sealdropd: libfcgi failed to initialise\n");
		return 1;
	}
	if (cfg.backup[0] != '\0') {
		if (privileges_drop(&cfg) != 0)
			return EXIT_CONFIG;
		return backup_run(&cfg);
	}
	if (cfg.send_webhooks) {
		if (privileges_drop(&cfg) != 0)
			return EXIT_CONFIG;
		database_dir_make(&cfg);
		if (database_migrate(&cfg, 0) != 0)
			return EXIT_CONFIG;
		return webhook_send_due(&cfg) == 0 ? 0 : 1;
	}
	if (cfg.listen[0] != '\0' && !cfg.migrate_only) {
		listen_fd = listen_open(&cfg, &unix_path);
		if (listen_fd < 0)
			return EXIT_CONFIG;
	} else {
		listen_fd = 0; /* a FastCGI manager passed the socket on fd 0 */
	}
	/* A CGI process lives for one request: nothing to scrape, and every
	 * concurrent one would fight for the address. */
	if (cfg.metrics[0] != '\0' && !cfg.migrate_only &&
	    !(cfg.listen[0] == '\0' && FCGX_IsCGI()) &&
	    metrics_listen_open(&metrics, cfg.metrics, (int)cfg.socket_mode) != 0) {
		if (unix_path != NULL)
			unlink(unix_path);
		return EXIT_CONFIG;
	}
	if (privileges_drop(&cfg) != 0)
		return EXIT_CONFIG;
	database_dir_make(&cfg);
	if (cfg.migrate_only) {
		if (database_migrate(&cfg, cfg.recount) != 0)
			return EXIT_CONFIG;
		fprintf(stderr, "sealdropd: database is up to date\n");
		return 0;
	}
	if (cfg.listen[0] == '\0' && FCGX_IsCGI())
		return serve_cgi(&cfg);
	if (database_migrate(&cfg, 0) != 0)
		return EXIT_CONFIG;
	rc = serve_fastcgi(&cfg, listen_fd, &metrics);
	metrics_listen_close(&metrics);
	if (unix_path != NULL)
		unlink(unix_path);
	return rc;
}
