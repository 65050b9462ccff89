/* Reading a passphrase without leaving copies behind: guarded buffers from
 * sodium_malloc, unbuffered reads (no stdio buffer keeps a copy), and a
 * terminal whose echo comes back even when Ctrl-C interrupts the prompt. */
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

/* The terminal being prompted on, for the signal handler. */
static volatile sig_atomic_t passphrase_tty_fd = -1;
static struct termios passphrase_tty_saved;

static void passphrase_tty_restore(int sig)
{
	if (passphrase_tty_fd >= 0)
		tcsetattr(passphrase_tty_fd, TCSAFLUSH, &passphrase_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
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

static int passphrase_tty_prompt(const char *text, char **out)
{
	struct termios quiet;
	struct sigaction sa, old_int, old_term, old_hup, old_tstp;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), rc;

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
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = passphrase_tty_restore;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGTSTP, &sa, &old_tstp);
	passphrase_tty_fd = fd;
	quiet = passphrase_tty_saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)!write(fd, text, strlen(text));
	tcsetattr(fd, TCSAFLUSH, &quiet);
	rc = passphrase_line_read(fd, "the terminal", out);
	tcsetattr(fd, TCSAFLUSH, &passphrase_tty_saved);
	passphrase_tty_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	(void)!write(fd, "\n", 1);
	close(fd);
	return rc;
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
