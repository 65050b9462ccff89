/* Links. The part after '#' never reaches the server; when present it is
 * the key the recipient's own client published, and senders seal to it. */
#include <string.h>

#include "client/b64.h"
#include "client/cli.h"
#include "client/link.h"

int link_server_valid(const char *s)
{
	const char *host;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	if (*host == '\0' || *host == '/')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7F || *p == '?' || *p == '#' || *p == '\\')
			return 0;
	return 1;
}

int link_token_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 5 && n <= IDENTITY_TOKEN_MAX && strncmp(s, "link_", 5) == 0 &&
	       b64_url_alphabet(s + 5, n - 5);
}

int link_server_normalize(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	if (n >= cap || n > IDENTITY_SERVER_MAX)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return link_server_valid(out) ? 0 : -1;
}

int link_origin(const char *server, char *out, size_t cap)
{
	int https = strncmp(server, "https://", 8) == 0;
	const char *auth, *at = NULL, *host, *port = NULL;
	size_t alen, hlen, o;
	long pnum = https ? 443 : 80;

	/* Valid first: the scheme is then there to skip. */
	if (!link_server_valid(server))
		return -1;
	auth = server + (https ? 8 : 7);
	alen = strcspn(auth, "/");
	/* A user part (user:pass@) is no part of the origin. */
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at != NULL) {
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	host = auth;
	if (host[0] == '[') {
		const char *close = memchr(host, ']', alen);

		if (close == NULL)
			return -1;
		hlen = (size_t)(close - host) + 1;
	} else {
		hlen = strcspn(host, ":/");
	}
	if (hlen == 0 || hlen > alen)
		return -1;
	if (hlen < alen) {
		if (host[hlen] != ':')
			return -1;
		port = host + hlen + 1;
		if (port == host + alen)
			port = NULL; /* "host:" is the default port */
	}
	if (port != NULL) {
		size_t plen = (size_t)(host + alen - port);

		pnum = 0;
		if (plen > 5 || strspn(port, "0123456789") < plen)
			return -1;
		for (size_t i = 0; i < plen; i++)
			pnum = pnum * 10 + (port[i] - '0');
		if (pnum < 1 || pnum > 65535)
			return -1;
	}
	o = (size_t)snprintf(out, cap, "%s://", https ? "https" : "http");
	if (o + hlen + 8 > cap)
		return -1;
	for (size_t i = 0; i < hlen; i++) {
		char c = host[i];

		out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[o] = '\0';
	if (pnum != (https ? 443 : 80))
		snprintf(out + o, cap - o, ":%ld", pnum);
	return 0;
}

int link_parse(const char *link, struct link_parts *out)
{
	const char *hash = strchr(link, '#'), *l = NULL, *p;
	size_t end = hash != NULL ? (size_t)(hash - link) : strlen(link), n;
	size_t got = 0;

	memset(out, 0, sizeof *out);
	/* The last "/l/" before the fragment: a server may live under a path. */
	for (p = link; (p = strstr(p, "/l/")) != NULL && (size_t)(p - link) < end; p++)
		l = p;
	if (l == NULL) {
		cli_err("not a sealdrop link (want https://HOST/l/link_...)");
		return CLI_EUSAGE;
	}
	n = (size_t)(l - link);
	if (n > IDENTITY_SERVER_MAX) {
		cli_err("the link is too long");
		return CLI_EUSAGE;
	}
	memcpy(out->server, link, n);
	if (!link_server_valid(out->server)) {
		cli_err("not a sealdrop link (want https://HOST/l/link_...)");
		return CLI_EUSAGE;
	}
	n = end - (n + 3);
	if (n > IDENTITY_TOKEN_MAX) {
		cli_err("the link has no valid link token");
		return CLI_EUSAGE;
	}
	memcpy(out->token, l + 3, n);
	if (!link_token_valid(out->token)) {
		cli_err("the link has no valid link token");
		return CLI_EUSAGE;
	}
	if (hash != NULL && hash[1] != '\0') {
		if (b64_url_decode(hash + 1, out->key, sizeof out->key, &got) != 0 ||
		    got != sizeof out->key) {
			cli_err("the key after '#' in the link is not a 32-byte base64url key");
			return CLI_EUSAGE;
		}
		out->has_key = 1;
	}
	return CLI_OK;
}
