/* The listening socket sealdropd opens itself for --listen: unix:PATH or
 * HOST:PORT. (Without --listen the socket comes on fd 0.) */
#ifndef SD_LISTEN_H
#define SD_LISTEN_H

#include "core/config.h"

/* Bind and listen on cfg->listen. Returns the socket, or -1 with the reason
 * on stderr. For a unix socket, *unix_path is set to its path (the caller
 * unlinks it on exit) and its mode is cfg->socket_mode; otherwise NULL. */
int listen_open(const struct sd_config *cfg, const char **unix_path);

/* Bind and listen on the unix socket path with mode (a stale socket file
 * is replaced; one a live server answers on is an error). Returns the
 * socket, or -1 with the reason on stderr. */
int listen_unix_at(const char *path, int mode);

#endif
