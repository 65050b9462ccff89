/* Links: <server>/l/<link_token>[#<base64url box key>]. */
#include <string.h>

#include "client/cli.h"
#include "core/b64.h"
#include <sodium.h>

int link_parse(const char *link, struct link_parts *out)
{
	const char *l = strstr(link, "/l/"), *hash, *tok;
	size_t n;

	memset(out, 0, sizeof *out);
	if (l == NULL || (strncmp(link, "https://", 8) != 0 && strncmp(link, "http://", 7) != 0)) {
		cli_err("not a sealdrop link (want https://host/l/link_...)");
		return EX_USAGE_;
	}
	n = (size_t)(l - link);
	if (n >= sizeof out->server) {
		cli_err("the link is too long");
		return EX_USAGE_;
	}
	memcpy(out->server, link, n);
	tok = l + 3;
	hash = strchr(tok, '#');
	n = hash ? (size_t)(hash - tok) : strlen(tok);
	if (n <= 5 || n >= sizeof out->token || strncmp(tok, "link_", 5) != 0 ||
	    !sd_is_b64url(tok + 5, n - 5)) {
		cli_err("the link has no valid link token");
		return EX_USAGE_;
	}
	memcpy(out->token, tok, n);
	if (hash != NULL && hash[1] != '\0') {
		size_t got;

		if (sodium_base642bin(out->key, sizeof out->key, hash + 1, strlen(hash + 1), NULL,
		                      &got, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		    got != 32) {
			cli_err("the key after '#' in the link is not a 32-byte key");
			return EX_USAGE_;
		}
		out->has_key = 1;
	}
	return EX_OK_;
}
