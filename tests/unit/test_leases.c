/* The MySQL driver's advisory locks are leases in a table, so that they
 * hold across the nodes of a Galera cluster (GET_LOCK is node-local): one
 * holder at a time, renewed by taking it again, free once given back. And
 * the DSN's own parameter, wsrep_sync_wait, is checked before connecting.
 * The lease cases run when SEALDROP_TEST_MYSQL_DSN names a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/config.h"
#include "store/driver.h"

static struct sd_config cfg;

static struct sd_conn *open_or_fail(const char *dsn)
{
	struct sd_conn *c = NULL;
	char err[512];

	if (sd_driver_mysql.open(dsn, &cfg, &c, err, sizeof err) != SD_OK)
		fail_msg("open: %s", err);
	return c;
}

static void sync_wait_out_of_range_is_refused_before_connecting(void **state)
{
	static const char *const bad[] = {
	    "mysql://u:p@127.0.0.1:1/db?wsrep_sync_wait=16",
	    "mysql://u:p@127.0.0.1:1/db?wsrep_sync_wait=-1",
	    "mysql://u:p@127.0.0.1:1/db?x=1&wsrep_sync_wait=1x",
	    "mysql://u:p@127.0.0.1:1/db?wsrep_sync_wait=",
	    /* TLS settings that would otherwise quietly mean plain text */
	    "mysql://u:p@127.0.0.1:1/db?ssl_ca=/ca.pem",
	    "mysql://u:p@127.0.0.1:1/db?ssl-mode=REQUIRED",
	    "mysql://u:p@127.0.0.1:1/db?tls=1",
	    "mysql://u:p@127.0.0.1:1/db?ssl-ca=",
	    "mysql://u:p@127.0.0.1:1/db?ssl-cert=/c.pem&ssl-key=/k.pem",
	    "mysql://u:p@127.0.0.1:1/db?ssl-ca=/ca.pem&ssl-key=/k.pem",
	};
	struct sd_conn *c = NULL;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (sd_driver_mysql.open(bad[i], &cfg, &c, err, sizeof err) != SD_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(c);
		assert_non_null(strstr(err, "bad MySQL DSN"));
	}
}

static void sync_wait_parameter_is_accepted(void **state)
{
	char dsn[1024];
	struct sd_conn *c;
	struct sd_exec_result res;

	(void)state;
	snprintf(dsn, sizeof dsn, "%s?other=1&wsrep_sync_wait=1",
	         getenv("SEALDROP_TEST_MYSQL_DSN"));
	c = open_or_fail(dsn);
	assert_int_equal(sd_driver_mysql.exec(c, SQ_PING, NULL, 0, NULL, NULL, &res), SD_OK);
	sd_driver_mysql.close(c);
}

/* A lease name of this run: a lease left behind outlives the test by a
 * minute, and a second run must not find it. */
static void fresh_name(char *name, size_t cap, const char *what)
{
	unsigned char r[8];
	char hex[17];

	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	snprintf(name, cap, "unit_%s_%s", what, hex);
}

static void lease_has_one_holder_until_given_back(void **state)
{
	const char *dsn = getenv("SEALDROP_TEST_MYSQL_DSN");
	struct sd_conn *a = open_or_fail(dsn), *b = open_or_fail(dsn);
	char name[64];

	(void)state;
	fresh_name(name, sizeof name, "one");
	assert_int_equal(sd_driver_mysql.lock(a, name, 0), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(b, name, 0), SD_ELIMIT);
	assert_int_equal(sd_driver_mysql.lock(b, name, 1), SD_ELIMIT); /* waited, in vain */
	assert_int_equal(sd_driver_mysql.lock(a, name, 0), SD_OK);     /* renewed */
	sd_driver_mysql.unlock(b, name); /* not b's: changes nothing */
	assert_int_equal(sd_driver_mysql.lock(b, name, 0), SD_ELIMIT);
	sd_driver_mysql.unlock(a, name);
	assert_int_equal(sd_driver_mysql.lock(b, name, 0), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(a, name, 0), SD_ELIMIT);
	sd_driver_mysql.unlock(b, name);
	sd_driver_mysql.close(a);
	sd_driver_mysql.close(b);
}

static void leases_are_per_name_and_outlive_their_connection(void **state)
{
	const char *dsn = getenv("SEALDROP_TEST_MYSQL_DSN");
	struct sd_conn *a = open_or_fail(dsn), *b = open_or_fail(dsn);
	char one[64], two[64];

	(void)state;
	fresh_name(one, sizeof one, "a");
	fresh_name(two, sizeof two, "b");
	assert_int_equal(sd_driver_mysql.lock(a, one, 0), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(a, two, 0), SD_OK);
	sd_driver_mysql.unlock(a, two);
	assert_int_equal(sd_driver_mysql.lock(b, two, 0), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(b, one, 0), SD_ELIMIT);
	/* A holder that vanishes without giving back (a crash) keeps the lease
	 * until it expires: on a cluster no node can tell it is gone. */
	sd_driver_mysql.close(a);
	assert_int_equal(sd_driver_mysql.lock(b, one, 0), SD_ELIMIT);
	sd_driver_mysql.unlock(b, two);
	sd_driver_mysql.close(b);
}

static void an_expired_lease_is_taken_over(void **state)
{
	const char *dsn = getenv("SEALDROP_TEST_MYSQL_DSN");
	struct sd_conn *a = open_or_fail(dsn), *b = open_or_fail(dsn);
	char name[64], sql[256];

	(void)state;
	fresh_name(name, sizeof name, "expired");
	assert_int_equal(sd_driver_mysql.lock(a, name, 0), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(b, name, 0), SD_ELIMIT);
	/* As if a's holder had died a minute ago. */
	snprintf(sql, sizeof sql,
	         "UPDATE sealdrop_leases SET expires_at = NOW() - INTERVAL 1 SECOND "
	         "WHERE name = '%s'",
	         name);
	assert_int_equal(sd_driver_mysql.script(b, sql, strlen(sql)), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(b, name, 0), SD_OK);
	assert_int_equal(sd_driver_mysql.lock(a, name, 0), SD_ELIMIT);
	sd_driver_mysql.unlock(a, name); /* no longer a's: changes nothing */
	assert_int_equal(sd_driver_mysql.lock(a, name, 0), SD_ELIMIT);
	sd_driver_mysql.unlock(b, name);
	sd_driver_mysql.close(a);
	sd_driver_mysql.close(b);
}

int main(void)
{
	const struct CMUnitTest offline[] = {
	    cmocka_unit_test(sync_wait_out_of_range_is_refused_before_connecting),
	};
	const struct CMUnitTest online[] = {
	    cmocka_unit_test(sync_wait_parameter_is_accepted),
	    cmocka_unit_test(lease_has_one_holder_until_given_back),
	    cmocka_unit_test(leases_are_per_name_and_outlive_their_connection),
	    cmocka_unit_test(an_expired_lease_is_taken_over),
	};
	const char *dsn = getenv("SEALDROP_TEST_MYSQL_DSN");
	int failed;

	if (sodium_init() < 0)
		return 1;
	failed = cmocka_run_group_tests_name("mysql DSN", offline, NULL, NULL);
	if (dsn != NULL && *dsn)
		failed += cmocka_run_group_tests_name("mysql leases", online, NULL, NULL);
	return failed;
}
