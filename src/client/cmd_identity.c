/* init, export, import: the identity file itself. */
#include <stdio.h>
#include <string.h>

#include "client/commands.h"
#include "client/file.h"
#include "client/identity.h"
#include "client/passphrase.h"

/* Accept [--force] around exactly `want` positional arguments. */
static int cmd_args_force(int argc, char **argv, int want, const char **pos, int *force)
{
	int n = 0;

	*force = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			*force = 1;
		else if (n < want && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			pos[n++] = argv[i];
		else
			return cli_usage_err(argv[0]);
	}
	return n == want ? CLI_OK : cli_usage_err(argv[0]);
}

int cmd_init(const struct cli_opts *o, int argc, char **argv)
{
	char *pass = NULL;
	int force, rc;

	if ((rc = cmd_args_force(argc, argv, 0, NULL, &force)) != CLI_OK)
		return rc;
	if (!force && (rc = file_existing_refuse(o->identity, "use --force")) != CLI_OK)
		return rc;
	if ((rc = passphrase_read(o->pass_file, 1, &pass)) != CLI_OK)
		return rc;
	rc = identity_file_create(o->identity, pass, force);
	passphrase_free(pass);
	if (rc == CLI_OK)
		printf("identity written to %s\n", o->identity);
	return rc;
}

/* Load src and check pass opens it; the caller frees id. */
static int cmd_identity_verify(const char *src, const char *pass, struct identity *id)
{
	struct identity_keys *keys = NULL;
	int rc = identity_file_load(src, id);

	if (rc != CLI_OK)
		return rc;
	rc = identity_keys_unlock(id, pass, &keys);
	identity_keys_free(keys);
	if (rc != CLI_OK)
		identity_free(id);
	return rc;
}

int cmd_export(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	const char *dest;
	char *pass = NULL;
	int force, rc;

	if ((rc = cmd_args_force(argc, argv, 1, &dest, &force)) != CLI_OK)
		return rc;
	if (!force && strcmp(dest, "-") != 0 &&
	    (rc = file_existing_refuse(dest, "use --force")) != CLI_OK)
		return rc;
	if ((rc = passphrase_read(o->pass_file, 0, &pass)) != CLI_OK)
		return rc;
	rc = cmd_identity_verify(o->identity, pass, &id);
	passphrase_free(pass);
	if (rc != CLI_OK)
		return rc;
	if (strcmp(dest, "-") == 0)
		printf("%s\n", identity_doc_text(&id));
	else if ((rc = file_private_write(dest, identity_doc_text(&id), !force)) == CLI_OK)
		printf("identity exported to %s\n", dest);
	identity_free(&id);
	return rc;
}

int cmd_import(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	const char *src;
	char *pass = NULL;
	int force, rc;

	if ((rc = cmd_args_force(argc, argv, 1, &src, &force)) != CLI_OK)
		return rc;
	if (!force && (rc = file_existing_refuse(o->identity, "use --force")) != CLI_OK)
		return rc;
	if ((rc = passphrase_read(o->pass_file, 0, &pass)) != CLI_OK)
		return rc;
	rc = cmd_identity_verify(src, pass, &id);
	passphrase_free(pass);
	if (rc != CLI_OK)
		return rc;
	if ((rc = file_private_write(o->identity, identity_doc_text(&id), !force)) == CLI_OK)
		printf("identity imported to %s\n", o->identity);
	identity_free(&id);
	return rc;
}
