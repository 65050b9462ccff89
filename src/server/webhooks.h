/* The webhook sender: a few threads per process (SEALDROP_WEBHOOK_SENDERS)
 * that claim due pings from the outbox (store/webhooks.c) and POST them,
 * content-free, with libcurl, to addresses the outbound rules allow
 * (core/outbound.h). Several, so that a slow receiver holds up one thread,
 * not every inbox's pings; the claim keeps two threads off one ping. */
#ifndef SD_SERVER_WEBHOOKS_H
#define SD_SERVER_WEBHOOKS_H

#include <pthread.h>
#include <signal.h>

#include "core/config.h"
#include "core/outbound.h"

struct webhook_sender {
	const struct sd_config *cfg;
	volatile sig_atomic_t *stop; /* shared with the workers */
	struct sd_allow allow;
	pthread_mutex_t mu; /* guards the waits on cv and wakes */
	pthread_cond_t cv;  /* woken to stop, or the helpers to work */
	unsigned wakes;     /* how often the watcher has woken the helpers */
	int sending;        /* threads inside a ping */
	int threads;        /* started */
	pthread_t tid[SD_WEBHOOK_SENDERS_MAX];
};

/* Start the threads: the first looks at the outbox every second and
 * wakes the others when it finds a ping to send. Returns 0,
 * or -1 (the allow-list is garbage, or not every thread started: those
 * that did are stopped again). */
int webhook_sender_start(struct webhook_sender *s, const struct sd_config *cfg,
                         volatile sig_atomic_t *stop);

/* Set *stop and wake the threads; a request in flight is abandoned (its
 * claim expires and the ping is sent again later). */
void webhook_sender_stop(struct webhook_sender *s);

/* Wait for the threads to finish (after webhook_sender_stop). */
void webhook_sender_join(struct webhook_sender *s);

/* --send-webhooks: send every ping due now in this process, without a
 * thread (a CGI install runs no sender; cron runs this). 0, or -1 when the
 * store or libcurl failed. */
int webhook_send_due(const struct sd_config *cfg);

#endif
