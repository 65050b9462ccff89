/* A background thread's pause between rounds, cut short by a stop. */
#ifndef SD_PAUSE_H
#define SD_PAUSE_H

#include <pthread.h>
#include <signal.h>
#include <time.h>

/* Waits on cv for up to seconds, returning early once *stop is set (the
 * stopper signals cv). Called, and returns, with mu held. */
void pause_unless_stopped(pthread_mutex_t *mu, pthread_cond_t *cv, volatile sig_atomic_t *stop,
                          time_t seconds);

#endif
