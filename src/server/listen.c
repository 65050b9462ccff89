/* Listening sockets: unix and TCP, and the check that an address is not
 * already served. We bind and listen ourselves (libfcgi's FCGX_OpenSocket
 * exits the process on failure) so a taken address or a missing permission
 * is reported as such and the caller exits cleanly. */
#include "server/listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128

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
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		fprintf(stderr, "sealdropd: cannot listen on unix:%s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* HOST:PORT, [V6]:PORT or :PORT (every address); the first address
 * getaddrinfo gives that binds wins. libfcgi checks FCGI_WEB_SERVER_ADDRS
 * for IPv4 peers only and lets every IPv6 peer through, so with that list
 * set only IPv4 is listened on. */
static int listen_tcp(const char *addr)
{
	const char *allowed = getenv("FCGI_WEB_SERVER_ADDRS");
	int v4_only = allowed != NULL && allowed[0] != '\0';
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
	if (v4_only && strchr(host, ':') != NULL) {
		fprintf(stderr,
		        "sealdropd: FCGI_WEB_SERVER_ADDRS is set, and libfcgi checks only "
		        "IPv4 peers: listen on an IPv4 address, not %s\n",
		        addr);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = v4_only ? AF_INET : AF_UNSPEC;
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
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
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

int listen_unix_at(const char *path, int mode)
{
	int fd;

	if (unix_path_free(path) != 0)
		return -1;
	fd = listen_unix(path);
	if (fd < 0)
		return -1;
	if (chmod(path, (mode_t)mode) != 0) {
		fprintf(stderr, "sealdropd: chmod %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int listen_open(const struct sd_config *cfg, const char **unix_path)
{
	const char *addr = cfg->listen;
	int fd;

	*unix_path = NULL;
	if (strncmp(addr, "unix:", 5) != 0)
		return listen_tcp(addr);
	addr += 5;
	fd = listen_unix_at(addr, (int)cfg->socket_mode);
	if (fd >= 0)
		*unix_path = addr;
	return fd;
}
