#include "core/events.h"

#include <stddef.h>

static struct {
	sd_stored_fn fn;
	void *arg;
} listeners[SD_EVENTS_MAX];
static int n_listeners;

int sd_events_on_stored(sd_stored_fn fn, void *arg)
{
	if (n_listeners == SD_EVENTS_MAX)
		return -1;
	listeners[n_listeners].fn = fn;
	listeners[n_listeners].arg = arg;
	n_listeners++;
	return 0;
}

int sd_events_listening(void)
{
	return n_listeners > 0;
}

void sd_events_stored(const char *link_token, int64_t msg_id)
{
	for (int i = 0; i < n_listeners; i++)
		listeners[i].fn(listeners[i].arg, link_token, msg_id);
}
