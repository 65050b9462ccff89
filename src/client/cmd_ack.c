/* ack: mark messages read, or erase them. */
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/ids.h"
#include "client/jsonv.h"
#include "client/session.h"

/* --all: the ids of every unread message (with include_seen, of every
 * message). Nothing is decrypted. */
static int cmd_ack_all_collect(const struct session *s, int include_seen, struct ids *out)
{
	struct http_reply r = {0, NULL};
	json_object *data;
	int64_t since = 0, next, id;
	int rc;

	for (;;) {
		if ((rc = api_messages_fetch(s, include_seen, since, &r, &data, &next)) != CLI_OK)
			return rc;
		for (size_t i = 0; i < json_object_array_length(data) && rc == CLI_OK; i++)
			if (jsonv_int_get(json_object_array_get_idx(data, i), "id", 1, INT64_MAX,
			                  &id) == 0 &&
			    ids_push(out, id) != 0)
				rc = CLI_EINTERNAL;
		http_reply_free(&r);
		if (rc != CLI_OK || next == 0)
			return rc;
		since = next;
	}
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
		rc = cmd_ack_all_collect(&s, del, &ids);
	if (rc == CLI_OK && ids.n > 0)
		rc = api_messages_ack(&s, ids.v, ids.n, del, &count);
	if (rc == CLI_OK)
		printf("%lld message(s) %s\n", (long long)count,
		       del ? "deleted" : "marked as seen");
	session_close(&s);
out:
	ids_free(&ids);
	return rc;
}
