/* Where the server's own requests may go (core/outbound.c): the address
 * classes refused, the operator's allow-list, and a webhook URL's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/outbound.h"

static void private_and_special_addresses_refused(void **state)
{
	static const char *const refused[] = {
	    "127.0.0.1",
	    "127.255.255.254",
	    "10.0.0.1",
	    "172.16.0.1",
	    "172.31.255.255",
	    "192.168.1.1",
	    "169.254.169.254",
	    "100.64.0.1",
	    "100.127.255.255",
	    "0.0.0.0",
	    "224.0.0.1",
	    "255.255.255.255",
	    "::",
	    "::1",
	    "fc00::1",
	    "fdff::1",
	    "fe80::1",
	    "febf::1",
	    "ff02::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3",
	    "::ffff:169.254.169.254",
	    "64:ff9b::a00:1",
	    "64:ff9b::127.0.0.1", /* NAT64 of loopback */
	    "64:ff9b::169.254.169.254",
	    "64:ff9b:1::808:808",  /* local-use NAT64: refused whatever it embeds */
	    "2002:7f00:1::1",      /* 6to4 of 127.0.0.1 */
	    "2002:a9fe:a9fe::",    /* 6to4 of 169.254.169.254 */
	    "2002:c0a8:101::1",    /* 6to4 of 192.168.1.1 */
	    "2001:0:4136:e378::1", /* Teredo */
	    "::127.0.0.1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		if (sd_outbound_ip_ok(refused[i], NULL) != 0)
			fail_msg("%s was not refused", refused[i]);
	}
}

static void public_addresses_allowed(void **state)
{
	static const char *const ok[] = {
	    "93.184.216.34",    "172.32.0.1",           "100.128.0.1", "1.1.1.1",
	    "2606:4700::1111",  "::ffff:93.184.216.34", "11.0.0.1",    "169.255.0.1",
	    "64:ff9b::8.8.8.8", /* NAT64 of a public address */
	    "2002:808:808::1",  /* 6to4 of a public address */
	    "2001:4860::8888"};

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (sd_outbound_ip_ok(ok[i], NULL) != 1)
			fail_msg("%s was refused", ok[i]);
	}
	assert_int_equal(sd_outbound_ip_ok("example.org", NULL), -1);
}

static void allow_list_admits_exactly_its_nets(void **state)
{
	struct sd_allow a;

	(void)state;
	assert_int_equal(sd_allow_parse("127.0.0.1, 10.1.0.0/16,fd00::/8", &a), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(sd_outbound_ip_ok("127.0.0.1", &a), 1);
	assert_int_equal(sd_outbound_ip_ok("::ffff:127.0.0.1", &a), 1); /* mapped = IPv4 */
	assert_int_equal(sd_outbound_ip_ok("127.0.0.2", &a), 0);
	assert_int_equal(sd_outbound_ip_ok("10.1.255.255", &a), 1);
	assert_int_equal(sd_outbound_ip_ok("10.2.0.1", &a), 0);
	assert_int_equal(sd_outbound_ip_ok("fd12::1", &a), 1);
	assert_int_equal(sd_outbound_ip_ok("fc00::1", &a), 0);
	assert_int_equal(sd_allow_parse("", &a), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(sd_allow_parse("10.0.0.0/33", &a), -1);
	assert_int_equal(sd_allow_parse("10.0.0.0/", &a), -1);
	assert_int_equal(sd_allow_parse("localhost", &a), -1);
	assert_int_equal(sd_allow_parse("10.0.0.1,,10.0.0.2", &a), -1);
	assert_int_equal(sd_allow_parse("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,"
	                                "1.1.1.8,1.1.1.9,1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,"
	                                "1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17",
	                                &a),
	                 -1);
}

static void urls_split(void **state)
{
	struct sd_url u;
	const char *why;

	(void)state;
	assert_int_equal(sd_url_split("https://Hooks.Example.org/x?y=1", &u, &why), 0);
	assert_true(u.https);
	assert_string_equal(u.host, "hooks.example.org");
	assert_int_equal(u.port, 443);
	assert_false(u.host_is_ip);
	/* Digits in a name are fine where the last label is no number. */
	assert_int_equal(sd_url_split("https://123.example/", &u, &why), 0);
	assert_int_equal(sd_url_split("https://0x7f.example.org./", &u, &why), 0);
	assert_false(u.host_is_ip);
	assert_int_equal(sd_url_split("http://127.0.0.1:8080", &u, &why), 0);
	assert_false(u.https);
	assert_int_equal(u.port, 8080);
	assert_true(u.host_is_ip);
	assert_int_equal(sd_url_split("https://[::1]:9/p", &u, &why), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9);
	assert_true(u.host_is_ip);
}

static void bad_urls_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "ftp://example.org/",
	    "file:///etc/passwd",
	    "gopher://example.org/",
	    "https://",
	    "https:///x",
	    "https://user@example.org/",
	    "https://user:pw@example.org/",
	    "https://example.org:0/",
	    "https://example.org:65536/",
	    "https://example.org:/",
	    "https://example.org:80a/",
	    "https://exa mple.org/",
	    "https://example.org/\x01",
	    "https://example.org\\@evil/",
	    "https://[::1/",
	    "https://[nothex]/",
	    "https://[::1]x/",
	    "https://exa_mple.org/",
	    "https://-example.org/",
	    "https://example.org/caf\xc3\xa9",
	    /* IPv4 shorthands: a host ending in a number that is no dotted quad */
	    "https://2130706433/",
	    "https://0x7f.1/",
	    "https://0x7f000001/",
	    "https://127.1/",
	    "https://127.0.0.1./",
	    "https://017700000001/",
	    "https://1.2.3.4.5/",
	    "https://example.0x/",
	};
	struct sd_url u;
	const char *why;
	char longurl[SD_OUTBOUND_URL_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (sd_url_split(bad[i], &u, &why) != -1)
			fail_msg("%s was accepted", bad[i]);
		assert_non_null(why);
	}
	memcpy(longurl, "https://example.org/", 20);
	memset(longurl + 20, 'a', sizeof longurl - 21);
	longurl[sizeof longurl - 1] = '\0';
	assert_int_equal(strlen(longurl), SD_OUTBOUND_URL_MAX + 1);
	assert_int_equal(sd_url_split(longurl, &u, &why), -1);
	longurl[SD_OUTBOUND_URL_MAX] = '\0';
	assert_int_equal(sd_url_split(longurl, &u, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(private_and_special_addresses_refused),
	    cmocka_unit_test(public_addresses_allowed),
	    cmocka_unit_test(allow_list_admits_exactly_its_nets),
	    cmocka_unit_test(urls_split),
	    cmocka_unit_test(bad_urls_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
