/* send: seal a message to an inbox as an anonymous sender. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/link.h"
#include "proto/limits.h"

/* The server takes sealed boxes of at most SD_MSG_MAX_BYTES; sealing adds
 * crypto_box_SEALBYTES to the message. */
#define SEND_PLAIN_MAX (SD_MSG_MAX_BYTES - crypto_box_SEALBYTES)
_Static_assert(SD_MSG_MIN_BYTES == crypto_box_SEALBYTES, "the server's minimum is an empty box");

/* The message: the argument, or standard input for "-" or none. */
static int cmd_send_message_read(const char *arg, unsigned char **msg, size_t *len)
{
	size_t n = arg != NULL && strcmp(arg, "-") != 0 ? strlen(arg) : 0;

	*len = 0;
	if ((*msg = malloc(SEND_PLAIN_MAX + 1)) == NULL) {
		cli_err("out of memory");
		return CLI_EINTERNAL;
	}
	if (n > 0) {
		if (n <= SEND_PLAIN_MAX)
			memcpy(*msg, arg, n);
	} else {
		if (isatty(STDIN_FILENO))
			fputs("Type the message, then Ctrl-D on a line of its own:\n", stderr);
		n = fread(*msg, 1, SEND_PLAIN_MAX + 1, stdin);
		if (ferror(stdin)) {
			cli_err("cannot read the message from standard input");
			return CLI_EIO;
		}
	}
	if (n > SEND_PLAIN_MAX) {
		cli_err("the message is longer than %d bytes", SEND_PLAIN_MAX);
		return CLI_EUSAGE;
	}
	*len = n;
	return CLI_OK;
}

int cmd_send(const struct cli_opts *o, int argc, char **argv)
{
	unsigned char served[crypto_box_PUBLICKEYBYTES], *msg = NULL, *sealed = NULL;
	const char *pos[2] = {NULL, NULL};
	struct link_parts lp;
	size_t len = 0;
	int64_t id = 0;
	int n = 0, rc;

	(void)o;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc && n < 2) {
			pos[n++] = argv[++i];
			continue;
		}
		if ((argv[i][0] == '-' && strcmp(argv[i], "-") != 0) || n == 2)
			return cli_usage_err(argv[0]);
		pos[n++] = argv[i];
	}
	if (n == 0)
		return cli_usage_err(argv[0]);
	if ((rc = link_parse(pos[0], &lp)) != CLI_OK)
		return rc;
	if ((rc = cmd_send_message_read(pos[1], &msg, &len)) != CLI_OK)
		goto out;
	if (len == 0) {
		cli_err("the message is empty; nothing sent");
		rc = CLI_EUSAGE;
		goto out;
	}
	if ((rc = api_key_get(lp.server, lp.token, served)) != CLI_OK)
		goto out;
	if (lp.has_key && sodium_memcmp(served, lp.key, sizeof served) != 0) {
		cli_err("the server serves a different key than the link names: not sending");
		rc = CLI_EDATA;
		goto out;
	}
	if ((sealed = malloc(len + crypto_box_SEALBYTES)) == NULL) {
		cli_err("out of memory");
		rc = CLI_EINTERNAL;
		goto out;
	}
	if (crypto_box_seal(sealed, msg, len, lp.has_key ? lp.key : served) != 0) {
		cli_err("cannot seal the message to this key");
		rc = CLI_EDATA;
		goto out;
	}
	if ((rc = api_message_post(lp.server, lp.token, sealed, len + crypto_box_SEALBYTES, &id)) ==
	    CLI_OK)
		printf("sent (id %lld)\n", (long long)id);
out:
	if (msg != NULL) {
		sodium_memzero(msg, SEND_PLAIN_MAX + 1);
		free(msg);
	}
	free(sealed);
	return rc;
}
