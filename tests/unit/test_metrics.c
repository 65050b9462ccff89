/* The metrics registry and its text: counts land under the right route and
 * status, histograms are cumulative with count = +Inf, label values are
 * escaped, names past the slots count as "other", unknown gauges are left
 * out. The registry is process-wide, so the tests build on each other in
 * order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/metrics.h"
#include "core/sd.h"

static struct sd_buf text;

static const char *scrape(void)
{
	sd_buf_reset(&text);
	sd_metrics_write(&text, "1.2.3");
	sd_buf_append(&text, "", 1); /* NUL-terminated for strstr */
	assert_false(text.failed);
	return text.data;
}

/* The value of the sample line that starts with series (name and labels). */
static long long sample(const char *series)
{
	const char *t = scrape(), *p = t;
	size_t n = strlen(series);
	long long v = -1;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == t || p[-1] == '\n') && p[n] == ' ') {
			assert_int_equal(sscanf(p + n + 1, "%lld", &v), 1);
			return v;
		}
		p += n;
	}
	return -1;
}

static void requests_by_route_and_status(void **state)
{
	(void)state;
	sd_metrics_route_add("/send");
	assert_int_equal(sample("sealdrop_http_requests_total{route=\"/send\",code=\"201\"}"), -1);
	assert_int_equal(sample("sealdrop_http_request_duration_seconds_count{route=\"/send\"}"),
	                 0);
	sd_metrics_request("/send", 201, 400);
	sd_metrics_request("/send", 201, 500);
	sd_metrics_request("/send", 429, 501);
	sd_metrics_request("/send", 42, 20000000); /* not an HTTP status; past 10 s */
	assert_int_equal(sample("sealdrop_http_requests_total{route=\"/send\",code=\"201\"}"), 2);
	assert_int_equal(sample("sealdrop_http_requests_total{route=\"/send\",code=\"429\"}"), 1);
	assert_int_equal(sample("sealdrop_http_requests_total{route=\"/send\",code=\"other\"}"), 1);
	/* le is inclusive: 500 µs is in the 0.0005 bucket, 501 µs is not */
	assert_int_equal(
	    sample("sealdrop_http_request_duration_seconds_bucket{route=\"/send\",le=\"0.0005\"}"),
	    2);
	assert_int_equal(
	    sample("sealdrop_http_request_duration_seconds_bucket{route=\"/send\",le=\"0.001\"}"),
	    3);
	assert_int_equal(
	    sample("sealdrop_http_request_duration_seconds_bucket{route=\"/send\",le=\"10\"}"), 3);
	assert_int_equal(
	    sample("sealdrop_http_request_duration_seconds_bucket{route=\"/send\",le=\"+Inf\"}"),
	    4);
	assert_int_equal(sample("sealdrop_http_request_duration_seconds_count{route=\"/send\"}"),
	                 4);
	assert_non_null(strstr(scrape(),
	                       "sealdrop_http_request_duration_seconds_sum{route=\"/send\"} "
	                       "20.001401\n"));
}

static void build_info_and_escaping(void **state)
{
	(void)state;
	assert_non_null(strstr(scrape(), "\nsealdrop_build_info{version=\"1.2.3\"} 1\n"));
	sd_metrics_request("/we\"ird\\name\n", 200, 1);
	assert_int_equal(
	    sample("sealdrop_http_requests_total{route=\"/we\\\"ird\\\\name\\n\",code=\"200\"}"),
	    1);
}

static void names_past_the_slots_count_as_other(void **state)
{
	static char names[SD_METRICS_ROUTES + 4][16];

	(void)state;
	for (size_t i = 0; i < SD_ARRAY_LEN(names); i++) {
		snprintf(names[i], sizeof names[i], "/r%zu", i);
		sd_metrics_request(names[i], 200, 1);
	}
	/* /send and the odd name hold two slots; /r0.. take the rest, the last of
	 * which is "other" */
	assert_int_equal(sample("sealdrop_http_requests_total{route=\"/r0\",code=\"200\"}"), 1);
	assert_true(sample("sealdrop_http_requests_total{route=\"other\",code=\"200\"}") >= 4);
	sd_metrics_request("/send", 201, 1); /* an early name keeps its own slot */
	assert_int_equal(sample("sealdrop_http_requests_total{route=\"/send\",code=\"201\"}"), 3);
}

static void store_purge_and_batches(void **state)
{
	(void)state;
	sd_metrics_store_error(SD_OK);
	sd_metrics_store_error(SD_EDB);
	sd_metrics_store_error(SD_EDB);
	sd_metrics_store_error(SD_ERETRY);
	sd_metrics_store_connect_failed();
	sd_metrics_store_retry();
	assert_int_equal(sample("sealdrop_store_errors_total{kind=\"db\"}"), 2);
	assert_int_equal(sample("sealdrop_store_errors_total{kind=\"retry\"}"), 1);
	assert_int_equal(sample("sealdrop_store_errors_total{kind=\"connect\"}"), 1);
	assert_int_equal(sample("sealdrop_store_errors_total{kind=\"conflict\"}"), 0);
	assert_int_equal(sample("sealdrop_store_retries_total"), 1);
	sd_metrics_commit_batch(1);
	sd_metrics_commit_batch(3);
	sd_metrics_commit_batch(1000);
	assert_int_equal(sample("sealdrop_sqlite_commit_batch_size_bucket{le=\"1\"}"), 1);
	assert_int_equal(sample("sealdrop_sqlite_commit_batch_size_bucket{le=\"2\"}"), 1);
	assert_int_equal(sample("sealdrop_sqlite_commit_batch_size_bucket{le=\"4\"}"), 2);
	assert_int_equal(sample("sealdrop_sqlite_commit_batch_size_bucket{le=\"+Inf\"}"), 3);
	assert_int_equal(sample("sealdrop_sqlite_commit_batch_size_count"), 3);
	assert_int_equal(sample("sealdrop_sqlite_commit_batch_size_sum"), 1004);
	sd_metrics_purge_round(1, 0);
	sd_metrics_purge_round(1, 500);
	sd_metrics_purge_round(0, 20);
	assert_int_equal(sample("sealdrop_purge_runs_total"), 3);
	assert_int_equal(sample("sealdrop_purge_failures_total"), 1);
	assert_int_equal(sample("sealdrop_purge_deleted_messages_total"), 520);
}

static void gauges_unknown_are_left_out(void **state)
{
	struct sd_metrics_gauges g = {1, 7, 30, 4096, -1, -1, 1700000000};

	(void)state;
	assert_int_equal(sample("sealdrop_store_up"), 0); /* before any refresh */
	assert_null(strstr(scrape(), "sealdrop_inboxes"));
	sd_metrics_gauges_set(&g);
	assert_int_equal(sample("sealdrop_store_up"), 1);
	assert_int_equal(sample("sealdrop_inboxes"), 7);
	assert_int_equal(sample("sealdrop_messages"), 30);
	assert_int_equal(sample("sealdrop_stored_bytes"), 4096);
	assert_int_equal(sample("sealdrop_totals_refresh_timestamp_seconds"), 1700000000);
	assert_null(strstr(scrape(), "sealdrop_disk_free_bytes"));
	g.disk_free_bytes = 1000;
	g.disk_size_bytes = 5000;
	sd_metrics_gauges_set(&g);
	assert_int_equal(sample("sealdrop_disk_free_bytes"), 1000);
	assert_int_equal(sample("sealdrop_disk_size_bytes"), 5000);
}

static void every_family_is_typed_before_its_samples(void **state)
{
	const char *t = scrape(), *line = t;
	char typed[64][96];
	int ntyped = 0;

	(void)state;
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		char name[96];
		int found = 0;

		assert_non_null(nl);
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%95s", typed[ntyped]), 1);
			ntyped++;
		} else if (line[0] != '#') {
			size_t n = strcspn(line, "{ ");

			assert_true(n < sizeof name);
			memcpy(name, line, n);
			name[n] = '\0';
			for (int i = 0; i < ntyped && !found; i++) {
				size_t l = strlen(typed[i]);

				found = strncmp(name, typed[i], l) == 0 &&
				        (name[l] == '\0' || strcmp(name + l, "_bucket") == 0 ||
				         strcmp(name + l, "_sum") == 0 ||
				         strcmp(name + l, "_count") == 0);
			}
			assert_true(found);
		}
		line = nl + 1;
	}
	assert_true(ntyped >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(requests_by_route_and_status),
	    cmocka_unit_test(build_info_and_escaping),
	    cmocka_unit_test(names_past_the_slots_count_as_other),
	    cmocka_unit_test(store_purge_and_batches),
	    cmocka_unit_test(gauges_unknown_are_left_out),
	    cmocka_unit_test(every_family_is_typed_before_its_samples),
	};
	int rc = cmocka_run_group_tests_name("metrics", tests, NULL, NULL);

	sd_buf_free(&text);
	return rc;
}
