/* The webhook sender: one thread per process that claims due pings from
 * the outbox (store/webhooks.c) and POSTs them, content-free, with libcurl,
 * to addresses the outbound rules allow (core/outbound.h). */
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
	pthread_mutex_t mu; /* guards kicked and the wait on cv */
	pthread_cond_t cv;
	int kicked; /* a message was stored since the last look */
	pthread_t tid;
};

/* Start the thread, and have every stored message wake it. Call before the
 * workers start (the stored-message listener is registered here). Returns
 * 0, or -1 (the allow-list is garbage, or no thread). */
int webhook_sender_start(struct webhook_sender *s, const struct sd_config *cfg,
                         volatile sig_atomic_t *stop);

/* Set *stop and wake the thread; a request in flight is abandoned (its
 * claim expires and the ping is sent again later). */
void webhook_sender_stop(struct webhook_sender *s);

/* Wait for the thread to finish (after webhook_sender_stop). */
void webhook_sender_join(struct webhook_sender *s);

/* --send-webhooks: send every ping due now in this process, without a
 * thread (a CGI install runs no sender; cron runs this). 0, or -1 when the
 * store or libcurl failed. */
int webhook_send_due(const struct sd_config *cfg);

#endif
