/* register, link, rotate-token, unregister: the inbox on the server. */
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/jsonv.h"
#include "client/link.h"
#include "client/session.h"

#define LINK_MAX (IDENTITY_SERVER_MAX + IDENTITY_TOKEN_MAX + 64)

static int cmd_link_print(const struct identity *id)
{
	char link[LINK_MAX];

	if (identity_link_format(id, link, sizeof link) != 0) {
		cli_err("the link does not fit in %d bytes", LINK_MAX);
		return CLI_EDATA;
	}
	printf("%s\n", link);
	return CLI_OK;
}

int cmd_register(const struct cli_opts *o, int argc, char **argv)
{
	const char *server_arg = NULL, *name = NULL;
	char server[IDENTITY_SERVER_MAX + 1], token[IDENTITY_TOKEN_MAX + 1];
	char fetch[IDENTITY_FETCH_MAX + 1], origin[LINK_ORIGIN_MAX];
	struct session s;
	unsigned missing = 0;
	int force = 0, padded_only = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			server_arg = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--padded-only") == 0)
			padded_only = 1;
		else
			return cli_usage_err(argv[0]);
	}
	if (server_arg == NULL)
		return cli_usage_err(argv[0]);
	if (link_server_normalize(server_arg, server, sizeof server) != 0) {
		cli_err("--server wants an http:// or https:// URL without '?' or '#'");
		return CLI_EUSAGE;
	}
	/* Every later command signs for this origin: a URL without one (a
	 * port that is not a number below 65536, no host) would register an
	 * inbox that nothing could use afterwards. */
	if (link_origin(server, origin, sizeof origin) != 0) {
		cli_err("--server: no usable origin (scheme://host[:port]) in this URL");
		return CLI_EUSAGE;
	}
	/* Registering sends public keys only: no passphrase needed. */
	if ((rc = session_open_public(o, &s, 0)) != CLI_OK)
		return rc;
	if (s.id.server[0] != '\0' && !force) {
		cli_err("this identity already has an inbox at %s (see 'sealdrop register --help')",
		        s.id.server);
		rc = CLI_EUSAGE;
		goto out;
	}
	if (s.id.server[0] != '\0')
		cli_err("warning: the inbox at %s is forgotten here, not erased", s.id.server);
	if ((rc = api_register_post(server, &s.id, name, padded_only, token, fetch, &missing)) !=
	    CLI_OK)
		goto out;
	rc = identity_inbox_set(o->identity, &s.id, server, token, name,
	                        fetch[0] != '\0' ? fetch : NULL);
	sodium_memzero(fetch, sizeof fetch);
	/* Print the link even when it could not be saved: the inbox exists. */
	if (cmd_link_print(&s.id) != CLI_OK && rc == CLI_OK)
		rc = CLI_EDATA;
	/* Asked for, not recorded: padded-only was the point of asking, so
	 * that fails; the inbox exists, and the user decides what to do. */
	if (missing & API_CAP_PADDED_ONLY) {
		cli_err("register: the server did not record padded-only%s; the inbox WAS created "
		        "without it (link above): keep it, or erase it with 'sealdrop unregister'",
		        missing & API_CAP_ENVELOPE ? " nor envelope-v1" : "");
		if (rc == CLI_OK)
			rc = CLI_ESERVER;
	} else if (missing & API_CAP_ENVELOPE) {
		cli_err("warning: the server did not record envelope-v1; the inbox gets messages "
		        "without receipts");
	}
out:
	session_close(&s);
	return rc;
}

int cmd_link(const struct cli_opts *o, int argc, char **argv)
{
	struct session s;
	int rc;

	if (argc != 1)
		return cli_usage_err(argv[0]);
	if ((rc = session_open_public(o, &s, 1)) != CLI_OK)
		return rc;
	rc = cmd_link_print(&s.id);
	session_close(&s);
	return rc;
}

int cmd_rotate_token(const struct cli_opts *o, int argc, char **argv)
{
	struct http_reply r = {0, NULL, 0};
	struct session s;
	const char *token;
	int rc;

	if (argc != 1)
		return cli_usage_err(argv[0]);
	if ((rc = session_open(o, &s)) != CLI_OK)
		return rc;
	if ((rc = api_account_post(&s, "/rotate_token", "rotate_token", &r)) != CLI_OK)
		goto out;
	if ((token = jsonv_str_get(r.json, "fetch_token")) == NULL ||
	    !identity_fetch_token_valid(token)) {
		cli_err("rotate_token: the server's answer has no fetch token");
		rc = CLI_ESERVER;
		goto out;
	}
	/* The old token is dead: keep the new one, then show it. */
	rc = identity_fetch_token_set(o->identity, &s.id, token);
	printf("%s\n", token);
out:
	http_reply_secret_wipe(&r, "fetch_token");
	http_reply_free(&r);
	session_close(&s);
	return rc;
}

int cmd_unregister(const struct cli_opts *o, int argc, char **argv)
{
	struct http_reply r = {0, NULL, 0};
	struct session s;
	int rc;

	if (argc != 1)
		return cli_usage_err(argv[0]);
	if ((rc = session_open(o, &s)) != CLI_OK)
		return rc;
	if ((rc = api_account_post(&s, "/unregister", "unregister", &r)) != CLI_OK)
		goto out;
	if ((rc = identity_inbox_set(o->identity, &s.id, NULL, NULL, NULL, NULL)) == CLI_OK)
		printf("inbox erased\n");
out:
	http_reply_free(&r);
	session_close(&s);
	return rc;
}
