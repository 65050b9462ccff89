/* Reading a passphrase without leaving copies behind: guarded buffers from
 * sodium_malloc, unbuffered reads (no stdio buffer keeps a copy), and a
 * terminal whose echo is off before the prompt shows and comes back even
 * when Ctrl-C or Ctrl-Z interrupts the prompt. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/passphrase.h"

/* The terminal being prompted on, for the signal handler: its settings as
 * found, the quiet ones (no echo) the prompt runs with, and the prompt. */
static volatile sig_atomic_t passphrase_tty_fd = -1;
static struct termios passphrase_tty_saved, passphrase_tty_quiet;
static const char *passphrase_tty_text;
static struct sigaction passphrase_tty_action;

/* The signals that would leave the terminal without echo if they found it
 * quiet; blocked while the terminal changes state, so that no handler ever
 * sees a half-set-up or half-restored prompt. */
static void passphrase_tty_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTSTP);
}

/* Put the echo back, then do what the signal would have done. Ctrl-Z stops
 * the process with the echo on and turns it off again (and asks again) when
 * the process is continued; any other signal ends it, echo on. Only
 * async-signal-safe calls. */
static void passphrase_tty_signal(int sig)
{
	int saved_errno = errno, fd = passphrase_tty_fd;
	struct sigaction dfl;
	sigset_t set;

	if (fd >= 0)
		tcsetattr(fd, TCSAFLUSH, &passphrase_tty_saved);
	dfl = passphrase_tty_action;
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig); /* blocked until the handler returns, or unblocked below */
	if (sig == SIGTSTP) {
		sigemptyset(&set);
		sigaddset(&set, SIGTSTP);
		sigprocmask(SIG_UNBLOCK, &set, NULL); /* stopped here until continued */
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigaction(SIGTSTP, &passphrase_tty_action, NULL);
		if (fd >= 0) { /* what was typed while stopped was echoed: dropped */
			tcsetattr(fd, TCSAFLUSH, &passphrase_tty_quiet);
			(void)!write(fd, "\n", 1);
			(void)!write(fd, passphrase_tty_text, strlen(passphrase_tty_text));
		}
	}
	errno = saved_errno;
}

/* Read one line (without its end) from fd into a new guarded buffer.
 * Returns an exit code; a line longer than PASSPHRASE_MAX is refused. */
static int passphrase_line_read(int fd, const char *what, char **out)
{
	char *buf = sodium_malloc(PASSPHRASE_MAX + 1), c;
	size_t n = 0;
	ssize_t r;
	int rc = CLI_EIO;

	*out = NULL;
	if (buf == NULL) {
		cli_err("out of memory");
		return CLI_EINTERNAL;
	}
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cli_err("cannot read the passphrase from %s: %s", what, strerror(errno));
			goto out;
		}
		if (r == 0 || c == '\n')
			break;
		if (n == PASSPHRASE_MAX) {
			cli_err("the passphrase from %s is longer than %d bytes", what,
			        PASSPHRASE_MAX);
			rc = CLI_EUSAGE;
			goto out;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	rc = CLI_OK;
out:
	sodium_memzero(&c, sizeof c);
	if (buf != NULL)
		sodium_free(buf);
	return rc;
}

static int passphrase_file_read(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		cli_err("cannot read the passphrase file %s: %s", path, strerror(errno));
		return CLI_EIO;
	}
	rc = passphrase_line_read(fd, path, out);
	close(fd);
	return rc;
}

static int passphrase_env_read(const char *env, char **out)
{
	size_t n = strlen(env);

	*out = NULL;
	if (n > PASSPHRASE_MAX) {
		cli_err("SEALDROP_PASSPHRASE is longer than %d bytes", PASSPHRASE_MAX);
		return CLI_EUSAGE;
	}
	if ((*out = sodium_malloc(n + 1)) == NULL) {
		cli_err("out of memory");
		return CLI_EINTERNAL;
	}
	memcpy(*out, env, n + 1);
	return CLI_OK;
}

/* Echo goes off (and what was typed before the prompt is thrown away)
 * before the prompt is written: whoever answers the prompt as soon as it
 * appears types at a quiet terminal, and no keystroke is echoed or lost. */
static int passphrase_tty_prompt(const char *text, char **out)
{
	struct sigaction old_int, old_term, old_hup, old_tstp;
	struct termios now;
	sigset_t block, old_mask;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), rc = CLI_EUSAGE, asked = 0;

	*out = NULL;
	if (fd < 0) {
		cli_err("no passphrase: set SEALDROP_PASSPHRASE, give --passphrase-file, "
		        "or run on a terminal");
		return CLI_EUSAGE;
	}
	if (tcgetattr(fd, &passphrase_tty_saved) != 0) {
		cli_err("cannot prompt for the passphrase: %s", strerror(errno));
		close(fd);
		return CLI_EUSAGE;
	}
	passphrase_tty_quiet = passphrase_tty_saved;
	passphrase_tty_quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	passphrase_tty_quiet.c_lflag |= ICANON;
	passphrase_tty_text = text;
	memset(&passphrase_tty_action, 0, sizeof passphrase_tty_action);
	passphrase_tty_action.sa_handler = passphrase_tty_signal;
	passphrase_tty_signals(&passphrase_tty_action.sa_mask);

	passphrase_tty_signals(&block);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	sigaction(SIGINT, &passphrase_tty_action, &old_int);
	sigaction(SIGTERM, &passphrase_tty_action, &old_term);
	sigaction(SIGHUP, &passphrase_tty_action, &old_hup);
	sigaction(SIGTSTP, &passphrase_tty_action, &old_tstp);
	passphrase_tty_fd = fd;
	/* tcsetattr succeeds when any one change took; make sure echo is off. */
	if (tcsetattr(fd, TCSAFLUSH, &passphrase_tty_quiet) != 0 || tcgetattr(fd, &now) != 0 ||
	    (now.c_lflag & ECHO) != 0) {
		cli_err("cannot turn the terminal's echo off to ask for the passphrase");
		goto restore;
	}
	(void)!write(fd, text, strlen(text));
	asked = 1;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	rc = passphrase_line_read(fd, "the terminal", out);
	sigprocmask(SIG_BLOCK, &block, NULL);
restore:
	tcsetattr(fd, TCSAFLUSH, &passphrase_tty_saved);
	passphrase_tty_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL); /* a signal that came meanwhile acts now */
	if (asked)
		(void)!write(fd, "\n", 1); /* the Enter that was not echoed */
	close(fd);
	return rc;
}

/* Characters, not bytes: what a person counts, and what the browser's
 * check counts for every passphrase of the Basic Multilingual Plane. */
static size_t passphrase_chars(const char *p)
{
	size_t n = 0;

	for (; *p != '\0'; p++)
		n += ((unsigned char)*p & 0xC0) != 0x80;
	return n;
}

int passphrase_read(const char *file, int confirm, char **out)
{
	const char *env = getenv("SEALDROP_PASSPHRASE");
	char *p = NULL, *again = NULL;
	int rc;

	*out = NULL;
	if (file != NULL)
		rc = passphrase_file_read(file, &p);
	else if (env != NULL)
		rc = passphrase_env_read(env, &p);
	else {
		rc = passphrase_tty_prompt("Passphrase: ", &p);
		if (rc == CLI_OK && confirm && *p != '\0') {
			rc = passphrase_tty_prompt("Passphrase again: ", &again);
			if (rc == CLI_OK && strcmp(again, p) != 0) {
				cli_err("the passphrases differ");
				rc = CLI_EUSAGE;
			}
		}
	}
	if (rc == CLI_OK && *p == '\0') {
		cli_err("the passphrase is empty");
		rc = CLI_EUSAGE;
	} else if (rc == CLI_OK && confirm && passphrase_chars(p) < PASSPHRASE_NEW_MIN) {
		/* It is all that protects the key in a copied identity file. */
		cli_err("choose a passphrase of at least %d characters: it is all that protects "
		        "the key if the identity file is copied",
		        PASSPHRASE_NEW_MIN);
		rc = CLI_EUSAGE;
	}
	if (rc == CLI_OK) {
		*out = p;
		p = NULL;
	}
	passphrase_free(again);
	passphrase_free(p);
	return rc;
}

void passphrase_free(char *p)
{
	if (p != NULL)
		sodium_free(p); /* wipes before it frees */
}
