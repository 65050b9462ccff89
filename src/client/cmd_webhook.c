/* webhook set|clear|status: the inbox's notification URL (docs/API.md,
 * POST /webhook). Setting and clearing sign a challenge bound to the
 * purpose "webhook"; status reads like fetch. */
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/jsonv.h"
#include "client/session.h"
#include "client/text.h"

/* One line "name: value" of the server's webhook object, shown safely; a
 * missing or null value is "-". */
static void show(json_object *w, const char *label, const char *name)
{
	const char *v = jsonv_str_get(w, name);

	printf("%s: ", label);
	if (v == NULL)
		fputs("-", stdout);
	else
		text_safe_write(stdout, (const unsigned char *)v, strlen(v), 0);
	fputc('\n', stdout);
}

static int show_state(const struct http_reply *r)
{
	json_object *w = NULL;
	int64_t attempts = 0;

	if (!json_object_object_get_ex(r->json, "webhook", &w)) {
		cli_err("webhook: the server's answer has no webhook state");
		return CLI_ESERVER;
	}
	if (w == NULL || json_object_is_type(w, json_type_null)) {
		printf("no webhook\n");
		return CLI_OK;
	}
	if (!json_object_is_type(w, json_type_object)) {
		cli_err("webhook: the server's webhook state is not an object");
		return CLI_ESERVER;
	}
	show(w, "url", "url");
	show(w, "kind", "kind");
	show(w, "state", "state");
	show(w, "last sent", "last_sent_at");
	show(w, "last failure", "last_failure_at");
	show(w, "last error", "last_error");
	if (jsonv_bool_get(w, "pending", 0)) {
		if (jsonv_int_get(w, "attempts", 0, 1000000, &attempts) != 0)
			attempts = 0;
		printf("pending: yes, %lld failed attempts\n", (long long)attempts);
	} else {
		printf("pending: no\n");
	}
	return CLI_OK;
}

int cmd_webhook(const struct cli_opts *o, int argc, char **argv)
{
	struct http_reply r = {0, NULL, 0};
	struct session s;
	const char *action, *url = NULL, *kind = NULL;
	int rc;

	if (argc < 2)
		return cli_usage_err(argv[0]);
	action = argv[1];
	if (strcmp(action, "set") == 0) {
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--ntfy") == 0)
				kind = "ntfy";
			else if (url == NULL && argv[i][0] != '-')
				url = argv[i];
			else
				return cli_usage_err(argv[0]);
		}
		if (url == NULL)
			return cli_usage_err(argv[0]);
	} else if ((strcmp(action, "clear") != 0 && strcmp(action, "status") != 0) || argc != 2) {
		return cli_usage_err(argv[0]);
	}
	if ((rc = session_open(o, &s)) != CLI_OK)
		return rc;
	if ((rc = api_webhook_post(&s, action, url, kind, &r)) == CLI_OK)
		rc = show_state(&r);
	http_reply_free(&r);
	session_close(&s);
	return rc;
}
