/* Live events: the query-string reader of GET /events, the channel id (a
 * vector computed with Python's hashlib.blake2b, the tests' independent
 * implementation), and the events key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/query.h"
#include "core/event_channel.h"
#include "server/events_key.h"

static void test_query_param(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(
	    api_query_param("a=1&link_token=link_x&b=2", "link_token", out, sizeof out), 6);
	assert_string_equal(out, "link_x");
	assert_int_equal(api_query_param("x=%2Fa+b%3d", "x", out, sizeof out), 5);
	assert_string_equal(out, "/a b=");
	/* The first of repeated names; a longer name is another parameter. */
	assert_int_equal(api_query_param("x=1&x=2", "x", out, sizeof out), 1);
	assert_string_equal(out, "1");
	assert_int_equal(api_query_param("xy=1", "x", out, sizeof out), -1);
	assert_int_equal(api_query_param("x=", "x", out, sizeof out), 0);
	assert_int_equal(api_query_param("x", "x", out, sizeof out), 0);
	assert_int_equal(api_query_param("", "x", out, sizeof out), -1);
	assert_int_equal(api_query_param(NULL, "x", out, sizeof out), -1);
	/* Bad escapes, a NUL byte and an overlong value are refused. */
	assert_int_equal(api_query_param("x=%G1", "x", out, sizeof out), -2);
	assert_int_equal(api_query_param("x=%4", "x", out, sizeof out), -2);
	assert_int_equal(api_query_param("x=ab%", "x", out, sizeof out), -2);
	assert_int_equal(api_query_param("x=%00", "x", out, sizeof out), -2);
	assert_int_equal(api_query_param("x=0123456789abcdef", "x", out, sizeof out), -2);
	assert_int_equal(api_query_param("x=0123456789abcde", "x", out, sizeof out), 15);
}

static void test_channel_id(void **state)
{
	unsigned char key[SD_EVENT_KEY_BYTES];
	char a[SD_EVENT_CHANNEL_HEX + 1], b[SD_EVENT_CHANNEL_HEX + 1];

	(void)state;
	for (int i = 0; i < SD_EVENT_KEY_BYTES; i++)
		key[i] = (unsigned char)i;
	assert_int_equal(sd_event_channel_on(), 0);
	sd_event_channel_set_key(key);
	assert_int_equal(sd_event_channel_on(), 1);
	sd_event_channel_id("link_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", a);
	assert_string_equal(a, "af10beed93910e40eca2778b00c5ac81c6b93b4f203ce8bb16708810f3195729");
	sd_event_channel_id("link_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", b);
	assert_string_not_equal(a, b);
	key[0] ^= 1;
	sd_event_channel_set_key(key);
	sd_event_channel_id("link_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", b);
	assert_string_not_equal(a, b);
}

/* Folded where the store matches any case (ASCII letters only: a link is
 * link_ and base64url), exact otherwise, never past the buffer. */
static void test_channel_link(void **state)
{
	char out[40], small[8];

	(void)state;
	sd_event_channel_link("link_aZ09-_Qq", 1, out, sizeof out);
	assert_string_equal(out, "link_az09-_qq");
	sd_event_channel_link("link_aZ09-_Qq", 0, out, sizeof out);
	assert_string_equal(out, "link_aZ09-_Qq");
	sd_event_channel_link("link_ABCDEFGH", 1, small, sizeof small);
	assert_string_equal(small, "link_ab");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/sd-unit-events-XXXXXX", path[128], err[256];
	unsigned char k1[SD_EVENT_KEY_BYTES], k2[SD_EVENT_KEY_BYTES];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/events.key", dir);
	/* Made at the first start, private, and the same key afterwards. */
	assert_int_equal(events_key_load(path, k1, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(events_key_load(path, k2, err, sizeof err), 0);
	assert_memory_equal(k1, k2, sizeof k1);
	/* An operator's file: 64 hex digits and a line end. */
	write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
	           0600);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), 0);
	assert_int_equal(k1[0], 0);
	assert_int_equal(k1[31], 31);
	/* Open to others or to its group, short, or not hex: refused. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	assert_non_null(strstr(err, "chmod 600"));
	write_file(path, "0011", 0600);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	write_file(path, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	           0600);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00\n",
	           0600);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	unlink(path);
	/* A FIFO or a directory in its place: refused at once, not waited on. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	assert_non_null(strstr(err, "regular file"));
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(events_key_load(path, k1, err, sizeof err), -1);
	assert_non_null(strstr(err, "regular file"));
	rmdir(path);
	assert_int_equal(rmdir(dir), 0);
}

/* A crash between writing the temporary key and linking it left a file
 * with this process's name for it (PID 1 again in a container): the next
 * start still makes its key, and clears the stale file away. */
static void test_key_file_after_a_crash(void **state)
{
	char dir[] = "/tmp/sd-unit-events-XXXXXX", path[128], stale[160], err[256];
	unsigned char k[SD_EVENT_KEY_BYTES];
	struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/events.key", dir);
	snprintf(stale, sizeof stale, "%s.new.%ld", path, (long)getpid());
	write_file(stale, "half", 0600);
	assert_int_equal(utimes(stale, old), 0);
	assert_int_equal(events_key_load(path, k, err, sizeof err), 0);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Instances starting at once (scripts/run --db galera, a cluster's first
 * boot) agree on one key: each writes its own and links it into place,
 * and whoever loses reads the winner's. */
static void test_key_file_race(void **state)
{
	char dir[] = "/tmp/sd-unit-events-XXXXXX", path[128], err[256];
	unsigned char mine[SD_EVENT_KEY_BYTES], theirs[SD_EVENT_KEY_BYTES];
	int pipes[8][2];
	pid_t pids[8];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/events.key", dir);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pipe(pipes[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			unsigned char k[SD_EVENT_KEY_BYTES];
			int ok = events_key_load(path, k, err, sizeof err) == 0 &&
			         write(pipes[i][1], k, sizeof k) == (ssize_t)sizeof k;

			_exit(ok ? 0 : 1);
		}
		close(pipes[i][1]);
	}
	for (int i = 0; i < 8; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_int_equal(read(pipes[i][0], i == 0 ? mine : theirs, sizeof mine),
		                 (ssize_t)sizeof mine);
		close(pipes[i][0]);
		if (i > 0)
			assert_memory_equal(mine, theirs, sizeof mine);
	}
	assert_int_equal(events_key_load(path, theirs, err, sizeof err), 0);
	assert_memory_equal(mine, theirs, sizeof mine);
	/* No temporary file is left behind: the directory empties. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_param),   cmocka_unit_test(test_channel_id),
	    cmocka_unit_test(test_channel_link),  cmocka_unit_test(test_key_file),
	    cmocka_unit_test(test_key_file_race), cmocka_unit_test(test_key_file_after_a_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
