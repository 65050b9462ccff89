/* sealdrop: the command-line client for recipients (and senders). */
#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/cli.h"
#include "client/commands.h"

struct command {
	const char *name;
	int (*run)(const struct cli_opts *o, int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
    {"init", cmd_init, "init [--force]",
     "Create a new identity (an Ed25519 seed) in a passphrase-protected file."},
    {"register", cmd_register, "register --server URL [--name NAME]",
     "Create an inbox on a server and print its self-authenticating link."},
    {"link", cmd_link, "link", "Print the self-authenticating link of your inbox."},
    {"send", cmd_send, "send LINK [TEXT|-]",
     "Seal TEXT (or standard input) to the inbox of LINK and drop it there.\n"
     "Needs no identity. When the link carries a key after '#', the message is\n"
     "sealed to that key and nothing is sent if the server serves another one."},
    {"fetch", cmd_fetch, "fetch [--all] [--json]",
     "Fetch and decrypt unread messages (--all: read ones too)."},
    {"ack", cmd_ack, "ack IDS|--all [--delete]",
     "Mark messages as read (IDS: 12,13 or 12 13), or erase them with --delete."},
    {"watch", cmd_watch, "watch [--interval SECONDS]",
     "Print new messages as they arrive (default every 15 seconds) until stopped."},
    {"rotate-token", cmd_rotate_token, "rotate-token",
     "Replace the inbox's fetch token; the old one stops working at once."},
    {"unregister", cmd_unregister, "unregister",
     "Erase the inbox with all its messages from the server."},
    {"export", cmd_export, "export FILE [--force]",
     "Write a backup of the identity (the same format the browser reads)."},
    {"import", cmd_import, "import FILE [--force]",
     "Install an identity backup (from 'export' or the browser) as your identity."},
};

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("sealdrop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fputs("usage: sealdrop [--identity FILE] [--passphrase-file FILE] COMMAND [ARGS]\n\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-38s\n", commands[i].usage);
	fputs("\n'sealdrop COMMAND --help' explains one. The passphrase comes from\n"
	      "$SEALDROP_PASSPHRASE, --passphrase-file, or a prompt.\n"
	      "exit codes: 0 ok, 64 usage, 65 data (decrypt, identity, key mismatch),\n"
	      "69 network, 70 server refused, 74 file i/o, 77 authentication failed.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct cli_opts o = {identity_default_path(), NULL};
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--identity") == 0 && i + 1 < argc) {
			o.identity = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc) {
			o.pass_file = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EX_OK_;
		} else {
			cli_err("unknown option %s", argv[i]);
			usage(stderr);
			return EX_USAGE_;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EX_USAGE_;
	}
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
		const struct command *c = &commands[k];

		if (strcmp(argv[i], c->name) != 0)
			continue;
		for (int j = i + 1; j < argc; j++)
			if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
				printf("usage: sealdrop %s\n\n%s\n", c->usage, c->help);
				return EX_OK_;
			}
		if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			cli_err("cannot initialise libsodium or libcurl");
			return EX_DATA_;
		}
		rc = c->run(&o, argc - i, argv + i);
		curl_global_cleanup();
		return rc;
	}
	cli_err("unknown command %s", argv[i]);
	usage(stderr);
	return EX_USAGE_;
}
