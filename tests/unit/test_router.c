/* The router's gates, with a real SQLite store behind them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/auth.h"
#include "core/crypto.h"
#include "server/router.h"

static char dir[] = "/tmp/sd-unit-router-XXXXXX";
static struct sd_config cfg;
static struct sd_store *store;

static int setup(void **state)
{
	char dsn[256], err[256];

	(void)state;
	if (mkdtemp(dir) == NULL || sd_crypto_init() != 0)
		return -1;
	snprintf(dsn, sizeof dsn, "sqlite:%s/t.db", dir);
	cfg.limits.inbox_max_messages = 10;
	cfg.limits.inbox_max_bytes = 1 << 20;
	cfg.limits.challenges_per_caller = 5;
	cfg.limits.challenge_ttl = 300;
	snprintf(cfg.base_url, sizeof cfg.base_url, "https://drop.example");
	if (store_open(dsn, &cfg, &store, err, sizeof err) != SD_OK ||
	    store_migrate(store) != SD_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	store_close(store);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct result {
	struct sd_resp resp;
};

static void run(const char *method, const char *path, const char *body, int64_t clen,
                struct sd_resp *resp)
{
	struct sd_req req = {0};
	struct sd_ctx ctx = {0};

	req.method = method;
	req.path = path;
	req.body = body ? body : "";
	req.body_len = body ? strlen(body) : 0;
	req.content_length = clen >= 0 ? clen : (int64_t)req.body_len;
	req.remote_addr = "127.0.0.1";
	memset(resp, 0, sizeof *resp);
	ctx.req = &req;
	ctx.resp = resp;
	ctx.store = store;
	ctx.cfg = &cfg;
	ctx.now = 1700000000;
	router_dispatch(&ctx);
}

/* Challenges are counted per caller: every IPv4 client must not become one
 * caller because a dual-stack socket shows it as ::ffff:a.b.c.d. */
static void caller_key_unmaps_ipv4_and_cuts_ipv6_to_64(void **state)
{
	static const char *const cases[][2] = {
	    {"192.0.2.7", "192.0.2.7"},
	    {"::ffff:192.0.2.7", "192.0.2.7"},
	    {"::ffff:198.51.100.1", "198.51.100.1"},
	    {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	    {"2001:db8:1:2::9", "2001:db8:1:2::/64"},
	    {"::1", "::/64"},
	};
	char key[96];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		auth_caller_key(cases[i][0], key, sizeof key);
		assert_string_equal(key, cases[i][1]);
	}
}

static void unknown_path_is_json_404(void **state)
{
	struct sd_resp r;

	(void)state;
	run("GET", "/nope", NULL, -1, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body.data, "\"code\":\"not_found\""));
	sd_buf_free(&r.body);
}

static void wrong_method_is_405_with_allow(void **state)
{
	struct sd_resp r;

	(void)state;
	run("GET", "/send", NULL, -1, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST, OPTIONS");
	sd_buf_free(&r.body);
	run("POST", "/health", "{}", -1, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, OPTIONS");
	sd_buf_free(&r.body);
}

static void options_is_preflight(void **state)
{
	struct sd_resp r;

	(void)state;
	run("OPTIONS", "/fetch", NULL, -1, &r);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.allow, "POST, OPTIONS");
	sd_buf_free(&r.body);
}

static void small_endpoints_cap_their_bodies(void **state)
{
	struct sd_resp r;

	(void)state;
	run("POST", "/challenge_request", "{}", 5000, &r);
	assert_int_equal(r.status, 413);
	sd_buf_free(&r.body);
	run("POST", "/send", "{}", 70000, &r);
	assert_int_equal(r.status, 413);
	sd_buf_free(&r.body);
	/* Within the cap, the handler answers (here: a missing field). */
	run("POST", "/send", "{}", -1, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.data, "invalid_link_token"));
	sd_buf_free(&r.body);
}

static void health_reports_the_store(void **state)
{
	struct sd_resp r;

	(void)state;
	run("GET", "/health", NULL, -1, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"status\":\"healthy\""));
	assert_non_null(strstr(r.body.data, "\"database\":\"ok\""));
	assert_string_equal(r.route, "/health");
	sd_buf_free(&r.body);
}

static void key_route_logs_no_token(void **state)
{
	struct sd_resp r;

	(void)state;
	run("GET", "/key/link_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, -1, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.route, "/key/:link_token");
	assert_non_null(strstr(r.body.data, "unknown_link"));
	sd_buf_free(&r.body);
}

static void register_then_key(void **state)
{
	struct sd_resp r;
	unsigned char pk[32], sk[64];
	char b64[SD_B64_LEN(32) + 1], body[256], path[200];
	const char *tok;

	(void)state;
	crypto_sign_keypair(pk, sk);
	sd_b64_encode(pk, sizeof pk, b64);
	snprintf(body, sizeof body, "{\"public_key\":\"%s\",\"display_name\":\"Bob\"}", b64);
	run("POST", "/register", body, -1, &r);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.body.data, "\"link\":\"https://drop.example/l/link_"));
	tok = strstr(r.body.data, "\"link_token\":\"");
	assert_non_null(tok);
	snprintf(path, sizeof path, "/key/%.37s", tok + 14);
	sd_buf_free(&r.body);
	run("GET", path, NULL, -1, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"display_name\":\"Bob\""));
	sd_buf_free(&r.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(caller_key_unmaps_ipv4_and_cuts_ipv6_to_64),
	    cmocka_unit_test(unknown_path_is_json_404),
	    cmocka_unit_test(wrong_method_is_405_with_allow),
	    cmocka_unit_test(options_is_preflight),
	    cmocka_unit_test(small_endpoints_cap_their_bodies),
	    cmocka_unit_test(health_reports_the_store),
	    cmocka_unit_test(key_route_logs_no_token),
	    cmocka_unit_test(register_then_key),
	};

	return cmocka_run_group_tests_name("router", tests, setup, teardown);
}
