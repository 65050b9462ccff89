/* fetch and watch: reading the inbox. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/api.h"
#include "client/commands.h"
#include "client/events.h"
#include "client/ids.h"
#include "client/jsonv.h"
#include "client/message.h"
#include "client/session.h"

#define WATCH_INTERVAL_DEFAULT 15
#define WATCH_INTERVAL_MAX     86400
#define WATCH_EVENTS_RETRY     300 /* seconds of polling after events were unavailable */
#define WATCH_EVENTS_GAP_MS    200 /* at least this between reads an event starts */
#define WATCH_POLL_PAGES       5   /* newest-first pages a poll reads before a full round */
#define WATCH_LAST_ACK_TIMEOUT 10  /* seconds for the ack of what was shown, after a signal */
/* Pages of one full round at most: 100,000 messages, ten times the
 * server's default inbox cap. A server that pages on and on is refused. */
#define READ_PAGES_MAX         1000

struct reader {
	struct session s;
	struct message_out out;
	int include_seen;
	int ack;           /* acknowledge what was shown */
	struct ids shown;  /* watch: every id printed so far, sorted */
	struct ids to_ack; /* ids shown (and opened) since the last ack */
	int dedupe;        /* watch: print each id once */
	int bad_id_told;   /* watch: a message without a valid id was reported */
};

/* Show one message of a page unless watch has shown it already. */
static int reader_message_take(struct reader *rd, json_object *m)
{
	int64_t id = 0;
	int fresh;

	if (rd->dedupe) {
		/* Without an id it could not be shown once only: it would come
		 * back every round. Told once, never shown. */
		if (jsonv_int_get(m, "id", 1, INT64_MAX, &id) != 0) {
			if (!rd->bad_id_told)
				cli_err("warning: the server sent a message without a valid id; "
				        "not shown");
			rd->bad_id_told = 1;
			return CLI_OK;
		}
		if ((fresh = ids_insert_unique(&rd->shown, id)) <= 0)
			return fresh < 0 ? CLI_EINTERNAL : CLI_OK;
	}
	if (message_show(&rd->out, &rd->s, m, &id) == 1 && rd->ack &&
	    ids_push(&rd->to_ack, id) != 0)
		return CLI_EINTERNAL;
	return CLI_OK;
}

/* --ack: mark what was shown read. Kept on failure: watch tries again on
 * its next round. */
static int reader_shown_ack(struct reader *rd)
{
	int64_t count = 0;
	int rc;

	if (!rd->ack || rd->to_ack.n == 0)
		return CLI_OK;
	if ((rc = api_messages_ack(&rd->s, rd->to_ack.v, rd->to_ack.n, 0, &count)) == CLI_OK)
		rd->to_ack.n = 0;
	return rc;
}

/* Every page of unread (or all) messages, oldest first, then the ack of
 * what was shown when asked for. */
static int reader_pages_read(struct reader *rd)
{
	struct http_reply r = {0, NULL, 0};
	json_object *data;
	int64_t since = 0, next;
	int rc;

	for (int page = 0;; page++) {
		if (page == READ_PAGES_MAX) {
			cli_err("fetch: the server still has more after %d pages; stopped",
			        READ_PAGES_MAX);
			return CLI_ESERVER;
		}
		if ((rc = api_messages_fetch(&rd->s, rd->include_seen, 0, since, &r, &data,
		                             &next)) != CLI_OK)
			return rc;
		for (size_t i = 0; i < json_object_array_length(data) && rc == CLI_OK; i++)
			rc = reader_message_take(rd, json_object_array_get_idx(data, i));
		http_reply_free(&r);
		if (rc != CLI_OK)
			return rc;
		if (next == 0)
			break;
		since = next;
	}
	return reader_shown_ack(rd);
}

static int reader_id_cmp(const void *a, const void *b)
{
	int64_t x = 0, y = 0;

	(void)jsonv_int_get(*(json_object *const *)a, "id", 1, INT64_MAX, &x);
	(void)jsonv_int_get(*(json_object *const *)b, "id", 1, INT64_MAX, &y);
	return (x > y) - (x < y);
}

/* watch after its first round: only what is new. Unread pages newest
 * first, until a page holds a message already shown; the new ones are
 * shown oldest first. A message whose id committed late, below newer ones
 * (MySQL/MariaDB), still lies in that page and is caught. More new ones
 * than WATCH_POLL_PAGES pages: one full round instead, so none is missed.
 * A poll of a quiet inbox is one request, however many messages it holds
 * unread. */
static int reader_new_read(struct reader *rd)
{
	struct http_reply r = {0, NULL, 0};
	json_object *data, *fresh = json_object_new_array();
	int64_t before = 0, next, id;
	int rc = CLI_OK, known = 0;

	for (int page = 0; page < WATCH_POLL_PAGES && !known; page++) {
		if ((rc = api_messages_fetch(&rd->s, 0, 1, before, &r, &data, &next)) != CLI_OK)
			goto out;
		for (size_t i = 0; i < json_object_array_length(data); i++) {
			json_object *m = json_object_array_get_idx(data, i);

			if (jsonv_int_get(m, "id", 1, INT64_MAX, &id) == 0 &&
			    ids_contains(&rd->shown, id))
				known = 1;
			else
				json_object_array_add(fresh, json_object_get(m));
		}
		http_reply_free(&r);
		if (next == 0)
			known = 1; /* the end of the list: nothing older is new */
		before = next;
	}
	if (!known) {
		rc = reader_pages_read(rd);
		goto out;
	}
	json_object_array_sort(fresh, reader_id_cmp);
	for (size_t i = 0; i < json_object_array_length(fresh) && rc == CLI_OK; i++)
		rc = reader_message_take(rd, json_object_array_get_idx(fresh, i));
	if (rc == CLI_OK)
		rc = reader_shown_ack(rd);
out:
	json_object_put(fresh);
	return rc;
}

static void reader_close(struct reader *rd)
{
	ids_free(&rd->shown);
	ids_free(&rd->to_ack);
	session_close(&rd->s);
}

/* The options fetch and watch share; interval is NULL for fetch. */
static int reader_args_parse(struct reader *rd, int argc, char **argv, long *interval)
{
	memset(rd, 0, sizeof *rd);
	rd->out.format = MESSAGE_TEXT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			rd->out.format = interval ? MESSAGE_JSON_LINES : MESSAGE_JSON_ARRAY;
		} else if (strcmp(argv[i], "--ack") == 0) {
			rd->ack = 1;
		} else if (interval == NULL && strcmp(argv[i], "--all") == 0) {
			rd->include_seen = 1;
		} else if (interval != NULL && strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			char *end;

			*interval = strtol(argv[++i], &end, 10);
			if (*end != '\0' || *interval < 1 || *interval > WATCH_INTERVAL_MAX) {
				cli_err("--interval wants 1..%d seconds", WATCH_INTERVAL_MAX);
				return CLI_EUSAGE;
			}
		} else {
			return cli_usage_err(argv[0]);
		}
	}
	return CLI_OK;
}

int cmd_fetch(const struct cli_opts *o, int argc, char **argv)
{
	struct reader rd;
	enum message_format format;
	int rc;

	if ((rc = reader_args_parse(&rd, argc, argv, NULL)) != CLI_OK)
		return rc;
	if ((rc = session_open(o, &rd.s)) != CLI_OK)
		return rc;
	format = rd.out.format;
	message_out_begin(&rd.out, format);
	rc = reader_pages_read(&rd);
	message_out_end(&rd.out);
	if (rc == CLI_OK && rd.out.failed > 0) {
		cli_err("%d message(s) could not be decrypted", rd.out.failed);
		rc = CLI_EDATA;
	}
	reader_close(&rd);
	return rc;
}

static volatile sig_atomic_t watch_running = 1;

static void watch_stop(int sig)
{
	(void)sig;
	watch_running = 0;
	http_cancel(); /* a request in flight ends now, not at its time-out */
}

/* Worth trying again later: no answer, a busy or failing server, a rate
 * limit. Anything else (401, 404: the inbox is gone) ends watch. */
static int watch_transient(int rc)
{
	long st = api_last_status();

	return rc == CLI_ENETWORK || (rc == CLI_ESERVER && (st == 0 || st == 429 || st >= 500));
}

/* Live events (client/events.c), while the server offers them. */
struct watch_live {
	struct events_cursor cursor;
	time_t off_until; /* after "unavailable": poll only until then */
};

/* Between two reads: until the next live event, or the interval when the
 * server has none (then events are tried again after a while, in case it
 * was only restarting). */
static void watch_pause(const struct session *s, struct watch_live *live, long interval)
{
	time_t now = time(NULL);

	if (now >= live->off_until) {
		switch (events_wait(s, &live->cursor, interval)) {
		case EVENTS_ARRIVED: {
			/* A burst is read at once, and a server that answers every
			 * wait at once cannot make watch read in a tight loop. */
			struct timespec gap = {0, WATCH_EVENTS_GAP_MS * 1000L * 1000};

			nanosleep(&gap, NULL);
			return;
		}
		case EVENTS_QUIET:
		case EVENTS_INTERRUPTED:
			return;
		case EVENTS_BUSY:
			break;
		case EVENTS_UNAVAILABLE:
			live->off_until = now + WATCH_EVENTS_RETRY;
			memset(&live->cursor, 0, sizeof live->cursor);
			break;
		}
	}
	(void)http_wait(interval);
}

int cmd_watch(const struct cli_opts *o, int argc, char **argv)
{
	struct sigaction sa;
	struct reader rd;
	struct watch_live live = {0};
	enum message_format format;
	long interval = WATCH_INTERVAL_DEFAULT;
	int rc, first = 1;

	if ((rc = reader_args_parse(&rd, argc, argv, &interval)) != CLI_OK)
		return rc;
	if ((rc = session_open(o, &rd.s)) != CLI_OK)
		return rc;
	/* Each id is shown once. Polls read the unread list newest first
	 * down to what was shown (reader_new_read), not ids above the last
	 * one seen: on MySQL/MariaDB ids can commit out of order, and such a
	 * message would then be skipped for good. */
	rd.dedupe = 1;
	format = rd.out.format;
	message_out_begin(&rd.out, format);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (watch_running) {
		/* One full round, then only what is new. */
		rc = first ? reader_pages_read(&rd) : reader_new_read(&rd);
		if (rc == CLI_OK)
			first = 0;
		if (rc != CLI_OK && !watch_transient(rc))
			break;
		if (watch_running)
			watch_pause(&rd.s, &live, interval);
	}
	if (!watch_running) {
		/* Shown but not marked read yet (the signal cut that request
		 * short): one short try, which another signal ends too. */
		if (rd.ack && rd.to_ack.n > 0) {
			http_cancel_reset(WATCH_LAST_ACK_TIMEOUT);
			(void)reader_shown_ack(&rd);
		}
		rc = CLI_OK;
	}
	message_out_end(&rd.out);
	reader_close(&rd);
	return rc;
}
