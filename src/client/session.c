/* Opening the identity for a command. */
#include <string.h>

#include "client/passphrase.h"
#include "client/session.h"

int session_open_public(const struct cli_opts *o, struct session *s, int need_inbox)
{
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = identity_file_load(o->identity, &s->id)) != CLI_OK)
		return rc;
	if (need_inbox && s->id.server[0] == '\0') {
		cli_err("this identity has no inbox yet: run 'sealdrop register --server URL'");
		session_close(s);
		return CLI_EUSAGE;
	}
	return CLI_OK;
}

int session_open(const struct cli_opts *o, struct session *s)
{
	char *pass = NULL;
	int rc;

	if ((rc = session_open_public(o, s, 1)) != CLI_OK)
		return rc;
	if ((rc = passphrase_read(o->pass_file, 0, &pass)) == CLI_OK)
		rc = identity_keys_unlock(&s->id, pass, &s->keys);
	passphrase_free(pass);
	if (rc != CLI_OK)
		session_close(s);
	return rc;
}

void session_close(struct session *s)
{
	identity_keys_free(s->keys);
	s->keys = NULL;
	identity_free(&s->id);
}
