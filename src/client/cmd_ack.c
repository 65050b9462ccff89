/* ack: mark messages read, or erase them. */
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/ids.h"
#include "client/session.h"

/* --all: one /ack up to the newest message there is now, read or not.
 * Marking read messages read again changes nothing. */
static int cmd_ack_all(struct session *s, int del, int64_t *count)
{
	int64_t newest;
	int rc;

	if ((rc = api_newest_id(s, &newest)) != CLI_OK || newest == 0)
		return rc;
	return api_messages_ack_upto(s, newest, del, count);
}

int cmd_ack(const struct cli_opts *o, int argc, char **argv)
{
	struct ids ids = {NULL, 0, 0};
	struct session s;
	int all = 0, del = 0, npos = 0, rc = CLI_EUSAGE;
	int64_t count = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(argv[i], "--delete") == 0)
			del = 1;
		else if (argv[i][0] == '-')
			return cli_usage_err(argv[0]);
		else if (ids_args_parse(&ids, 1, &argv[i]) != 0)
			goto out;
		else
			npos++;
	}
	if (all == (npos > 0) || (!all && ids.n == 0)) {
		rc = cli_usage_err(argv[0]);
		goto out;
	}
	if ((rc = session_open(o, &s)) != CLI_OK)
		goto out;
	if (all)
		rc = cmd_ack_all(&s, del, &count);
	else
		rc = api_messages_ack(&s, ids.v, ids.n, del, &count);
	if (rc == CLI_OK)
		printf("%lld message(s) %s\n", (long long)count,
		       del ? "deleted" : "marked as seen");
	session_close(&s);
out:
	ids_free(&ids);
	return rc;
}
