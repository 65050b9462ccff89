/* Least privilege: a process started as root gives up root for --user once
 * the socket is bound, before it opens any database or reads a request;
 * and no process of sealdropd can gain privileges again (no_new_privs). */
#include "server/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/log.h"

/* Groups first, then the gid, then the uid: once the uid is gone nothing
 * else can be changed. */
static int become_user(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (geteuid() != 0) {
		fprintf(stderr, "sealdropd: --user needs to be started as root\n");
		return -1;
	}
	if (pw == NULL) {
		fprintf(stderr, "sealdropd: no such user: %s\n", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "sealdropd: cannot become %s: %s\n", user, strerror(errno));
		return -1;
	}
	/* A drop that could be undone is no drop. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		fprintf(stderr, "sealdropd: could regain root after dropping it\n");
		return -1;
	}
	return 0;
}

int privileges_drop(const struct sd_config *cfg)
{
	if (cfg->user[0] != '\0') {
		if (become_user(cfg->user) != 0)
			return -1;
	} else if (geteuid() == 0) {
		sd_log_info("running as root: consider --user");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "sealdropd: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}
