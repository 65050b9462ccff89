/* The storage contract: every backend must pass these. Runs against a fresh
 * SQLite file, and against MariaDB/MySQL when SEALDROP_TEST_MYSQL_DSN names
 * one (scripts/check starts a private MariaDB for that). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/b64.h"
#include "core/crypto.h"
#include "store/driver.h"
#include "store/store.h"

struct fixture {
	char dsn[512];
	struct sd_config cfg;
	struct sd_store *st;
};

static char sqlite_dir[] = "/tmp/sd-unit-store-XXXXXX";
static const time_t NOW = 1700000000;

static int open_fixture(void **state, const char *dsn)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->dsn, sizeof f->dsn, "%s", dsn);
	f->cfg.sqlite_sync_full = 1;
	f->cfg.limits.inbox_max_messages = 3;
	f->cfg.limits.inbox_max_bytes = 1000;
	f->cfg.limits.challenges_per_caller = 2;
	f->cfg.limits.challenge_ttl = 300;
	f->cfg.limits.requests_per_inbox = 3;
	f->cfg.limits.requests_per_caller = 4;
	f->cfg.limits.status_interval = 10;
	f->cfg.limits.receipt_days = 30;
	f->cfg.limits.replies_per_receipt = 3;
	f->cfg.limits.replies_per_inbox = 5;
	if (store_open(dsn, &f->cfg, &f->st, err, sizeof err) != SD_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		free(f);
		return -1;
	}
	if (store_migrate(f->st) != SD_OK || store_migrate(f->st) != SD_OK) {
		store_close(f->st);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_sqlite(void **state)
{
	char dsn[256];

	if (mkdtemp(sqlite_dir) == NULL || sd_crypto_init() != 0)
		return -1;
	snprintf(dsn, sizeof dsn, "sqlite:%s/contract.db", sqlite_dir);
	return open_fixture(state, dsn);
}

static int setup_mysql(void **state)
{
	if (sd_crypto_init() != 0)
		return -1;
	return open_fixture(state, getenv("SEALDROP_TEST_MYSQL_DSN"));
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	store_close(f->st);
	free(f);
	return 0;
}

/* store_msg_insert of a message without an idempotency key. */
static enum sd_err msg_put(struct sd_store *st, const char *link, const char *ct, const char *meta,
                           int64_t size, const struct sd_limits *lim, time_t now, int64_t *id)
{
	struct sd_msg_new m = {ct, meta, size, NULL, NULL, 0};

	return store_msg_insert(st, link, &m, lim, now, id, NULL);
}

/* A fresh inbox with a random link token. */
static void new_client(struct fixture *f, struct sd_client *c)
{
	char fetch[SD_FETCH_TOKEN_LEN + 1];

	memset(c, 0, sizeof *c);
	sd_token_link(c->link_token);
	sd_token_fetch(fetch);
	sd_sha256_hex(fetch, strlen(fetch), c->fetch_token_hash);
	strcpy(c->public_key, "Aj1c04h3y58Dmkx5SLSkoN7HmGXHY5d9Qmon3nc2+u8=");
	strcpy(c->public_key_hash, "00");
	strcpy(c->key_type, "ed25519");
	c->created_at = NOW;
	assert_int_equal(store_client_insert(f->st, c), SD_OK);
	assert_true(c->id > 0);
}

static int64_t send_msg(struct fixture *f, const char *link, const char *ct, enum sd_err want)
{
	int64_t id = 0;

	assert_int_equal(
	    msg_put(f->st, link, ct, NULL, (int64_t)strlen(ct), &f->cfg.limits, NOW, &id), want);
	return id;
}

struct collected {
	int64_t ids[16];
	int seen[16];
	int n;
};

static int collect(void *ctx, const struct sd_msg *m)
{
	struct collected *c = ctx;

	if (c->n < 16) {
		c->ids[c->n] = m->id;
		c->seen[c->n] = m->seen;
		c->n++;
	}
	return 0;
}

static void list(struct fixture *f, const char *link, int include_seen, int asc, int64_t before,
                 int64_t since, int64_t limit, struct collected *out)
{
	struct sd_msg_query q = {include_seen, asc, before, since, limit};

	memset(out, 0, sizeof *out);
	assert_int_equal(store_msg_list(f->st, link, &q, collect, out), SD_OK);
}

static void client_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, got;

	new_client(f, &c);
	strcpy(c.display_name, "ignored");
	assert_int_equal(store_client_get(f->st, c.link_token, &got), SD_OK);
	assert_string_equal(got.link_token, c.link_token);
	assert_string_equal(got.public_key, c.public_key);
	assert_string_equal(got.fetch_token_hash, c.fetch_token_hash);
	assert_false(got.has_display_name);
	assert_int_equal(got.created_at, NOW);
	assert_int_equal(store_client_get(f->st, "link_doesnotexist", &got), SD_ENOTFOUND);
}

static void duplicate_link_is_conflict(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;

	new_client(f, &c);
	assert_int_equal(store_client_insert(f->st, &c), SD_ECONFLICT);
}

static void display_name_and_box_key_kept(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, got;
	char fetch[SD_FETCH_TOKEN_LEN + 1];

	memset(&c, 0, sizeof c);
	sd_token_link(c.link_token);
	sd_token_fetch(fetch);
	sd_sha256_hex(fetch, strlen(fetch), c.fetch_token_hash);
	strcpy(c.public_key, "pk");
	strcpy(c.public_key_hash, "h");
	strcpy(c.display_name, "Zoë \xe2\x9c\x93");
	c.has_display_name = 1;
	strcpy(c.key_type, "ed25519");
	strcpy(c.box_public_key, "/V2RBXUJYPGylaoJ9xLFtkjkd2L2nrJYnuUdAb8MxRc=");
	c.created_at = NOW;
	assert_int_equal(store_client_insert(f->st, &c), SD_OK);
	assert_int_equal(store_client_get(f->st, c.link_token, &got), SD_OK);
	assert_true(got.has_display_name);
	assert_string_equal(got.display_name, "Zoë \xe2\x9c\x93");
	assert_string_equal(got.box_public_key, c.box_public_key);
}

static void messages_list_in_order_with_bounds(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct collected got;
	int64_t a, b, d;

	new_client(f, &c);
	a = send_msg(f, c.link_token, "AAAA", SD_OK);
	b = send_msg(f, c.link_token, "BBBB", SD_OK);
	d = send_msg(f, c.link_token, "CCCC", SD_OK);
	assert_true(a < b && b < d);
	list(f, c.link_token, 0, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.ids[0], d);
	assert_int_equal(got.ids[2], a);
	list(f, c.link_token, 0, 1, INT64_MAX, 0, 2, &got);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], a);
	list(f, c.link_token, 0, 0, d, 0, 10, &got);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], b);
	list(f, c.link_token, 0, 1, INT64_MAX, a, 10, &got);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], b);
}

static void inbox_caps_are_enforced(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, c2;
	char big[1001];
	int64_t ids[1], count = 0;

	new_client(f, &c);
	send_msg(f, c.link_token, "1111", SD_OK);
	send_msg(f, c.link_token, "2222", SD_OK);
	ids[0] = send_msg(f, c.link_token, "3333", SD_OK);
	send_msg(f, c.link_token, "4444", SD_EFULL); /* 3 messages at most */
	assert_int_equal(store_msg_ack(f->st, c.link_token, ids, 1, 1, &count), SD_OK);
	assert_int_equal(count, 1);
	send_msg(f, c.link_token, "5555", SD_OK); /* deleting freed a place */
	new_client(f, &c2);
	memset(big, 'x', 1000);
	big[1000] = '\0';
	send_msg(f, c2.link_token, big, SD_OK); /* exactly the byte cap */
	send_msg(f, c2.link_token, "x", SD_EFULL);
	send_msg(f, "link_nosuchinbox", "xxxx", SD_ENOTFOUND);
}

static void ack_touches_only_own_inbox(void **state)
{
	struct fixture *f = *state;
	struct sd_client mine, theirs;
	struct collected got;
	int64_t ids[3], count = 0;

	new_client(f, &mine);
	new_client(f, &theirs);
	ids[0] = send_msg(f, mine.link_token, "mine", SD_OK);
	ids[1] = send_msg(f, theirs.link_token, "their", SD_OK);
	ids[2] = 999999999;
	assert_int_equal(store_msg_ack(f->st, mine.link_token, ids, 3, 0, &count), SD_OK);
	assert_int_equal(count, 1);
	list(f, theirs.link_token, 0, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 1); /* still unseen */
	list(f, mine.link_token, 0, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 0);
	list(f, mine.link_token, 1, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 1);
	assert_true(got.seen[0]);
	/* Acking again still counts it: it belongs to this inbox. */
	assert_int_equal(store_msg_ack(f->st, mine.link_token, ids, 1, 0, &count), SD_OK);
	assert_int_equal(count, 1);
	assert_int_equal(store_msg_ack(f->st, mine.link_token, ids + 1, 1, 1, &count), SD_OK);
	assert_int_equal(count, 0);
	list(f, theirs.link_token, 1, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 1); /* not deleted by a stranger */
}

static void challenge_limit_per_caller(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	const struct sd_limits *l = &f->cfg.limits;

	new_client(f, &c);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "c1", NULL, "1.1.1.1", NOW, l),
	                 SD_OK);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "c2", NULL, "1.1.1.1", NOW, l),
	                 SD_OK);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "c3", NULL, "1.1.1.1", NOW, l),
	                 SD_ELIMIT);
	/* Another address is not locked out by the first one's flood. */
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "c4", NULL, "2.2.2.2", NOW, l),
	                 SD_OK);
	/* Once the first ones expire, the caller may ask again. */
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "c5", NULL, "1.1.1.1",
	                                        NOW + l->challenge_ttl, l),
	                 SD_OK);
}

static void challenge_consumed_once(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, other;
	const struct sd_limits *l = &f->cfg.limits;

	new_client(f, &c);
	new_client(f, &other);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "once", NULL, "a", NOW, l),
	                 SD_OK);
	assert_int_equal(store_challenge_consume(f->st, other.link_token, "once", NULL, NOW),
	                 SD_ENOTFOUND);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "once", NULL, NOW), SD_OK);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "once", NULL, NOW),
	                 SD_ENOTFOUND);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "late", NULL, "a", NOW, l),
	                 SD_OK);
	assert_int_equal(
	    store_challenge_consume(f->st, c.link_token, "late", NULL, NOW + l->challenge_ttl),
	    SD_ENOTFOUND);
}

struct racer {
	const char *dsn;
	const struct sd_config *cfg;
	const char *link;
	int won;
	pthread_barrier_t *go;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct sd_store *st = NULL;
	char err[256];

	if (store_open(r->dsn, r->cfg, &st, err, sizeof err) != SD_OK)
		return NULL;
	pthread_barrier_wait(r->go);
	r->won = store_challenge_consume(st, r->link, "contended", NULL, NOW) == SD_OK;
	store_close(st);
	return NULL;
}

static void concurrent_consumers_one_wins(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct racer r[8];
	pthread_t t[8];
	pthread_barrier_t go;
	int winners = 0;

	new_client(f, &c);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "contended", NULL, "a", NOW,
	                                        &f->cfg.limits),
	                 SD_OK);
	pthread_barrier_init(&go, NULL, 8);
	for (int i = 0; i < 8; i++) {
		r[i] = (struct racer){f->dsn, &f->cfg, c.link_token, 0, &go};
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		winners += r[i].won;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(winners, 1);
}

struct sender {
	const char *dsn;
	const struct sd_config *cfg;
	const char *link;
	pthread_barrier_t *go;
	int stored;
};

static void *send_until_gone(void *arg)
{
	struct sender *s = arg;
	struct sd_limits lim = s->cfg->limits;
	struct sd_store *st = NULL;
	char err[256];
	int64_t id;

	lim.inbox_max_messages = 1000000;
	lim.inbox_max_bytes = 1 << 30;
	if (store_open(s->dsn, s->cfg, &st, err, sizeof err) != SD_OK)
		return NULL;
	pthread_barrier_wait(s->go);
	for (int i = 0; i < 400; i++) {
		enum sd_err e = msg_put(st, s->link, "QUJD", NULL, 3, &lim, NOW, &id);

		if (e == SD_ENOTFOUND)
			break;
		s->stored += e == SD_OK;
	}
	store_close(st);
	return NULL;
}

/* Erasing an inbox while senders write to it leaves no message behind: a
 * send either lands before the erase (and is erased with it) or finds no
 * inbox. */
static void unregister_racing_sends_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct sender s[4];
	struct collected left;
	pthread_t t[4];
	pthread_barrier_t go;

	for (int round = 0; round < 5; round++) {
		new_client(f, &c);
		pthread_barrier_init(&go, NULL, 5);
		for (int i = 0; i < 4; i++) {
			s[i] = (struct sender){f->dsn, &f->cfg, c.link_token, &go, 0};
			assert_int_equal(pthread_create(&t[i], NULL, send_until_gone, &s[i]), 0);
		}
		pthread_barrier_wait(&go);
		usleep(2000 * (useconds_t)round);
		assert_int_equal(store_client_delete(f->st, c.link_token), SD_OK);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		list(f, c.link_token, 1, 0, INT64_MAX, 0, 10, &left);
		assert_int_equal(left.n, 0);
	}
}

static void rotate_and_delete_client(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, got;
	struct collected msgs;

	new_client(f, &c);
	send_msg(f, c.link_token, "msg1", SD_OK);
	assert_int_equal(store_client_set_fetch_hash(f->st, c.link_token, "newhash"), SD_OK);
	assert_int_equal(store_client_get(f->st, c.link_token, &got), SD_OK);
	assert_string_equal(got.fetch_token_hash, "newhash");
	assert_int_equal(store_client_delete(f->st, c.link_token), SD_OK);
	assert_int_equal(store_client_get(f->st, c.link_token, &got), SD_ENOTFOUND);
	list(f, c.link_token, 1, 0, INT64_MAX, 0, 10, &msgs);
	assert_int_equal(msgs.n, 0);
	assert_int_equal(store_client_delete(f->st, c.link_token), SD_ENOTFOUND);
	assert_int_equal(store_client_set_fetch_hash(f->st, c.link_token, "x"), SD_ENOTFOUND);
}

static void purge_drops_old_messages_and_frees_caps(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct collected got;
	int64_t id = 0, purged = -1;

	new_client(f, &c);
	assert_int_equal(
	    msg_put(f->st, c.link_token, "old1", NULL, 4, &f->cfg.limits, NOW - 100, &id), SD_OK);
	send_msg(f, c.link_token, "new1", SD_OK);
	send_msg(f, c.link_token, "new2", SD_OK);
	assert_int_equal(store_purge(f->st, NOW, NOW - 50, &purged), SD_OK);
	assert_true(purged >= 1);
	list(f, c.link_token, 1, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 2);
	send_msg(f, c.link_token, "new3", SD_OK); /* the purged one freed its place */
}

static void purge_works_in_small_batches(void **state)
{
	struct fixture *f = *state;
	struct sd_limits big = f->cfg.limits;
	struct sd_client c;
	int64_t id, purged = 0, total = 0;
	int calls = 0;

	big.inbox_max_messages = 100000;
	big.inbox_max_bytes = 1 << 30;
	new_client(f, &c);
	for (int i = 0; i < SD_PURGE_BATCH * 2 + 20; i++)
		assert_int_equal(
		    msg_put(f->st, c.link_token, "oldmsg", NULL, 6, &big, NOW - 1000, &id), SD_OK);
	do {
		assert_int_equal(store_purge(f->st, NOW, NOW - 10, &purged), SD_OK);
		assert_true(purged <= SD_PURGE_BATCH);
		total += purged;
		calls++;
	} while (purged == SD_PURGE_BATCH);
	assert_int_equal(calls, 3);
	assert_true(total >= SD_PURGE_BATCH * 2 + 20);
}

/* ---- exact accounting --------------------------------------------------- */

struct tally {
	int64_t n, bytes;
};

static int tally_row(void *ctx, const struct sd_msg *m)
{
	struct tally *t = ctx;

	t->n++;
	t->bytes += (int64_t)(m->encrypted_len + (m->metadata ? m->metadata_len : 0));
	return 0;
}

/* The inbox's counters equal what its rows hold, in bytes. */
static void assert_counters_match_rows(struct fixture *f, const char *link)
{
	struct sd_msg_query q = {1, 1, INT64_MAX, 0, 1000000};
	struct tally t = {0, 0};
	int64_t n = -1, bytes = -1;

	assert_int_equal(store_msg_list(f->st, link, &q, tally_row, &t), SD_OK);
	assert_int_equal(store_client_usage(f->st, link, &n, &bytes), SD_OK);
	assert_int_equal(n, t.n);
	assert_int_equal(bytes, t.bytes);
}

/* Non-ASCII metadata is charged in bytes and given back in bytes: a
 * thousand send/delete cycles leave an empty inbox at zero. */
static void delete_gives_back_exactly_what_send_charged(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	const char *meta = "{\"n\":\"Zo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x94\x92\"}";
	struct sd_client c;
	int64_t id, count, n = -1, bytes = -1;

	lim.inbox_max_bytes = 200;
	new_client(f, &c);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(msg_put(f->st, c.link_token, "QUJD", meta, 3, &lim, NOW, &id),
		                 SD_OK);
		assert_int_equal(store_client_usage(f->st, c.link_token, &n, &bytes), SD_OK);
		assert_int_equal(n, 1);
		assert_int_equal(bytes, (int64_t)(4 + strlen(meta)));
		assert_int_equal(store_msg_ack(f->st, c.link_token, &id, 1, 1, &count), SD_OK);
		assert_int_equal(count, 1);
	}
	assert_int_equal(store_client_usage(f->st, c.link_token, &n, &bytes), SD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(store_client_usage(f->st, "link_nosuchinbox", &n, &bytes), SD_ENOTFOUND);
}

/* A recount leaves counters that already match the rows as they are. */
static void recount_matches_rows(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	int64_t id, n, bytes;

	new_client(f, &c);
	assert_int_equal(
	    msg_put(f->st, c.link_token, "QUJD", "[\"\xc3\xa9\"]", 3, &f->cfg.limits, NOW, &id),
	    SD_OK);
	assert_int_equal(store_recount(f->st), SD_OK);
	assert_int_equal(store_client_usage(f->st, c.link_token, &n, &bytes), SD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(bytes, 4 + 6);
	assert_counters_match_rows(f, c.link_token);
}

/* A random mix of sends, marks, deletes, purges and refusals: after each
 * step the counters equal the rows. */
static void counters_equal_rows_after_every_operation(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_client c;
	int64_t ids[64], nids = 0, id, count, purged;
	static const char *const metas[] = {NULL, "[1,2,3]", "\"\xc3\xa9t\xc3\xa9\"",
	                                    "{\"k\":\"\xe6\x97\xa5\xe6\x9c\xac\"}"};
	unsigned seed = 12345;

	lim.inbox_max_messages = 20;
	lim.inbox_max_bytes = 400;
	new_client(f, &c);
	for (int step = 0; step < 300; step++) {
		unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
		enum sd_err e;

		switch (r % 5) {
		case 0:
		case 1:
			e = msg_put(f->st, c.link_token, (r & 32) ? "QUJDRA==" : "QUJD",
			            metas[(r >> 3) % 4], 3, &lim, (r & 64) ? NOW - 500 : NOW, &id);
			assert_true(e == SD_OK || e == SD_EFULL);
			if (e == SD_OK && nids < 64)
				ids[nids++] = id;
			break;
		case 2:
			if (nids > 0) {
				id = ids[(r >> 4) % (uint64_t)nids];
				assert_int_equal(
				    store_msg_ack(f->st, c.link_token, &id, 1, 0, &count), SD_OK);
			}
			break;
		case 3:
			if (nids > 0) {
				int64_t k = (int64_t)((r >> 4) % (uint64_t)nids);

				id = ids[k];
				ids[k] = ids[--nids];
				assert_int_equal(
				    store_msg_ack(f->st, c.link_token, &id, 1, 1, &count), SD_OK);
			}
			break;
		default:
			assert_int_equal(store_purge(f->st, NOW, NOW - 100, &purged), SD_OK);
			break;
		}
		assert_counters_match_rows(f, c.link_token);
	}
}

/* ---- message requests ---------------------------------------------------- */

struct reqs {
	int64_t ids[8];
	int verified[8];
	char from[8][SD_LINK_TOKEN_MAX + 1];
	int n;
};

static int req_collect(void *ctx, const struct sd_msgreq *r)
{
	struct reqs *q = ctx;

	if (q->n < 8) {
		q->ids[q->n] = r->id;
		q->verified[q->n] = r->verified;
		snprintf(q->from[q->n], sizeof q->from[0], "%s", r->from_link_token);
		q->n++;
	}
	return 0;
}

static void requests_open_answer_and_allow(void **state)
{
	struct fixture *f = *state;
	const struct sd_limits *l = &f->cfg.limits;
	struct sd_client alice, bob, carol;
	struct reqs got = {0};
	enum sd_req_status st, was;
	int64_t id, id2;
	int created;

	new_client(f, &alice);
	new_client(f, &bob);
	new_client(f, &carol);
	assert_int_equal(store_msgreq_allowed(f->st, bob.link_token, alice.link_token),
	                 SD_ENOTFOUND);
	assert_int_equal(store_msgreq_open(f->st, bob.link_token, alice.link_token, "Bob", 1,
	                                   "9.9.9.1", NOW, l, &id, &st, &created),
	                 SD_OK);
	assert_true(created && id > 0 && st == SD_REQ_PENDING);
	/* Asking again returns the same pending request. */
	assert_int_equal(store_msgreq_open(f->st, bob.link_token, alice.link_token, "Bob", 0,
	                                   "9.9.9.1", NOW, l, &id2, &st, &created),
	                 SD_OK);
	assert_true(!created && id2 == id && st == SD_REQ_PENDING);
	assert_int_equal(store_msgreq_list(f->st, alice.link_token, 100, req_collect, &got), SD_OK);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.ids[0], id);
	assert_true(got.verified[0]);
	assert_string_equal(got.from[0], bob.link_token);
	/* Only alice may answer, once. */
	assert_int_equal(store_msgreq_answer(f->st, bob.link_token, id, 1, NOW, &was),
	                 SD_EFORBIDDEN);
	assert_int_equal(store_msgreq_answer(f->st, alice.link_token, id + 100000, 1, NOW, &was),
	                 SD_ENOTFOUND);
	assert_int_equal(store_msgreq_answer(f->st, alice.link_token, id, 1, NOW, &was), SD_OK);
	assert_int_equal(store_msgreq_answer(f->st, alice.link_token, id, 0, NOW, &was),
	                 SD_ECONFLICT);
	assert_int_equal(was, SD_REQ_ACCEPTED);
	assert_int_equal(store_msgreq_allowed(f->st, bob.link_token, alice.link_token), SD_OK);
	assert_int_equal(store_msgreq_allowed(f->st, alice.link_token, bob.link_token),
	                 SD_ENOTFOUND);
	assert_int_equal(store_msgreq_open(f->st, bob.link_token, alice.link_token, "Bob", 0,
	                                   "9.9.9.1", NOW, l, &id2, &st, &created),
	                 SD_OK);
	assert_true(!created && st == SD_REQ_ACCEPTED);
	/* A rejected request stays rejected. */
	assert_int_equal(store_msgreq_open(f->st, carol.link_token, alice.link_token, "", 0,
	                                   "9.9.9.2", NOW, l, &id, &st, &created),
	                 SD_OK);
	assert_int_equal(store_msgreq_answer(f->st, alice.link_token, id, 0, NOW, &was), SD_OK);
	assert_int_equal(store_msgreq_open(f->st, carol.link_token, alice.link_token, "", 0,
	                                   "9.9.9.2", NOW, l, &id2, &st, &created),
	                 SD_OK);
	assert_true(!created && st == SD_REQ_REJECTED);
	assert_int_equal(store_msgreq_allowed(f->st, carol.link_token, alice.link_token),
	                 SD_ENOTFOUND);
	assert_int_equal(store_msgreq_open(f->st, carol.link_token, "link_nosuchinbox", "", 0,
	                                   "9.9.9.2", NOW, l, &id, &st, &created),
	                 SD_ENOTFOUND);
	/* Unregistering alice takes her requests along. */
	assert_int_equal(store_client_delete(f->st, alice.link_token), SD_OK);
	assert_int_equal(store_msgreq_allowed(f->st, bob.link_token, alice.link_token),
	                 SD_ENOTFOUND);
}

/* Someone who only claims to be bob cannot shut the real bob out: his
 * proven request takes over the claimed pending one, and a rejection of
 * a claimed request does not bind him. */
static void proven_sender_takes_over_claimed_requests(void **state)
{
	struct fixture *f = *state;
	const struct sd_limits *l = &f->cfg.limits;
	struct sd_client alice, bob, carol;
	struct reqs got = {0};
	enum sd_req_status st, was;
	int64_t claimed, id;
	int created;

	new_client(f, &alice);
	new_client(f, &bob);
	new_client(f, &carol);
	assert_int_equal(store_msgreq_open(f->st, bob.link_token, alice.link_token, "fake", 0,
	                                   "6.6.6.1", NOW, l, &claimed, &st, &created),
	                 SD_OK);
	assert_int_equal(store_msgreq_open(f->st, bob.link_token, alice.link_token, "Bob", 1,
	                                   "6.6.6.2", NOW, l, &id, &st, &created),
	                 SD_OK);
	assert_true(!created && id == claimed && st == SD_REQ_PENDING);
	assert_int_equal(store_msgreq_list(f->st, alice.link_token, 100, req_collect, &got), SD_OK);
	assert_int_equal(got.n, 1);
	assert_true(got.verified[0]);
	/* carol: the claimed request is rejected; the proven one is new. */
	assert_int_equal(store_msgreq_open(f->st, carol.link_token, alice.link_token, "fake", 0,
	                                   "6.6.6.1", NOW, l, &claimed, &st, &created),
	                 SD_OK);
	assert_int_equal(store_msgreq_answer(f->st, alice.link_token, claimed, 0, NOW, &was),
	                 SD_OK);
	assert_int_equal(store_msgreq_open(f->st, carol.link_token, alice.link_token, "Carol", 1,
	                                   "6.6.6.3", NOW, l, &id, &st, &created),
	                 SD_OK);
	assert_true(created && id != claimed && st == SD_REQ_PENDING);
	/* ... but a rejection of a proven request binds. */
	assert_int_equal(store_msgreq_answer(f->st, alice.link_token, id, 0, NOW, &was), SD_OK);
	assert_int_equal(store_msgreq_open(f->st, carol.link_token, alice.link_token, "Carol", 1,
	                                   "6.6.6.3", NOW, l, &id, &st, &created),
	                 SD_OK);
	assert_true(!created && st == SD_REQ_REJECTED);
	assert_int_equal(store_client_delete(f->st, alice.link_token), SD_OK);
}

static void requests_are_capped_per_inbox_and_caller(void **state)
{
	struct fixture *f = *state;
	const struct sd_limits *l = &f->cfg.limits; /* 3 per inbox, 4 per caller */
	struct sd_client to, to2, from[6];
	struct reqs got = {0};
	enum sd_req_status st;
	char a[SD_LINK_TOKEN_MAX + 8], b[SD_LINK_TOKEN_MAX + 8]; /* unique to this run */
	int64_t id;
	int created;

	new_client(f, &to);
	new_client(f, &to2);
	snprintf(a, sizeof a, "a-%s", to.link_token);
	snprintf(b, sizeof b, "b-%s", to.link_token);
	for (int i = 0; i < 6; i++)
		new_client(f, &from[i]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_msgreq_open(f->st, from[i].link_token, to.link_token, "x", 0,
		                                   a, NOW, l, &id, &st, &created),
		                 SD_OK);
	assert_int_equal(store_msgreq_open(f->st, from[3].link_token, to.link_token, "x", 0, b, NOW,
	                                   l, &id, &st, &created),
	                 SD_ELIMIT);
	/* The fourth request of 8.8.8.8 goes elsewhere; the fifth is refused. */
	assert_int_equal(store_msgreq_open(f->st, from[4].link_token, to2.link_token, "x", 0, a,
	                                   NOW, l, &id, &st, &created),
	                 SD_OK);
	assert_int_equal(store_msgreq_open(f->st, from[5].link_token, to2.link_token, "x", 0, a,
	                                   NOW, l, &id, &st, &created),
	                 SD_ELIMIT);
	assert_int_equal(store_msgreq_list(f->st, to.link_token, 100, req_collect, &got), SD_OK);
	assert_int_equal(got.n, 3);
}

/* A challenge issued for a purpose is consumed only for that purpose, and
 * PyCrypt's (no purpose) only as PyCrypt's. */
static void challenge_purpose_must_match(void **state)
{
	struct fixture *f = *state;
	const struct sd_limits *l = &f->cfg.limits;
	struct sd_client c;

	new_client(f, &c);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "p1", "fetch", "a", NOW, l),
	                 SD_OK);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "p1", NULL, NOW),
	                 SD_ENOTFOUND);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "p1", "unregister", NOW),
	                 SD_ENOTFOUND);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "p1", "fetch", NOW), SD_OK);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "p1", "fetch", NOW),
	                 SD_ENOTFOUND);
	assert_int_equal(store_challenge_insert(f->st, c.link_token, "p2", NULL, "a", NOW, l),
	                 SD_OK);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "p2", "fetch", NOW),
	                 SD_ENOTFOUND);
	assert_int_equal(store_challenge_consume(f->st, c.link_token, "p2", NULL, NOW), SD_OK);
}

static void capabilities_kept(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, got;

	memset(&c, 0, sizeof c);
	sd_token_link(c.link_token);
	strcpy(c.public_key, "Aj1c04h3y58Dmkx5SLSkoN7HmGXHY5d9Qmon3nc2+u8=");
	strcpy(c.public_key_hash, "00");
	strcpy(c.fetch_token_hash, "11");
	strcpy(c.key_type, "ed25519");
	c.created_at = NOW;
	c.capabilities = SD_CAP_BOUND_SIGNATURES;
	assert_int_equal(store_client_insert(f->st, &c), SD_OK);
	assert_int_equal(store_client_get(f->st, c.link_token, &got), SD_OK);
	assert_int_equal(got.capabilities, SD_CAP_BOUND_SIGNATURES);
	new_client(f, &c);
	assert_int_equal(store_client_get(f->st, c.link_token, &got), SD_OK);
	assert_int_equal(got.capabilities, 0);
}

static enum sd_err keyed_store(struct sd_store *st, const char *link, const char *key,
                               const struct sd_limits *lim, int64_t *id, int *stored)
{
	struct sd_msg_new m = {"QUJD", NULL, 3, key, NULL, 0};

	return store_msg_insert(st, link, &m, lim, NOW, id, stored);
}

static enum sd_err keyed_put(struct sd_store *st, const char *link, const char *key,
                             const struct sd_limits *lim, int64_t *id)
{
	return keyed_store(st, link, key, lim, id, NULL);
}

/* A send repeated with its idempotency key stores nothing and answers the
 * first id; the key is per inbox, and keys differing in case differ. */
static void idempotency_key_stores_once(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, d;
	int64_t a = 0, b = 0, x = 0, y = 0, n = 0, bytes = 0;
	int first = 0, again = 1;

	new_client(f, &c);
	new_client(f, &d);
	assert_int_equal(
	    keyed_store(f->st, c.link_token, "key-0123456789abc", &f->cfg.limits, &a, &first),
	    SD_OK);
	assert_int_equal(
	    keyed_store(f->st, c.link_token, "key-0123456789abc", &f->cfg.limits, &b, &again),
	    SD_OK);
	assert_int_equal(first, 1); /* only the first stored (live events, capacity) */
	assert_int_equal(again, 0);
	assert_true(a > 0);
	assert_int_equal(a, b);
	assert_int_equal(store_client_usage(f->st, c.link_token, &n, &bytes), SD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(keyed_put(f->st, c.link_token, "KEY-0123456789ABC", &f->cfg.limits, &x),
	                 SD_OK);
	assert_int_equal(keyed_put(f->st, d.link_token, "key-0123456789abc", &f->cfg.limits, &y),
	                 SD_OK);
	assert_true(x != a && y != a && x != y);
	/* The inbox is full (3 messages): a retry of a stored one still answers. */
	assert_int_equal(keyed_put(f->st, c.link_token, "third-0123456789a", &f->cfg.limits, &x),
	                 SD_OK);
	assert_int_equal(keyed_put(f->st, c.link_token, "key-0123456789abc", &f->cfg.limits, &b),
	                 SD_OK);
	assert_int_equal(a, b);
	assert_int_equal(keyed_put(f->st, c.link_token, "fourth-0123456789", &f->cfg.limits, &x),
	                 SD_EFULL);
}

/* A send spelling the link in another case reaches the inbox exactly where
 * the store says it matches links in any case (MariaDB's case-insensitive
 * collation): live-event channels are named by that promise. */
static void other_case_link_matches_only_where_the_store_folds_case(void **state)
{
	struct fixture *f = *state;
	struct sd_msg_new m = {"QUJD", NULL, 3, NULL, NULL, 0};
	char other[SD_LINK_TOKEN_MAX + 1];
	struct sd_client c;
	int64_t id = 0;
	int stored = 0;

	new_client(f, &c);
	strcpy(other, c.link_token);
	for (char *p = other + 5; *p; p++)
		*p = (char)(islower((unsigned char)*p) ? toupper((unsigned char)*p)
		                                       : tolower((unsigned char)*p));
	assert_string_not_equal(other, c.link_token);
	assert_int_equal(store_msg_insert(f->st, other, &m, &f->cfg.limits, NOW, &id, &stored),
	                 store_links_fold_case(f->st) ? SD_OK : SD_ENOTFOUND);
	assert_int_equal(stored, store_links_fold_case(f->st));
}

struct keyed_sender {
	const char *dsn;
	const struct sd_config *cfg;
	const char *link;
	pthread_barrier_t *go;
	enum sd_err rc;
	int64_t id;
	int stored;
};

static void *send_keyed(void *arg)
{
	struct keyed_sender *s = arg;
	struct sd_store *st = NULL;
	char err[256];

	s->rc = SD_EDB;
	if (store_open(s->dsn, s->cfg, &st, err, sizeof err) != SD_OK)
		return NULL;
	pthread_barrier_wait(s->go);
	s->rc = keyed_store(st, s->link, "raced-0123456789ab", &s->cfg->limits, &s->id, &s->stored);
	store_close(st);
	return NULL;
}

/* Retries racing each other: one row, and every one of them answers its id. */
static void concurrent_retries_store_once(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct keyed_sender s[6];
	pthread_t t[6];
	pthread_barrier_t go;
	int64_t n = 0, bytes = 0;

	new_client(f, &c);
	pthread_barrier_init(&go, NULL, 6);
	for (int i = 0; i < 6; i++) {
		s[i] = (struct keyed_sender){f->dsn, &f->cfg, c.link_token, &go, SD_OK, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, send_keyed, &s[i]), 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	int stored = 0;

	for (int i = 0; i < 6; i++) {
		assert_int_equal(s[i].rc, SD_OK);
		assert_true(s[i].id > 0);
		assert_int_equal(s[i].id, s[0].id);
		stored += s[i].stored;
	}
	assert_int_equal(stored, 1); /* exactly one of them says it stored */
	assert_int_equal(store_client_usage(f->st, c.link_token, &n, &bytes), SD_OK);
	assert_int_equal(n, 1);
}

/* Acknowledging "everything up to id N" touches exactly the inbox's
 * messages with ids <= N, across batches, and gives their places back. */
static void ack_upto_covers_batches(void **state)
{
	struct fixture *f = *state;
	struct sd_limits big = f->cfg.limits;
	struct sd_client c, other;
	int64_t id = 0, mid = 0, n = 0, msgs = 0, bytes = 0;
	const int total = SD_ACK_BATCH + 20;

	big.inbox_max_messages = 100000;
	big.inbox_max_bytes = INT64_C(1) << 30;
	new_client(f, &c);
	new_client(f, &other);
	assert_int_equal(msg_put(f->st, other.link_token, "QUJD", NULL, 3, &big, NOW, &id), SD_OK);
	for (int i = 0; i < total; i++) {
		assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &big, NOW, &id),
		                 SD_OK);
		if (i == total - 6)
			mid = id;
	}
	assert_int_equal(store_msg_ack_upto(f->st, c.link_token, mid, 0, &n), SD_OK);
	assert_int_equal(n, total - 5);
	assert_int_equal(store_msg_ack_upto(f->st, c.link_token, mid, 1, &n), SD_OK);
	assert_int_equal(n, total - 5);
	assert_int_equal(store_client_usage(f->st, c.link_token, &msgs, &bytes), SD_OK);
	assert_int_equal(msgs, 5);
	assert_int_equal(bytes, 5 * 4);
	assert_int_equal(store_msg_ack_upto(f->st, c.link_token, INT64_MAX - 1, 1, &n), SD_OK);
	assert_int_equal(n, 5);
	assert_int_equal(store_client_usage(f->st, other.link_token, &msgs, &bytes), SD_OK);
	assert_int_equal(msgs, 1);
}

/* The totals are the sum of what every inbox holds. */
static void totals_add_up(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	int64_t inboxes0, messages0, bytes0, inboxes, messages, bytes, id;

	assert_int_equal(store_totals(f->st, &inboxes0, &messages0, &bytes0), SD_OK);
	new_client(f, &c);
	assert_int_equal(
	    msg_put(f->st, c.link_token, "QUJDRA==", NULL, 4, &f->cfg.limits, NOW, &id), SD_OK);
	assert_int_equal(store_totals(f->st, &inboxes, &messages, &bytes), SD_OK);
	assert_int_equal(inboxes, inboxes0 + 1);
	assert_int_equal(messages, messages0 + 1);
	assert_int_equal(bytes, bytes0 + 8);
}

static void ping_answers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_ping(f->st), SD_OK);
}

/* ---- receipts ----------------------------------------------------------- */

/* A fresh receipt id: 43 characters of base64url. */
static void new_receipt_id(char out[44])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof raw);
	sd_b64url_encode(raw, sizeof raw, out);
}

static enum sd_err rcpt_put(struct fixture *f, const char *link, const char *rid, int answer,
                            int64_t *id)
{
	struct sd_msg_new m = {"QUJD", NULL, 3, NULL, rid, answer};
	struct sd_limits big = f->cfg.limits;

	big.inbox_max_messages = 1000;
	big.inbox_max_bytes = 1 << 20;
	return store_msg_insert(f->st, link, &m, &big, NOW, id, NULL);
}

struct statuses {
	int64_t ids[8];
	enum sd_rcpt_status s[8];
	int n;
};

static int status_collect(void *ctx, const struct sd_receipt_msg *m)
{
	struct statuses *o = ctx;

	if (o->n < 8) {
		o->ids[o->n] = m->id;
		o->s[o->n++] = m->status;
	}
	return 0;
}

static void statuses_of(struct fixture *f, const char *rid, struct statuses *out)
{
	struct sd_receipt r;

	memset(out, 0, sizeof *out);
	assert_int_equal(store_receipt_get(f->st, rid, &r), SD_OK);
	assert_int_equal(store_receipt_messages(f->st, r.key, 100, status_collect, out), SD_OK);
}

/* Release at *t or later: the release row is shared by every test (and
 * every earlier run on the same database), so move on until one is due.
 * Returns the status rows it changed; *t is when it ran. */
static int64_t release_due(struct fixture *f, time_t *t)
{
	int64_t n = -1;

	for (int i = 0; i < 1000 && n < 0; i++) {
		assert_int_equal(
		    store_receipts_release(f->st, *t, f->cfg.limits.status_interval, &n), SD_OK);
		if (n < 0)
			*t += f->cfg.limits.status_interval;
	}
	assert_true(n >= 0);
	return n;
}

static time_t release_clock = 2000000000;

/* A message with a receipt opens its thread; an answer joins it; statuses
 * change at once underneath but show only after a release, which runs at
 * most once per interval. */
static void receipt_statuses_are_released_late(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct sd_receipt r;
	struct statuses st;
	char rid[44];
	int64_t first = 0, second = 0, n = 0;
	time_t t = release_clock;

	new_client(f, &c);
	new_receipt_id(rid);
	assert_int_equal(rcpt_put(f, c.link_token, rid, 0, &first), SD_OK);
	assert_int_equal(rcpt_put(f, c.link_token, rid, 1, &second), SD_OK);
	assert_int_equal(store_receipt_get(f->st, rid, &r), SD_OK);
	assert_string_equal(r.link_token, c.link_token);
	assert_int_equal(r.thread_id, first);
	assert_int_equal(r.released_at, NOW);
	statuses_of(f, rid, &st);
	assert_int_equal(st.n, 2);
	assert_int_equal(st.ids[0], first);
	assert_int_equal(st.ids[1], second);

	release_due(f, &t);
	assert_int_equal(store_msg_ack(f->st, c.link_token, &first, 1, 0, &n), SD_OK);
	assert_int_equal(store_msg_ack(f->st, c.link_token, &second, 1, 1, &n), SD_OK);
	statuses_of(f, rid, &st);
	assert_int_equal(st.s[0], SD_RCPT_STORED);
	assert_int_equal(st.s[1], SD_RCPT_STORED);
	/* Not due yet: the last release was at t. */
	assert_int_equal(store_receipts_release(f->st, t, f->cfg.limits.status_interval, &n),
	                 SD_OK);
	assert_int_equal(n, -1);
	t += f->cfg.limits.status_interval;
	assert_true(release_due(f, &t) >= 2);
	statuses_of(f, rid, &st);
	assert_int_equal(st.s[0], SD_RCPT_READ);
	assert_int_equal(st.s[1], SD_RCPT_DELETED);
	assert_int_equal(store_receipt_get(f->st, rid, &r), SD_OK);
	assert_int_equal(r.released_at, t);
	/* Read, then deleted: statuses only move forward. */
	assert_int_equal(store_msg_ack(f->st, c.link_token, &first, 1, 1, &n), SD_OK);
	assert_int_equal(store_msg_ack(f->st, c.link_token, &first, 1, 0, &n), SD_OK);
	t += f->cfg.limits.status_interval;
	release_due(f, &t);
	statuses_of(f, rid, &st);
	assert_int_equal(st.s[0], SD_RCPT_DELETED);
	release_clock = t + 100 * f->cfg.limits.status_interval;
}

/* A release larger than a batch shows every pending change. */
static void release_covers_batches(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct statuses st;
	char first[44], last[44], rid[44];
	int64_t id = 0, n = 0;
	time_t t = release_clock;

	new_client(f, &c);
	for (int i = 0; i < SD_PURGE_BATCH + 20; i++) {
		new_receipt_id(rid);
		assert_int_equal(rcpt_put(f, c.link_token, rid, 0, &id), SD_OK);
		if (i == 0)
			memcpy(first, rid, sizeof first);
		memcpy(last, rid, sizeof last);
	}
	release_due(f, &t);
	assert_int_equal(store_msg_ack_upto(f->st, c.link_token, id, 0, &n), SD_OK);
	assert_int_equal(n, SD_PURGE_BATCH + 20);
	t += f->cfg.limits.status_interval;
	assert_true(release_due(f, &t) >= SD_PURGE_BATCH + 20);
	statuses_of(f, first, &st);
	assert_int_equal(st.s[0], SD_RCPT_READ);
	statuses_of(f, last, &st);
	assert_int_equal(st.s[0], SD_RCPT_READ);
	release_clock = t + 100 * f->cfg.limits.status_interval;
}

/* A receipt id is unique across the server: a second use stores nothing
 * at all, in any inbox. Answering a receipt that does not exist neither. */
static void receipt_conflicts_store_nothing(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, d;
	struct collected got;
	char rid[44], unknown[44];
	int64_t id = 0, n = 0, bytes = 0;

	new_client(f, &c);
	new_client(f, &d);
	new_receipt_id(rid);
	new_receipt_id(unknown);
	assert_int_equal(rcpt_put(f, c.link_token, rid, 0, &id), SD_OK);
	assert_int_equal(rcpt_put(f, d.link_token, rid, 0, &id), SD_ECONFLICT);
	assert_int_equal(rcpt_put(f, c.link_token, rid, 0, &id), SD_ECONFLICT);
	assert_int_equal(rcpt_put(f, c.link_token, unknown, 1, &id), SD_ENOTFOUND);
	/* An answer goes to the receipt's own inbox only. */
	assert_int_equal(rcpt_put(f, d.link_token, rid, 1, &id), SD_ENOTFOUND);
	assert_int_equal(store_client_usage(f->st, c.link_token, &n, &bytes), SD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_client_usage(f->st, d.link_token, &n, &bytes), SD_OK);
	assert_int_equal(n, 0);
	list(f, d.link_token, 1, 0, INT64_MAX, 0, 10, &got);
	assert_int_equal(got.n, 0);
	assert_int_equal(store_receipt_get(f->st, unknown, &(struct sd_receipt){0}), SD_ENOTFOUND);
}

struct thread_seen {
	int64_t thread[16], replies[16];
	int n;
};

static int thread_collect(void *ctx, const struct sd_msg *m)
{
	struct thread_seen *o = ctx;

	if (o->n < 16) {
		o->thread[o->n] = m->thread_id;
		o->replies[o->n++] = m->replies;
	}
	return 0;
}

static int reply_count(void *ctx, const struct sd_reply *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* Replies go under the message's receipt, only for a message of this
 * inbox that has one, up to the caps per receipt and per inbox. */
static void replies_are_capped_and_listed(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, d;
	struct sd_receipt r;
	struct sd_msg_query q = {1, 1, INT64_MAX, 0, 10};
	struct thread_seen ts = {0};
	char r1[44], r2[44], r3[44];
	int64_t m1 = 0, m2 = 0, m3 = 0, plain = 0, theirs = 0, id = 0;
	int listed = 0;

	new_client(f, &c);
	new_client(f, &d);
	new_receipt_id(r1);
	new_receipt_id(r2);
	new_receipt_id(r3);
	assert_int_equal(rcpt_put(f, c.link_token, r1, 0, &m1), SD_OK);
	assert_int_equal(rcpt_put(f, c.link_token, r2, 0, &m2), SD_OK);
	assert_int_equal(rcpt_put(f, c.link_token, r3, 0, &m3), SD_OK);
	assert_int_equal(rcpt_put(f, c.link_token, NULL, 0, &plain), SD_OK);
	assert_int_equal(rcpt_put(f, d.link_token, NULL, 0, &theirs), SD_OK);

	assert_int_equal(
	    store_reply_insert(f->st, c.link_token, plain, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_ECONFLICT);
	assert_int_equal(
	    store_reply_insert(f->st, c.link_token, theirs, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_ENOTFOUND);
	assert_int_equal(
	    store_reply_insert(f->st, d.link_token, m1, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_ENOTFOUND);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_reply_insert(f->st, c.link_token, m1,
		                                    "cmVwbHk=", &f->cfg.limits, NOW, &id),
		                 SD_OK);
	assert_int_equal(
	    store_reply_insert(f->st, c.link_token, m1, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_ELIMIT);
	/* The inbox's cap (5) counts every receipt. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(store_reply_insert(f->st, c.link_token, m2,
		                                    "cmVwbHk=", &f->cfg.limits, NOW, &id),
		                 SD_OK);
	assert_int_equal(
	    store_reply_insert(f->st, c.link_token, m3, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_ELIMIT);

	assert_int_equal(store_receipt_get(f->st, r1, &r), SD_OK);
	assert_int_equal(store_receipt_replies(f->st, r.key, 100, reply_count, &listed), SD_OK);
	assert_int_equal(listed, 3);
	assert_int_equal(store_msg_list(f->st, c.link_token, &q, thread_collect, &ts), SD_OK);
	assert_int_equal(ts.n, 4);
	assert_int_equal(ts.thread[0], m1);
	assert_int_equal(ts.replies[0], 3);
	assert_int_equal(ts.thread[1], m2);
	assert_int_equal(ts.replies[1], 2);
	assert_int_equal(ts.thread[2], m3);
	assert_int_equal(ts.replies[2], 0);
	assert_int_equal(ts.thread[3], 0);
}

struct replier {
	const char *dsn;
	const struct sd_config *cfg;
	const char *link;
	int64_t msg;
	pthread_barrier_t *go;
	enum sd_err rc;
};

static void *reply_racing(void *arg)
{
	struct replier *s = arg;
	struct sd_store *st;
	char err[256];
	int64_t id;

	s->rc = SD_EDB;
	if (store_open(s->dsn, s->cfg, &st, err, sizeof err) != SD_OK) {
		pthread_barrier_wait(s->go);
		return NULL;
	}
	pthread_barrier_wait(s->go);
	s->rc = store_reply_insert(st, s->link, s->msg, "cmVwbHk=", &s->cfg->limits, NOW, &id);
	store_close(st);
	return NULL;
}

/* Replies racing for the last places under one receipt: the cap holds. */
static void concurrent_replies_stop_at_the_cap(void **state)
{
	struct fixture *f = *state;
	struct sd_client c;
	struct sd_receipt r;
	struct replier s[6];
	pthread_t t[6];
	pthread_barrier_t go;
	char rid[44];
	int64_t m = 0, id = 0;
	int ok = 0, limited = 0, listed = 0;

	new_client(f, &c);
	new_receipt_id(rid);
	assert_int_equal(rcpt_put(f, c.link_token, rid, 0, &m), SD_OK);
	assert_int_equal(
	    store_reply_insert(f->st, c.link_token, m, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_OK);
	pthread_barrier_init(&go, NULL, 6);
	for (int i = 0; i < 6; i++) {
		s[i] = (struct replier){f->dsn, &f->cfg, c.link_token, m, &go, SD_EDB};
		assert_int_equal(pthread_create(&t[i], NULL, reply_racing, &s[i]), 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 6; i++) {
		ok += s[i].rc == SD_OK;
		limited += s[i].rc == SD_ELIMIT;
	}
	assert_int_equal(ok, 2);
	assert_int_equal(limited, 4);
	assert_int_equal(store_receipt_get(f->st, rid, &r), SD_OK);
	assert_int_equal(store_receipt_replies(f->st, r.key, 100, reply_count, &listed), SD_OK);
	assert_int_equal(listed, 3);
}

/* Retention: a purged message's status says expired; a receipt inactive
 * past its days goes with its statuses and replies; erasing the inbox
 * erases its receipts, whose ids are then free. */
static void receipts_expire_and_go_with_their_inbox(void **state)
{
	struct fixture *f = *state;
	struct sd_client c, d;
	struct sd_receipt r;
	struct statuses st;
	char old[44], fresh[44], gone[44];
	int64_t m = 0, id = 0, purged = 0;
	time_t t = release_clock;

	new_client(f, &c);
	new_client(f, &d);
	new_receipt_id(old);
	new_receipt_id(fresh);
	new_receipt_id(gone);
	assert_int_equal(rcpt_put(f, c.link_token, old, 0, &m), SD_OK);
	assert_int_equal(
	    store_reply_insert(f->st, c.link_token, m, "cmVwbHk=", &f->cfg.limits, NOW, &id),
	    SD_OK);
	/* The message expires by retention: its status row stays. */
	do
		assert_int_equal(store_purge(f->st, NOW, NOW + 1, &purged), SD_OK);
	while (purged == SD_PURGE_BATCH);
	release_due(f, &t);
	statuses_of(f, old, &st);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.s[0], SD_RCPT_EXPIRED);
	release_clock = t + 100 * f->cfg.limits.status_interval;

	{
		struct sd_msg_new later = {"QUJD", NULL, 3, NULL, fresh, 0};

		assert_int_equal(store_msg_insert(f->st, c.link_token, &later, &f->cfg.limits,
		                                  NOW + 100, &m, NULL),
		                 SD_OK);
	}
	do
		assert_int_equal(store_receipts_purge(f->st, NOW + 50, &purged), SD_OK);
	while (purged == SD_PURGE_BATCH);
	assert_int_equal(store_receipt_get(f->st, old, &r), SD_ENOTFOUND);
	assert_int_equal(store_receipt_get(f->st, fresh, &r), SD_OK);

	assert_int_equal(rcpt_put(f, d.link_token, gone, 0, &m), SD_OK);
	assert_int_equal(store_client_delete(f->st, d.link_token), SD_OK);
	assert_int_equal(store_receipt_get(f->st, gone, &r), SD_ENOTFOUND);
	new_client(f, &d);
	assert_int_equal(rcpt_put(f, d.link_token, gone, 0, &m), SD_OK);
}

/* ---- webhooks and their outbox ----------------------------------------- */

/* On a database shared with earlier runs (the MariaDB of scripts/check runs
 * the contract once per build), pings left pending by them would be
 * claimed by these tests: send them all first. */
static void outbox_drain(struct fixture *f)
{
	struct sd_webhook_job job;
	enum sd_err e;

	while ((e = store_webhook_claim(f->st, "drain", NOW + 10000000, 30, &job)) == SD_OK)
		assert_int_equal(store_webhook_delivered(f->st, &job, NOW + 10000000, 1), SD_OK);
	assert_int_equal(e, SD_ENOTFOUND);
}

/* Claim at `now`; the claimed ping must be c's. */
static enum sd_err claim_of(struct fixture *f, const struct sd_client *c, const char *claim,
                            time_t now, struct sd_webhook_job *job)
{
	enum sd_err e = store_webhook_claim(f->st, claim, now, 30, job);

	if (e == SD_OK)
		assert_string_equal(job->link, c->link_token);
	return e;
}

static void webhook_pings_coalesce_per_interval(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_client c;
	struct sd_webhook w;
	struct sd_webhook_job job;
	int64_t id;

	outbox_drain(f);

	lim.webhook_interval = 60;
	lim.inbox_max_messages = 1000;
	lim.inbox_max_bytes = 100000;
	new_client(f, &c);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_ENOTFOUND);
	/* No webhook: a send leaves nothing in the outbox. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(store_webhook_claim(f->st, "c0", NOW + 100000, 30, &job), SD_ENOTFOUND);

	assert_int_equal(store_webhook_set(f->st, c.link_token, "https://h.example/x", "ntfy", NOW),
	                 SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_string_equal(w.url, "https://h.example/x");
	assert_string_equal(w.kind, "ntfy");
	assert_false(w.failing);
	assert_false(w.pending);

	/* Two sends, one ping, due at once (nothing was sent before). */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_true(w.pending);
	assert_int_equal(w.due_at, NOW);
	assert_int_equal(claim_of(f, &c, "c1", NOW, &job), SD_OK);
	assert_string_equal(job.url, "https://h.example/x");
	assert_string_equal(job.kind, "ntfy");
	assert_int_equal(job.attempts, 0);
	assert_int_equal(claim_of(f, &c, "c2", NOW, &job), SD_ENOTFOUND); /* claimed */
	assert_int_equal(store_webhook_delivered(f->st, &job, NOW, 60), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_false(w.pending);
	assert_int_equal(w.last_sent_at, NOW);

	/* The next send's ping waits for the window to close. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW + 1, &id), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_int_equal(w.due_at, NOW + 60);
	assert_int_equal(claim_of(f, &c, "c3", NOW + 59, &job), SD_ENOTFOUND);
	assert_int_equal(claim_of(f, &c, "c4", NOW + 60, &job), SD_OK);
	/* A send while the ping is in flight is not lost: one more ping after
	 * this one's window. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW + 60, &id), SD_OK);
	assert_int_equal(store_webhook_delivered(f->st, &job, NOW + 61, 60), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_true(w.pending);
	assert_int_equal(w.due_at, NOW + 121);
	assert_int_equal(w.attempts, 0);

	assert_int_equal(store_webhook_clear(f->st, c.link_token), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_ENOTFOUND);
	assert_int_equal(store_webhook_claim(f->st, "c5", NOW + 100000, 30, &job), SD_ENOTFOUND);
	/* Cleared: a send enqueues nothing again. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW + 200, &id),
	                 SD_OK);
	assert_int_equal(store_webhook_claim(f->st, "c6", NOW + 100000, 30, &job), SD_ENOTFOUND);
	assert_int_equal(
	    store_webhook_set(f->st, "link_nobody", "https://h.example/", "generic", NOW),
	    SD_ENOTFOUND);
	assert_int_equal(store_webhook_clear(f->st, "link_nobody"), SD_OK);
}

/* A webhook set through another connection (another instance on the same
 * database) a moment before a send gets that send's ping: a send learns
 * of the webhook from the inbox row in its own transaction, never from
 * anything this process remembers. */
static void webhook_set_elsewhere_is_pinged_by_the_next_send(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_store *other = NULL;
	struct sd_client c;
	struct sd_webhook w;
	struct sd_webhook_job job;
	char err[256];
	int64_t id;

	outbox_drain(f);
	lim.webhook_interval = 60;
	new_client(f, &c);
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(store_open(f->dsn, &f->cfg, &other, err, sizeof err), SD_OK);
	assert_int_equal(
	    store_webhook_set(other, c.link_token, "https://h.example/y", "generic", NOW), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_false(w.pending);
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_true(w.pending);
	assert_int_equal(claim_of(f, &c, "e1", NOW, &job), SD_OK);
	assert_string_equal(job.url, "https://h.example/y");
	assert_int_equal(store_webhook_clear(other, c.link_token), SD_OK);
	store_close(other);
	outbox_drain(f);
}

/* A send racing the delivery of its inbox's ping: the next ping is due a
 * window after the delivery, whichever commits first. A third connection
 * holds the webhook row while both start, so that each is in flight (on
 * MariaDB, waiting on a lock) when it is let go: a send that read
 * last_sent_at before the delivery committed used to enqueue a ping due at
 * once, a second ping a moment after the first. */
struct row_holder {
	const struct sd_driver *drv;
	struct sd_conn *conn;
	const char *link;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int held, release;
	enum sd_err rc;
};

static int ignore_row(void *ctx, const struct sd_row *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static enum sd_err hold_webhook_row(struct sd_conn *c, void *arg)
{
	struct row_holder *h = arg;
	struct sd_arg link = {.type = SD_ARG_TEXT, .text = h->link, .len = strlen(h->link)};
	enum sd_err rc = h->drv->exec(c, SQ_HOOK_LOCK, &link, 1, ignore_row, NULL, NULL);

	pthread_mutex_lock(&h->mu);
	h->held = 1;
	pthread_cond_broadcast(&h->cv);
	while (!h->release)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
	return rc;
}

static void *holder_run(void *p)
{
	struct row_holder *h = p;

	h->rc = h->drv->write(h->conn, hold_webhook_row, h);
	return NULL;
}

struct hook_racer {
	struct fixture *f;
	const struct sd_client *c;
	const struct sd_webhook_job *job; /* NULL: the send */
	struct sd_limits lim;
	enum sd_err rc;
};

static void *hook_racer_run(void *p)
{
	struct hook_racer *r = p;
	struct sd_store *st = NULL;
	char err[256];
	int64_t id;

	if (store_open(r->f->dsn, &r->f->cfg, &st, err, sizeof err) != SD_OK) {
		r->rc = SD_EDB;
		return NULL;
	}
	r->rc = r->job != NULL ? store_webhook_delivered(st, r->job, NOW, 60)
	                       : msg_put(st, r->c->link_token, "QUJD", NULL, 3, &r->lim, NOW, &id);
	store_close(st);
	return NULL;
}

static void webhook_send_racing_a_delivery_waits_a_window(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_client c;
	struct sd_webhook w;
	struct sd_webhook_job job;
	struct row_holder h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct hook_racer deliver, send;
	pthread_t th, td, ts;
	char err[256];
	int64_t id;

	outbox_drain(f);
	lim.webhook_interval = 60;
	lim.inbox_max_messages = 1000;
	lim.inbox_max_bytes = 100000;
	new_client(f, &c);
	assert_int_equal(
	    store_webhook_set(f->st, c.link_token, "https://h.example/r", "generic", NOW - 200),
	    SD_OK);
	/* A ping delivered long ago, then one due now and claimed. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW - 100, &id),
	                 SD_OK);
	assert_int_equal(claim_of(f, &c, "r1", NOW - 100, &job), SD_OK);
	assert_int_equal(store_webhook_delivered(f->st, &job, NOW - 100, 60), SD_OK);
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(claim_of(f, &c, "r2", NOW, &job), SD_OK);

	h.drv = strncmp(f->dsn, "sqlite:", 7) == 0 ? &sd_driver_sqlite : &sd_driver_mysql;
	h.link = c.link_token;
	assert_int_equal(h.drv->open(h.drv == &sd_driver_sqlite ? f->dsn + 7 : f->dsn, &f->cfg,
	                             &h.conn, err, sizeof err),
	                 SD_OK);
	assert_int_equal(pthread_create(&th, NULL, holder_run, &h), 0);
	pthread_mutex_lock(&h.mu);
	while (!h.held)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	deliver = (struct hook_racer){f, &c, &job, lim, SD_OK};
	send = (struct hook_racer){f, &c, NULL, lim, SD_OK};
	assert_int_equal(pthread_create(&td, NULL, hook_racer_run, &deliver), 0);
	assert_int_equal(pthread_create(&ts, NULL, hook_racer_run, &send), 0);
	usleep(300 * 1000); /* both in flight; the outcome must not depend on it */
	pthread_mutex_lock(&h.mu);
	h.release = 1;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(th, NULL);
	pthread_join(td, NULL);
	pthread_join(ts, NULL);
	h.drv->close(h.conn);
	assert_int_equal(h.rc, SD_OK);
	assert_int_equal(deliver.rc, SD_OK);
	assert_int_equal(send.rc, SD_OK);

	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_true(w.pending);               /* the send is announced, */
	assert_int_equal(w.due_at, NOW + 60); /* a window after the delivery */
	assert_int_equal(w.last_sent_at, NOW);
	assert_int_equal(claim_of(f, &c, "r3", NOW + 59, &job), SD_ENOTFOUND);
	assert_int_equal(store_webhook_clear(f->st, c.link_token), SD_OK);
	outbox_drain(f);
}

static void webhook_failures_retry_then_mark_failing(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_client c;
	struct sd_webhook w;
	struct sd_webhook_job job, late;
	int64_t id;

	outbox_drain(f);

	lim.webhook_interval = 60;
	lim.inbox_max_messages = 1000;
	lim.inbox_max_bytes = 100000;
	new_client(f, &c);
	assert_int_equal(
	    store_webhook_set(f->st, c.link_token, "https://h.example/", "generic", NOW), SD_OK);
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(claim_of(f, &c, "f1", NOW, &job), SD_OK);
	assert_int_equal(store_webhook_failed(f->st, &job, "timeout", NOW, NOW + 5), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_true(w.pending);
	assert_false(w.failing);
	assert_int_equal(w.attempts, 1);
	assert_string_equal(w.last_error, "timeout");
	assert_int_equal(w.failed_at, NOW);
	assert_int_equal(claim_of(f, &c, "f2", NOW + 4, &job), SD_ENOTFOUND);
	assert_int_equal(claim_of(f, &c, "f3", NOW + 5, &job), SD_OK);
	assert_int_equal(job.attempts, 1);
	assert_false(job.failing);

	/* A claim outlives its lease: another sender takes the ping, and the
	 * first one's late outcome changes nothing. */
	late = job;
	assert_int_equal(claim_of(f, &c, "f4", NOW + 5 + 29, &job), SD_ENOTFOUND);
	assert_int_equal(claim_of(f, &c, "f5", NOW + 5 + 30, &job), SD_OK);
	assert_int_equal(store_webhook_delivered(f->st, &late, NOW + 36, 60), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_true(w.pending);
	assert_int_equal(w.last_sent_at, 0);

	/* Out of attempts: dropped, failing; the owner sees it. */
	assert_int_equal(store_webhook_failed(f->st, &job, "http_status", NOW + 40, 0), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_false(w.pending);
	assert_true(w.failing);
	assert_string_equal(w.last_error, "http_status");
	assert_int_equal(w.failed_at, NOW + 40);

	/* A later delivery makes it ok again; so does setting the URL anew. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW + 50, &id), SD_OK);
	assert_int_equal(claim_of(f, &c, "f6", NOW + 50, &job), SD_OK);
	assert_true(job.failing); /* the sender gives it one try, no round of retries */
	assert_int_equal(job.attempts, 0);
	assert_int_equal(store_webhook_delivered(f->st, &job, NOW + 50, 60), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_false(w.failing);
	assert_int_equal(store_webhook_failed(f->st, &job, "x", NOW + 51, 0), SD_OK); /* stale */
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_OK);
	assert_false(w.failing);

	/* Erasing the inbox forgets its webhook and its pending ping. */
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW + 200, &id),
	                 SD_OK);
	assert_int_equal(store_client_delete(f->st, c.link_token), SD_OK);
	assert_int_equal(store_webhook_get(f->st, c.link_token, &w), SD_ENOTFOUND);
	assert_int_equal(store_webhook_claim(f->st, "f7", NOW + 100000, 30, &job), SD_ENOTFOUND);
}

/* A ping's first try goes ahead of another's retry due earlier: a receiver
 * that keeps failing does not make every other inbox wait behind it. */
static void webhook_first_tries_go_first(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_client a, b;
	struct sd_webhook_job job;
	int64_t id;

	outbox_drain(f);

	lim.inbox_max_messages = 1000;
	lim.inbox_max_bytes = 100000;
	new_client(f, &a);
	new_client(f, &b);
	assert_int_equal(
	    store_webhook_set(f->st, a.link_token, "https://a.example/", "generic", NOW), SD_OK);
	assert_int_equal(
	    store_webhook_set(f->st, b.link_token, "https://b.example/", "generic", NOW), SD_OK);
	assert_int_equal(msg_put(f->st, a.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	assert_int_equal(claim_of(f, &a, "o1", NOW, &job), SD_OK);
	assert_int_equal(store_webhook_failed(f->st, &job, "timeout", NOW, NOW + 1), SD_OK);
	assert_int_equal(msg_put(f->st, b.link_token, "QUJD", NULL, 3, &lim, NOW + 2, &id), SD_OK);
	/* Both due at NOW + 2; a's since NOW + 1. */
	assert_int_equal(claim_of(f, &b, "o2", NOW + 2, &job), SD_OK);
	assert_int_equal(job.attempts, 0);
	assert_int_equal(claim_of(f, &a, "o3", NOW + 2, &job), SD_OK);
	assert_int_equal(job.attempts, 1);
}

struct claimer {
	const char *dsn;
	const struct sd_config *cfg;
	char claim[16];
	int won;
	pthread_barrier_t *go;
};

static void *claim_race(void *arg)
{
	struct claimer *r = arg;
	struct sd_store *st = NULL;
	struct sd_webhook_job job;
	char err[256];

	if (store_open(r->dsn, r->cfg, &st, err, sizeof err) != SD_OK)
		return NULL;
	pthread_barrier_wait(r->go);
	r->won = store_webhook_claim(st, r->claim, NOW, 30, &job) == SD_OK;
	store_close(st);
	return NULL;
}

/* Several instances looking at one due ping at once: one sends it. */
static void concurrent_claimers_one_wins(void **state)
{
	struct fixture *f = *state;
	struct sd_limits lim = f->cfg.limits;
	struct sd_client c;
	struct claimer r[8];
	pthread_t t[8];
	pthread_barrier_t go;
	int64_t id;
	int winners = 0;

	outbox_drain(f);

	lim.webhook_interval = 60;
	lim.inbox_max_messages = 1000;
	lim.inbox_max_bytes = 100000;
	new_client(f, &c);
	assert_int_equal(
	    store_webhook_set(f->st, c.link_token, "https://h.example/", "generic", NOW), SD_OK);
	assert_int_equal(msg_put(f->st, c.link_token, "QUJD", NULL, 3, &lim, NOW, &id), SD_OK);
	pthread_barrier_init(&go, NULL, 8);
	for (int i = 0; i < 8; i++) {
		r[i] = (struct claimer){f->dsn, &f->cfg, "", 0, &go};
		snprintf(r[i].claim, sizeof r[i].claim, "racer%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, claim_race, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		winners += r[i].won;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(winners, 1);
	assert_int_equal(store_webhook_clear(f->st, c.link_token), SD_OK);
}

#define CONTRACT_TESTS                                                                          \
	{                                                                                       \
		cmocka_unit_test(ping_answers), cmocka_unit_test(client_round_trip),            \
		    cmocka_unit_test(duplicate_link_is_conflict),                               \
		    cmocka_unit_test(display_name_and_box_key_kept),                            \
		    cmocka_unit_test(messages_list_in_order_with_bounds),                       \
		    cmocka_unit_test(inbox_caps_are_enforced),                                  \
		    cmocka_unit_test(ack_touches_only_own_inbox),                               \
		    cmocka_unit_test(challenge_limit_per_caller),                               \
		    cmocka_unit_test(challenge_consumed_once),                                  \
		    cmocka_unit_test(concurrent_consumers_one_wins),                            \
		    cmocka_unit_test(rotate_and_delete_client),                                 \
		    cmocka_unit_test(other_case_link_matches_only_where_the_store_folds_case),  \
		    cmocka_unit_test(unregister_racing_sends_leaves_nothing),                   \
		    cmocka_unit_test(purge_drops_old_messages_and_frees_caps),                  \
		    cmocka_unit_test(purge_works_in_small_batches),                             \
		    cmocka_unit_test(delete_gives_back_exactly_what_send_charged),              \
		    cmocka_unit_test(counters_equal_rows_after_every_operation),                \
		    cmocka_unit_test(recount_matches_rows),                                     \
		    cmocka_unit_test(requests_open_answer_and_allow),                           \
		    cmocka_unit_test(requests_are_capped_per_inbox_and_caller),                 \
		    cmocka_unit_test(proven_sender_takes_over_claimed_requests),                \
		    cmocka_unit_test(challenge_purpose_must_match),                             \
		    cmocka_unit_test(capabilities_kept),                                        \
		    cmocka_unit_test(idempotency_key_stores_once),                              \
		    cmocka_unit_test(concurrent_retries_store_once),                            \
		    cmocka_unit_test(ack_upto_covers_batches), cmocka_unit_test(totals_add_up), \
		    cmocka_unit_test(receipt_statuses_are_released_late),                       \
		    cmocka_unit_test(release_covers_batches),                                   \
		    cmocka_unit_test(receipt_conflicts_store_nothing),                          \
		    cmocka_unit_test(replies_are_capped_and_listed),                            \
		    cmocka_unit_test(concurrent_replies_stop_at_the_cap),                       \
		    cmocka_unit_test(receipts_expire_and_go_with_their_inbox),                  \
		    cmocka_unit_test(webhook_pings_coalesce_per_interval),                      \
		    cmocka_unit_test(webhook_set_elsewhere_is_pinged_by_the_next_send),         \
		    cmocka_unit_test(webhook_send_racing_a_delivery_waits_a_window),            \
		    cmocka_unit_test(webhook_failures_retry_then_mark_failing),                 \
		    cmocka_unit_test(webhook_first_tries_go_first),                             \
		    cmocka_unit_test(concurrent_claimers_one_wins),                             \
	}

int main(void)
{
	const struct CMUnitTest tests[] = CONTRACT_TESTS;
	char cmd[300];
	int failed;

	failed =
	    cmocka_run_group_tests_name("store contract (sqlite)", tests, setup_sqlite, teardown);
	snprintf(cmd, sizeof cmd, "rm -rf %s", sqlite_dir);
	if (system(cmd) != 0)
		failed++;
	if (getenv("SEALDROP_TEST_MYSQL_DSN") != NULL && *getenv("SEALDROP_TEST_MYSQL_DSN"))
		failed += cmocka_run_group_tests_name("store contract (mysql)", tests, setup_mysql,
		                                      teardown);
	return failed;
}
