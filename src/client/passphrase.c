/* Where the passphrase comes from: the environment, a file, or the
 * terminal with echo off. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client/cli.h"

#define PASS_MAX 1024

static char *read_line(FILE *f)
{
	char *buf = sodium_malloc(PASS_MAX + 2);
	size_t n;

	if (buf == NULL)
		return NULL;
	if (fgets(buf, PASS_MAX + 2, f) == NULL) {
		sodium_free(buf);
		return NULL;
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return buf;
}

static char *prompt(const char *text)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	char *p;

	if (tty == NULL) {
		cli_err("no passphrase: set SEALDROP_PASSPHRASE or give --passphrase-file");
		return NULL;
	}
	fputs(text, tty);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	p = read_line(tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	return p;
}

char *passphrase_get(const char *file, int confirm)
{
	const char *env = getenv("SEALDROP_PASSPHRASE");
	char *p = NULL, *again;

	if (file != NULL) {
		FILE *f = fopen(file, "r");
		if (f == NULL) {
			cli_err("cannot read the passphrase file %s: %s", file, strerror(errno));
			return NULL;
		}
		p = read_line(f);
		fclose(f);
	} else if (env != NULL) {
		p = sodium_malloc(strlen(env) + 1);
		if (p != NULL)
			memcpy(p, env, strlen(env) + 1);
	} else {
		p = prompt("Passphrase: ");
		if (p != NULL && confirm) {
			again = prompt("Passphrase again: ");
			if (again == NULL || strcmp(again, p) != 0) {
				cli_err("the passphrases differ");
				passphrase_free(again);
				passphrase_free(p);
				return NULL;
			}
			passphrase_free(again);
		}
	}
	if (p != NULL && *p == '\0') {
		cli_err("the passphrase is empty");
		passphrase_free(p);
		return NULL;
	}
	return p;
}

void passphrase_free(char *p)
{
	if (p != NULL)
		sodium_free(p); /* wipes */
}
