#include "server/pause.h"

#include <errno.h>

void pause_unless_stopped(pthread_mutex_t *mu, pthread_cond_t *cv, volatile sig_atomic_t *stop,
                          time_t seconds)
{
	struct timespec until;

	/* The realtime clock, as pthread_cond_timedwait measures by default. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	while (!*stop && pthread_cond_timedwait(cv, mu, &until) != ETIMEDOUT)
		;
}
