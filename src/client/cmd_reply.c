/* reply: the inbox owner answers a message that came with a receipt. The
 * reply is an envelope without a key, padded, sealed to the reply key the
 * message's own envelope carries: only the holder of its receipt opens it
 * (docs/RECEIPTS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/message.h"
#include "client/session.h"
#include "client/text.h"

int cmd_reply(const struct cli_opts *o, int argc, char **argv)
{
	unsigned char reply_pk[crypto_box_PUBLICKEYBYTES], *msg = NULL, *sealed = NULL;
	char gist[MESSAGE_GIST_MAX];
	const char *pos[2] = {NULL, NULL};
	struct http_reply r = {0, NULL, 0};
	struct session s;
	json_object *m;
	int64_t target = 0, id = 0;
	size_t len = 0, n = 0;
	char *end;
	int npos = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc && npos < 2)
			pos[npos++] = argv[++i];
		else if ((argv[i][0] == '-' && strcmp(argv[i], "-") != 0) || npos == 2)
			return cli_usage_err(argv[0]);
		else
			pos[npos++] = argv[i];
	}
	if (npos == 0)
		return cli_usage_err(argv[0]);
	target = strtoll(pos[0], &end, 10);
	if (pos[0][0] < '1' || pos[0][0] > '9' || *end != '\0' || target < 1 ||
	    target == INT64_MAX) {
		cli_err("reply wants a message id (as 'fetch' shows it: #ID)");
		return CLI_EUSAGE;
	}
	if ((rc = send_message_read(pos[1], &msg, &len)) != CLI_OK)
		goto done;
	if (len == 0) {
		cli_err("the reply is empty; nothing sent");
		rc = CLI_EUSAGE;
		goto done;
	}
	if ((rc = session_open(o, &s)) != CLI_OK)
		goto done;
	/* The message itself, one request: its envelope holds the key. */
	if ((rc = api_message_get(&s, target, &r, &m)) != CLI_OK)
		goto out;
	if (message_reply_key(&s, m, reply_pk, gist) != 0) {
		cli_err("message %lld carries no reply key: its sender kept no receipt",
		        (long long)target);
		rc = CLI_EDATA;
		goto out;
	}
	/* The server chose the message under this id, and with it the reply
	 * key: its first line lets the owner see what they answer. */
	fprintf(stderr, "replying to #%lld: ", (long long)target);
	text_safe_write(stderr, (const unsigned char *)gist, strlen(gist), 0);
	fputc('\n', stderr);
	sodium_memzero(gist, sizeof gist);
	if ((rc = send_seal(msg, len, 1, NULL, reply_pk, &sealed, &n)) != CLI_OK)
		goto out;
	if ((rc = api_reply_post(&s, target, sealed, n, &id)) == CLI_OK)
		printf("replied (id %lld)\n", (long long)id);
out:
	http_reply_free(&r);
	session_close(&s);
done:
	send_message_free(msg);
	free(sealed);
	return rc;
}
