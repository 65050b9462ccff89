/* sealdrop: the command-line client for recipients (and senders) of a
 * sealdrop server. This file reads the global options and dispatches. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "client/cli.h"
#include "client/commands.h"
#include "client/identity.h"
#include "config.h"

struct command {
	const char *name;
	int (*run)(const struct cli_opts *o, int argc, char **argv);
	int needs_identity;
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
    {"init", cmd_init, 1, "init [--force]",
     "Create a new identity (an Ed25519 seed) in a passphrase-protected file.\n"
     "The passphrase (at least 8 characters) is asked twice on the terminal.\n"
     "An existing identity is never replaced unless --force is given."},
    {"register", cmd_register, 1, "register --server URL [--name NAME] [--padded-only] [--force]",
     "Create an inbox for this identity on the server at URL and print its\n"
     "self-authenticating link, URL/l/TOKEN#KEY: share it with senders. Only\n"
     "public keys are sent. --name sets the name the send page shows. An\n"
     "identity that already has an inbox needs --force (the old inbox is\n"
     "forgotten here, not erased on its server: 'unregister' does that).\n"
     "The inbox takes envelopes with receipts (docs/RECEIPTS.md); with\n"
     "--padded-only the server stores padded messages only (a server that\n"
     "does not echo it back fails the command; the inbox exists then).\n"
     "The inbox's fetch token is kept in the identity file, sealed to the\n"
     "identity's own key: fetch and ack read with it."},
    {"link", cmd_link, 1, "link", "Print the self-authenticating link of this identity's inbox."},
    {"send", cmd_send, 0, "send LINK [TEXT|-] [--receipt-file FILE]",
     "Seal a message to the inbox of LINK and drop it there. The message is\n"
     "TEXT, or standard input when TEXT is '-' or missing (a TEXT starting\n"
     "with '-' goes after '--'). No identity is needed. When LINK carries a\n"
     "key after '#', the message is sealed to that key, and nothing is sent\n"
     "if the server serves a different one.\n"
     "To an inbox that takes envelopes, the text goes padded with a receipt:\n"
     "the last line is 'receipt: URL/r#SECRET.KEY'; keep it to see the message's\n"
     "status and the owner's replies ('receipt') and to answer ('answer').\n"
     "--receipt-file FILE saves it there (mode 0600, never over a file)\n"
     "instead of printing it, before sending; it is removed only when the\n"
     "server refuses the message. Other inboxes get the plain text, no\n"
     "receipt (a note on stderr says so)."},
    {"receipt", cmd_receipt, 0, "receipt RECEIPT [--json] [--link LINK]",
     "Show what became of the messages sent with RECEIPT (stored, read,\n"
     "deleted, expired: the server shows changes late, on purpose) and the\n"
     "owner's replies, decrypted. No identity is needed.\n"
     "  --json  one JSON object: link_token, thread_id, status, messages,\n"
     "          replies (text, or error when a reply does not open)\n"
     "  --link  the inbox's link: refuse an answer about another inbox"},
    {"answer", cmd_answer, 0, "answer RECEIPT [TEXT|-] [--link LINK]",
     "Send another message to the inbox of RECEIPT, in the same thread: the\n"
     "owner's replies to it come to the same receipt. It is sealed to the\n"
     "inbox key the receipt names (after '.'), and nothing is sent if the\n"
     "server serves another. --link LINK: check the inbox and its key\n"
     "against the link first."},
    {"reply", cmd_reply, 1, "reply ID [TEXT|-]",
     "Reply to message ID of your inbox (as 'fetch' shows it), when it came\n"
     "with a receipt: sealed to the key its sender keeps, padded. Its first\n"
     "line is shown on stderr first ('replying to #ID: ...'): check it, the\n"
     "server chooses what it returns under an id."},
    {"fetch", cmd_fetch, 1, "fetch [--all] [--json] [--ack]",
     "Fetch and decrypt the unread messages, oldest first, every page.\n"
     "  --all   read messages too\n"
     "  --json  one JSON array: id, created_at, seen, text (or data_base64 when\n"
     "          a message is not UTF-8), metadata, reply_key (whether 'reply'\n"
     "          can answer it), and thread_id and replies for a thread\n"
     "  --ack   then mark the messages shown as read\n"
     "In text form, control characters in a message are shown as '?'."},
    {"ack", cmd_ack, 1, "ack IDS|--all [--delete]",
     "Mark messages as read (IDS: 12,13 or 12 13), or erase them with --delete.\n"
     "--all: every message up to the newest one there is now, read or not, in\n"
     "one request, including any that arrived since you last fetched."},
    {"watch", cmd_watch, 1, "watch [--interval SECONDS] [--json] [--ack]",
     "Print unread messages, then new ones as they arrive, until interrupted.\n"
     "  --interval  seconds between checks (default 15, 1..86400)\n"
     "  --json      one JSON object per line\n"
     "  --ack       mark each message shown as read"},
    {"rotate-token", cmd_rotate_token, 1, "rotate-token",
     "Replace the inbox's fetch token, keep the new one (sealed) in the\n"
     "identity file and print it (for PyCrypt-style clients that use it); the\n"
     "old one stops working at once."},
    {"unregister", cmd_unregister, 1, "unregister",
     "Erase the inbox, with all its messages, from the server; the identity\n"
     "stays and can register again."},
    {"webhook", cmd_webhook, 1, "webhook set URL [--ntfy] | webhook clear | webhook status",
     "Manage the inbox's webhook: a URL the server POSTs a content-free ping\n"
     "to when messages arrive (at most one per the server's interval).\n"
     "  set URL   an https:// URL (http:// only where the operator allows it);\n"
     "            --ntfy: an ntfy topic URL, pinged with the text 'New message'\n"
     "  clear     remove it\n"
     "  status    show it: state ok or failing, last delivery, last failure"},
    {"export", cmd_export, 1, "export FILE|- [--force]",
     "Write a backup of the identity to FILE (or standard output): the same\n"
     "format the browser saves and restores. It stays sealed with the\n"
     "passphrase, which is checked first."},
    {"import", cmd_import, 1, "import FILE [--force]",
     "Install a backup (from 'export' or the browser) as this machine's\n"
     "identity, after checking its passphrase. An existing identity is never\n"
     "replaced unless --force is given."},
};

#define COMMANDS_N (sizeof commands / sizeof commands[0])

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < COMMANDS_N; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int cli_usage_err(const char *cmd)
{
	const struct command *c = command_find(cmd);

	if (c == NULL)
		cli_err("usage: see 'sealdrop --help'");
	else
		cli_err("usage: sealdrop %s (see 'sealdrop %s --help')", c->usage, c->name);
	return CLI_EUSAGE;
}

static void usage_print(void)
{
	fputs("usage: sealdrop [--identity FILE] [--passphrase-file FILE] COMMAND [ARGS]\n\n"
	      "commands:\n",
	      stdout);
	for (size_t i = 0; i < COMMANDS_N; i++)
		printf("  %s\n", commands[i].usage);
	fputs("\n'sealdrop COMMAND --help' explains one. The global options may also\n"
	      "follow the command. The passphrase comes from --passphrase-file (its\n"
	      "first line), $SEALDROP_PASSPHRASE, or a prompt without echo.\n"
	      "The identity file defaults to $XDG_CONFIG_HOME/sealdrop/identity\n"
	      "(else ~/.config/sealdrop/identity).\n\n"
	      "exit status: 0 ok, 64 usage, 65 data (wrong passphrase, bad identity\n"
	      "file, undecryptable message, key mismatch), 69 network, 70 server\n"
	      "refused, 71 internal, 74 local file, 77 authentication failed.\n",
	      stdout);
}

/* No core dumps and no ptrace by other processes of the user: the
 * process holds the unlocked seed. */
static void process_harden(void)
{
	struct rlimit none = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* A global option at argv[*i]: consumes it (and its value) and returns 1;
 * 0 when argv[*i] is not one; -1 when its value is missing. */
static int global_opt_take(struct cli_opts *o, int argc, char **argv, int *i)
{
	static const char *const names[] = {"--identity", "--passphrase-file"};
	const char **slot[] = {&o->identity, &o->pass_file};

	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(names[k]);

		if (strncmp(argv[*i], names[k], n) != 0)
			continue;
		if (argv[*i][n] == '=') {
			*slot[k] = argv[*i] + n + 1;
			*i += 1;
			return 1;
		}
		if (argv[*i][n] != '\0')
			continue;
		if (*i + 1 >= argc) {
			cli_err("%s needs a value", names[k]);
			return -1;
		}
		*slot[k] = argv[*i + 1];
		*i += 2;
		return 1;
	}
	return 0;
}

static int is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int main(int argc, char **argv)
{
	struct cli_opts o = {NULL, NULL};
	const struct command *c = NULL;
	char **cargv = calloc((size_t)argc + 1, sizeof *cargv);
	int i = 1, cargc = 0, dashdash = 0, help = 0, r, rc = CLI_EUSAGE;

	process_harden();
	if (cargv == NULL) {
		cli_err("out of memory");
		return CLI_EINTERNAL;
	}
	while (i < argc) {
		if (!dashdash && (r = global_opt_take(&o, argc, argv, &i)) != 0) {
			if (r < 0)
				goto out;
			continue;
		}
		if (c == NULL) {
			if (is_help(argv[i]) || strcmp(argv[i], "help") == 0) {
				usage_print();
				rc = CLI_OK;
				goto out;
			}
			if (strcmp(argv[i], "--version") == 0) {
				printf("sealdrop %s\n", PACKAGE_VERSION);
				rc = CLI_OK;
				goto out;
			}
			if ((c = command_find(argv[i])) == NULL) {
				cli_err("unknown %s %s (see 'sealdrop --help')",
				        argv[i][0] == '-' ? "option" : "command", argv[i]);
				goto out;
			}
		} else if (!dashdash && is_help(argv[i])) {
			help = 1;
		} else if (strcmp(argv[i], "--") == 0) {
			dashdash = 1;
		}
		cargv[cargc++] = argv[i++];
	}
	if (c == NULL) {
		cli_err("no command given (see 'sealdrop --help')");
		goto out;
	}
	if (help) {
		printf("usage: sealdrop %s\n\n%s\n", c->usage, c->help);
		rc = CLI_OK;
		goto out;
	}
	if (c->needs_identity && o.identity == NULL &&
	    (o.identity = identity_path_default()) == NULL) {
		cli_err("neither XDG_CONFIG_HOME nor HOME is set: give --identity FILE");
		goto out;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		cli_err("cannot initialise libsodium or libcurl");
		rc = CLI_EINTERNAL;
		goto out;
	}
	rc = c->run(&o, cargc, cargv);
	curl_global_cleanup();
out:
	free(cargv);
	return rc;
}
