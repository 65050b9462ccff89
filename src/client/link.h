/* Links: <server>/l/<link_token>[#<base64url X25519 key>]. */
#ifndef SD_CLIENT_LINK_H
#define SD_CLIENT_LINK_H

#include <sodium.h>

#include "client/identity.h"

struct link_parts {
	char server[IDENTITY_SERVER_MAX + 1];
	char token[IDENTITY_TOKEN_MAX + 1];
	unsigned char key[crypto_box_PUBLICKEYBYTES]; /* the fragment's key */
	int has_key;
};

/* Split a link into its parts. Returns an exit code (CLI_EUSAGE with a
 * message when it is not a sealdrop link). */
int link_parse(const char *link, struct link_parts *out);

/* 1 when s is an http(s) URL with a host and nothing that would change the
 * request line: no whitespace, control characters, '?' or '#'. */
int link_server_valid(const char *s);

/* 1 when s is "link_" and base64url, at most IDENTITY_TOKEN_MAX long. */
int link_token_valid(const char *s);

/* The server URL without trailing slashes, into out; -1 when invalid. */
int link_server_normalize(const char *s, char *out, size_t cap);

#define LINK_ORIGIN_MAX (IDENTITY_SERVER_MAX + 1)

/* The origin of a valid server URL as purpose-bound signatures name it
 * (docs/API.md): scheme://host[:port], scheme and host lowercased, no
 * user part, the default port (80 for http, 443 for https) left out, no
 * path. Returns 0, or -1 when the URL has no usable host or port. */
int link_origin(const char *server, char *out, size_t cap);

#endif
