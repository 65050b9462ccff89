/* sealdropd: flags and configuration, the listening socket, worker
 * threads, signals. SIGTERM/SIGINT: stop accepting, finish what is in
 * flight, exit 0. */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netdb.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "server/fcgi_io.h"
#include "store/store.h"

#define EXIT_USAGE  64
#define EXIT_CONFIG 78

static volatile sig_atomic_t stop_flag;

/* A unix socket path left by a dead process is removed; one that still
 * answers belongs to a running server and is an error. */
static int unix_path_free(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "sealdropd: cannot use %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "sealdropd: %s exists and is not a socket\n", path);
		return -1;
	}
	if (strlen(path) >= sizeof sa.sun_path)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	if (rc == 0) {
		fprintf(stderr, "sealdropd: %s is in use by a running server\n", path);
		return -1;
	}
	return unlink(path);
}

/* Bind and listen ourselves (libfcgi's FCGX_OpenSocket exits the process
 * on failure) so a taken address or a missing permission is reported as
 * such and the caller exits cleanly. */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "sealdropd: socket path too long: %s\n", path);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0) {
		fprintf(stderr, "sealdropd: cannot listen on unix:%s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, one = 1, rc;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof host) {
		fprintf(stderr, "sealdropd: --listen wants unix:PATH or HOST:PORT\n");
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:9000 */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "sealdropd: cannot listen on %s: %s\n", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "sealdropd: cannot listen on %s: %s\n", addr, strerror(errno));
	return fd;
}

static int open_listener(const struct sd_config *cfg, const char **unix_path)
{
	const char *addr = cfg->listen;
	int fd;

	*unix_path = NULL;
	if (strncmp(addr, "unix:", 5) == 0) {
		addr += 5;
		if (unix_path_free(addr) != 0)
			return -1;
		fd = listen_unix(addr);
		if (fd < 0)
			return -1;
		*unix_path = addr;
		if (chmod(addr, (mode_t)cfg->socket_mode) != 0) {
			fprintf(stderr, "sealdropd: chmod %s: %s\n", addr, strerror(errno));
			close(fd);
			unlink(addr);
			return -1;
		}
		return fd;
	}
	return listen_tcp(addr);
}

/* Least privilege: a process started as root gives up root for --user once
 * the socket is bound, before it opens any database or reads a request;
 * and no process of sealdropd can gain privileges again (no_new_privs). */
static int drop_privileges(const struct sd_config *cfg)
{
	if (cfg->user[0] != '\0') {
		struct passwd *pw = getpwnam(cfg->user);

		if (geteuid() != 0) {
			fprintf(stderr, "sealdropd: --user needs to be started as root\n");
			return -1;
		}
		if (pw == NULL) {
			fprintf(stderr, "sealdropd: no such user: %s\n", cfg->user);
			return -1;
		}
		if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0) {
			fprintf(stderr, "sealdropd: cannot become %s: %s\n", cfg->user,
			        strerror(errno));
			return -1;
		}
		if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
			fprintf(stderr, "sealdropd: could regain root after dropping it\n");
			return -1;
		}
	} else if (geteuid() == 0) {
		sd_log_info("running as root: consider --user");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "sealdropd: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* The SQLite default lives in the state directory: create it (private). */
static void make_state_dir(const struct sd_config *cfg)
{
	char path[sizeof cfg->db];
	char *slash;

	if (strncmp(cfg->db, "sqlite:", 7) != 0)
		return;
	snprintf(path, sizeof path, "%s", cfg->db + 7);
	slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return;
	*slash = '\0';
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		fprintf(stderr, "sealdropd: cannot create %s: %s\n", path, strerror(errno));
}

static int prepare_store(const struct sd_config *cfg)
{
	struct sd_store *st = NULL;
	char err[512];
	enum sd_err e;

	if (store_open(cfg->db, cfg, &st, err, sizeof err) != SD_OK) {
		fprintf(stderr, "sealdropd: %s\n", err);
		return -1;
	}
	e = store_migrate(st);
	store_close(st);
	if (e != SD_OK) {
		fprintf(stderr, "sealdropd: database migration failed (%s)\n", sd_err_str(e));
		return -1;
	}
	return 0;
}

/* Drops expired challenges and, with a retention period, old messages. */
struct purger {
	const struct sd_config *cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void *purge_run(void *arg)
{
	struct purger *p = arg;
	struct sd_store *st = NULL;
	char err[256];

	pthread_mutex_lock(&p->mu);
	while (!stop_flag) {
		struct timespec until;
		time_t now = time(NULL);
		int64_t purged = 0;

		pthread_mutex_unlock(&p->mu);
		if (st == NULL && store_open(p->cfg->db, p->cfg, &st, err, sizeof err) != SD_OK)
			st = NULL;
		if (st != NULL) {
			time_t cutoff = p->cfg->limits.retention_days > 0
			                    ? now - (time_t)p->cfg->limits.retention_days * 86400
			                    : 0;
			int64_t total = 0;

			do {
				if (store_purge(st, now, cutoff, &purged) != SD_OK) {
					store_close(st);
					st = NULL;
					break;
				}
				total += purged;
			} while (purged == SD_PURGE_BATCH && !stop_flag);
			if (total > 0)
				sd_log_info("purge: removed %lld messages past retention",
				            (long long)total);
		}
		pthread_mutex_lock(&p->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		while (!stop_flag && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	store_close(st);
	return NULL;
}

static int run_fastcgi(const struct sd_config *cfg, int listen_fd)
{
	struct sd_worker *workers;
	pthread_t *tids, purge_tid;
	struct purger purger = {cfg, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
	static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;
	sigset_t set;
	int sig = 0, started = 0;

	/* Every thread inherits a mask with the stop signals blocked; only the
	 * main thread takes them, with sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) != 0) {
		perror("sealdropd: fcntl");
		return 1;
	}
	workers = calloc((size_t)cfg->threads, sizeof *workers);
	tids = calloc((size_t)cfg->threads, sizeof *tids);
	if (workers == NULL || tids == NULL) {
		fprintf(stderr, "sealdropd: out of memory\n");
		return 1;
	}
	for (int i = 0; i < cfg->threads; i++) {
		workers[i].listen_fd = listen_fd;
		workers[i].cfg = cfg;
		workers[i].stop = &stop_flag;
		workers[i].accept_mu = &accept_mu;
		if (pthread_create(&tids[i], NULL, fcgi_worker_run, &workers[i]) != 0)
			break;
		started++;
	}
	if (started == 0 || pthread_create(&purge_tid, NULL, purge_run, &purger) != 0) {
		fprintf(stderr, "sealdropd: cannot start threads\n");
		stop_flag = 1;
		for (int i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
		return 1;
	}
	sd_log_info("sealdropd ready: %d threads, %s store", started,
	            strncmp(cfg->db, "sqlite:", 7) == 0 ? "sqlite" : "mysql");
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		; /* SIGHUP: nothing to reload yet; keep serving */
	sd_log_info("signal %d: finishing requests in flight", sig);
	pthread_mutex_lock(&purger.mu);
	stop_flag = 1;
	pthread_cond_signal(&purger.cv);
	pthread_mutex_unlock(&purger.mu);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_join(purge_tid, NULL);
	free(workers);
	free(tids);
	sd_log_info("sealdropd stopped");
	return 0;
}

int main(int argc, char **argv)
{
	static struct sd_config cfg;
	char err[512];
	const char *unix_path = NULL;
	int listen_fd, rc;

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
	if (cfg.listen[0] != '\0' && !cfg.migrate_only) {
		listen_fd = open_listener(&cfg, &unix_path);
		if (listen_fd < 0)
			return EXIT_CONFIG;
	} else {
		listen_fd = 0; /* a FastCGI manager passed the socket on fd 0 */
	}
	if (drop_privileges(&cfg) != 0)
		return EXIT_CONFIG;
	make_state_dir(&cfg);
	if (cfg.migrate_only) {
		if (prepare_store(&cfg) != 0)
			return EXIT_CONFIG;
		fprintf(stderr, "sealdropd: database is up to date\n");
		return 0;
	}
	if (cfg.listen[0] == '\0' && FCGX_IsCGI()) {
		/* Plain CGI: one request, then exit. */
		struct sd_worker w = {-1, &cfg, &stop_flag, NULL, NULL};

		if (getenv("GATEWAY_INTERFACE") == NULL) {
			fprintf(stderr,
			        "sealdropd: give --listen unix:PATH or HOST:PORT (or run "
			        "it from a web server as CGI / FastCGI)\n%s",
			        sd_config_usage());
			return EXIT_USAGE;
		}
		(void)prepare_store(&cfg); /* a failure answers 503 below */
		rc = cgi_serve(&w);
		store_close(w.store);
		return rc;
	}
	if (prepare_store(&cfg) != 0)
		return EXIT_CONFIG;
	rc = run_fastcgi(&cfg, listen_fd);
	if (unix_path != NULL)
		unlink(unix_path);
	return rc;
}
