/* The command-line client: exit codes, options every command sees, and the
 * one way errors are reported. */
#ifndef SD_CLIENT_CLI_H
#define SD_CLIENT_CLI_H

/* Exit codes, sysexits(3) values; sealdrop.1 and docs/CLI.md list them. */
enum cli_exit {
	CLI_OK = 0,
	/* Bad command line; no inbox registered yet. */
	CLI_EUSAGE = 64,
	/* Wrong passphrase, bad identity file, a message that does not
	 * decrypt, a server key that differs from the link's. */
	CLI_EDATA = 65,
	/* No answer from the server (unreachable, certificate, timeout, a
	 * reply too large to read). */
	CLI_ENETWORK = 69,
	/* The server refused (4xx/5xx other than 401) or answered nonsense. */
	CLI_ESERVER = 70,
	/* Out of memory, a library would not start. */
	CLI_EINTERNAL = 71,
	/* A local file could not be read or written. */
	CLI_EIO = 74,
	/* The server refused our signature (401). */
	CLI_EAUTH = 77,
};

/* Options given before or after the command name. */
struct cli_opts {
	const char *identity;  /* the identity file */
	const char *pass_file; /* --passphrase-file, or NULL */
};

/* One line on stderr, "sealdrop: ...\n". Control characters in the result
 * (a server's error text may hold any) are shown as '?'. Callers never pass
 * a plaintext, passphrase, seed or token. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "sealdrop: usage: sealdrop <usage of cmd> ..." on stderr; returns
 * CLI_EUSAGE. */
int cli_usage_err(const char *cmd);

#endif
