/* Opening the identity for a command. */
#include <sodium.h>
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
	if (s->id.server[0] != '\0' &&
	    link_origin(s->id.server, s->origin, sizeof s->origin) != 0) {
		cli_err("the server URL recorded in the identity file has no usable origin");
		session_close(s);
		return CLI_EDATA;
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
	/* Without the token reading still works, by signatures. */
	if (rc == CLI_OK && identity_fetch_token_open(&s->id, s->keys, &s->fetch_token) != 0)
		cli_err("warning: the fetch token kept in the identity file does not open; "
		        "signing challenges instead");
	if (rc != CLI_OK)
		session_close(s);
	return rc;
}

void session_close(struct session *s)
{
	if (s->fetch_token != NULL)
		sodium_free(s->fetch_token); /* wipes before it frees */
	s->fetch_token = NULL;
	identity_keys_free(s->keys);
	s->keys = NULL;
	identity_free(&s->id);
}
