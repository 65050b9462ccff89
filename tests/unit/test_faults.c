/* Fault injection (SQLite's habit): every endpoint that writes or reads the
 * store runs with its N-th store statement, then its N-th allocation,
 * failing, for N = 1, 2, ... until a run meets no fault; once with a single
 * failure, once with every call from the N-th on failing. After each run:
 * no 500, a JSON answer, and nothing half-done (the inbox's counters equal
 * its rows; a failed /send stored nothing, also when it failed queueing
 * its webhook ping). Built only with
 * --enable-fault-injection; runs on SQLite, and on MariaDB when
 * SEALDROP_TEST_MYSQL_DSN names one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/crypto.h"
#include "core/fault.h"
#include "server/router.h"

#define MAX_N 400

static char dir[] = "/tmp/sd-unit-faults-XXXXXX";
static struct sd_config cfg;

struct fixture {
	struct sd_store *st;
	unsigned char seed[32], pk[32], sk[64];
	char link[SD_LINK_TOKEN_MAX + 1];
	char bearer[300];
};

static void request(struct fixture *f, const char *path, const char *body, const char *auth,
                    struct sd_resp *resp)
{
	struct sd_req req = {0};
	struct sd_ctx ctx = {0};

	req.method = "POST";
	req.path = path;
	req.body = body;
	req.body_len = strlen(body);
	req.content_length = (int64_t)req.body_len;
	req.remote_addr = "192.0.2.7";
	req.authorization = auth;
	memset(resp, 0, sizeof *resp);
	resp->status = 500; /* as the transport starts: a path that sets none shows */
	ctx.req = &req;
	ctx.resp = resp;
	ctx.store = f->st;
	ctx.cfg = &cfg;
	ctx.now = time(NULL);
	router_dispatch(&ctx);
}

/* A string field of a JSON answer, copied; "" when absent. */
static void field(const struct sd_resp *r, const char *name, char *out, size_t cap)
{
	json_object *o = json_tokener_parse(r->body.data), *v;

	out[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, name, &v))
		snprintf(out, cap, "%s", json_object_get_string(v));
	json_object_put(o);
}

static void register_inbox(struct fixture *f)
{
	char body[256], pk64[SD_B64_LEN(32) + 1], tok[256];
	struct sd_resp r;

	randombytes_buf(f->seed, sizeof f->seed);
	crypto_sign_seed_keypair(f->pk, f->sk, f->seed);
	sd_b64_encode(f->pk, sizeof f->pk, pk64);
	snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", pk64);
	request(f, "/register", body, NULL, &r);
	assert_int_equal(r.status, 201);
	field(&r, "link_token", f->link, sizeof f->link);
	field(&r, "fetch_token", tok, sizeof tok);
	snprintf(f->bearer, sizeof f->bearer, "Bearer %s", tok);
	sd_buf_free(&r.body);
}

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

/* The inbox as the rows say, checked against its counters. */
static struct tally inbox_state(struct fixture *f)
{
	struct sd_msg_query q = {1, 1, INT64_MAX, 0, 100000};
	struct tally t = {0, 0};
	int64_t n = -1, bytes = -1;

	assert_int_equal(store_msg_list(f->st, f->link, &q, tally_row, &t), SD_OK);
	assert_int_equal(store_client_usage(f->st, f->link, &n, &bytes), SD_OK);
	assert_int_equal(n, t.n);
	assert_int_equal(bytes, t.bytes);
	return t;
}

static void send_body(struct fixture *f, char *body, size_t cap)
{
	unsigned char ct[80];
	char ct64[SD_B64_LEN(sizeof ct) + 1];

	randombytes_buf(ct, sizeof ct);
	sd_b64_encode(ct, sizeof ct, ct64);
	snprintf(body, cap,
	         "{\"link_token\":\"%s\",\"encrypted_message\":\"%s\","
	         "\"metadata\":{\"n\":\"Zo\xc3\xab \xe2\x9c\x93\"}}",
	         f->link, ct64);
}

/* One message stored without faults, for /ack to work on. */
static int64_t stored_message(struct fixture *f)
{
	char body[512], id[32];
	struct sd_resp r;

	send_body(f, body, sizeof body);
	request(f, "/send", body, NULL, &r);
	assert_int_equal(r.status, 201);
	field(&r, "id", id, sizeof id);
	sd_buf_free(&r.body);
	return strtoll(id, NULL, 10);
}

/* A webhook set with a fresh signature bound to purpose "webhook"; once
 * set, every later /send also queues its ping in the same transaction. */
static void webhook_body(struct fixture *f, char *body, size_t cap)
{
	unsigned char sig[crypto_sign_BYTES];
	char challenge[128], msg[512], sig64[SD_B64_LEN(sizeof sig) + 1];
	struct sd_resp r;

	snprintf(msg, sizeof msg, "{\"link_token\":\"%s\",\"purpose\":\"webhook\"}", f->link);
	request(f, "/challenge_request", msg, NULL, &r);
	assert_int_equal(r.status, 200);
	field(&r, "challenge", challenge, sizeof challenge);
	sd_buf_free(&r.body);
	snprintf(msg, sizeof msg, "sealdrop-v1\nwebhook\nhttps://drop.example\n%s\n%s", f->link,
	         challenge);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), f->sk);
	sd_b64_encode(sig, sizeof sig, sig64);
	snprintf(body, cap,
	         "{\"link_token\":\"%s\",\"action\":\"set\",\"url\":\"https://hooks.example/x\","
	         "\"challenge\":\"%s\",\"challenge_signature\":\"%s\","
	         "\"challenge_form\":\"sealdrop-v1\"}",
	         f->link, challenge, sig64);
}

enum endpoint { EP_REGISTER, EP_WEBHOOK, EP_SEND, EP_FETCH, EP_ACK, EP_CHALLENGE, EP__MAX };

static const char *const endpoint_names[EP__MAX] = {"/register", "/webhook", "/send",
                                                    "/fetch",    "/ack",     "/challenge_request"};

/* The request of each endpoint, built before the faults are armed. */
static void build(struct fixture *f, enum endpoint ep, char *body, size_t cap, const char **auth)
{
	unsigned char seed[32], pk[32], sk[64];
	char pk64[SD_B64_LEN(32) + 1];

	*auth = NULL;
	switch (ep) {
	case EP_REGISTER:
		randombytes_buf(seed, sizeof seed);
		crypto_sign_seed_keypair(pk, sk, seed);
		sd_b64_encode(pk, sizeof pk, pk64);
		snprintf(body, cap, "{\"public_key\":\"%s\",\"display_name\":\"Zo\xc3\xab\"}",
		         pk64);
		break;
	case EP_WEBHOOK:
		webhook_body(f, body, cap);
		break;
	case EP_SEND:
		send_body(f, body, cap);
		break;
	case EP_FETCH:
		snprintf(body, cap, "{\"link_token\":\"%s\",\"include_seen\":true}", f->link);
		*auth = f->bearer;
		break;
	case EP_ACK:
		snprintf(body, cap,
		         "{\"link_token\":\"%s\",\"message_ids\":[%lld],\"delete\":true}", f->link,
		         (long long)stored_message(f));
		*auth = f->bearer;
		break;
	case EP_CHALLENGE:
		snprintf(body, cap, "{\"link_token\":\"%s\"}", f->link);
		break;
	case EP__MAX:
		break;
	}
}

/* Run one endpoint under faults of kind k until a run meets none. */
static void sweep(struct fixture *f, enum endpoint ep, enum sd_fault_kind k, int persistent)
{
	char body[1024];
	const char *auth;
	long n;

	for (n = 1; n <= MAX_N; n++) {
		struct tally before, after;
		struct sd_resp r;
		json_object *o;
		long hit;

		build(f, ep, body, sizeof body, &auth);
		before = inbox_state(f);
		sd_fault_arm(k, n, persistent);
		request(f, endpoint_names[ep], body, auth, &r);
		hit = sd_fault_injected(k);
		sd_fault_arm(k, 0, 0);
		if (r.body.failed) {
			/* The transport answers 503 out_of_memory for these. */
			assert_true(hit > 0);
			sd_buf_free(&r.body);
			continue;
		}
		if (r.status == 500 || r.status < 200 ||
		    (r.status >= 300 && r.status != 503 && (r.status < 400 || r.status > 499)))
			fail_msg("%s, fault %ld: status %d: %s", endpoint_names[ep], n, r.status,
			         r.body.data);
		o = json_tokener_parse(r.body.data);
		assert_non_null(o);
		if (r.status >= 400)
			assert_true(json_object_object_get_ex(o, "error", NULL));
		json_object_put(o);
		after = inbox_state(f);
		if (ep == EP_SEND && r.status != 201)
			assert_int_equal(after.n, before.n);
		if (ep == EP_SEND && r.status == 201)
			assert_int_equal(after.n, before.n + 1);
		if (ep == EP_ACK && r.status == 200)
			assert_int_equal(after.n, before.n - 1);
		sd_buf_free(&r.body);
		if (hit == 0)
			break; /* the request ran to its end without a fault */
	}
	/* At least one fault was met, and the sweep ended in a clean run. */
	assert_true(n > 1 && n <= MAX_N);
	/* Without faults the store still works for this inbox. */
	(void)stored_message(f);
}

static void every_endpoint_survives_store_faults(void **state)
{
	struct fixture *f = *state;

	for (int ep = 0; ep < EP__MAX; ep++) {
		sweep(f, (enum endpoint)ep, SD_FAULT_STORE, 0);
		sweep(f, (enum endpoint)ep, SD_FAULT_STORE, 1);
	}
}

static void every_endpoint_survives_allocation_faults(void **state)
{
	struct fixture *f = *state;

	for (int ep = 0; ep < EP__MAX; ep++) {
		sweep(f, (enum endpoint)ep, SD_FAULT_ALLOC, 0);
		sweep(f, (enum endpoint)ep, SD_FAULT_ALLOC, 1);
	}
}

static int open_fixture(void **state, const char *dsn)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	if (f == NULL || sd_crypto_init() != 0)
		return -1;
	cfg.limits.inbox_max_messages = 100000;
	cfg.limits.inbox_max_bytes = 1 << 30;
	cfg.limits.challenges_per_caller = 100000;
	cfg.limits.challenge_ttl = 300;
	cfg.limits.requests_per_inbox = 100;
	cfg.limits.requests_per_caller = 20;
	snprintf(cfg.base_url, sizeof cfg.base_url, "https://drop.example");
	if (store_open(dsn, &cfg, &f->st, err, sizeof err) != SD_OK ||
	    store_migrate(f->st) != SD_OK) {
		fprintf(stderr, "store: %s\n", err);
		free(f);
		return -1;
	}
	register_inbox(f);
	*state = f;
	return 0;
}

static int setup_sqlite(void **state)
{
	char dsn[256];

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(dsn, sizeof dsn, "sqlite:%s/faults.db", dir);
	return open_fixture(state, dsn);
}

static int setup_mysql(void **state)
{
	return open_fixture(state, getenv("SEALDROP_TEST_MYSQL_DSN"));
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_endpoint_survives_store_faults),
	    cmocka_unit_test(every_endpoint_survives_allocation_faults),
	};
	const char *mysql = getenv("SEALDROP_TEST_MYSQL_DSN");
	char cmd[300];
	int failed;

	failed = cmocka_run_group_tests_name("faults (sqlite)", tests, setup_sqlite, teardown);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		failed++;
	if (mysql != NULL && *mysql)
		failed +=
		    cmocka_run_group_tests_name("faults (mysql)", tests, setup_mysql, teardown);
	return failed;
}
