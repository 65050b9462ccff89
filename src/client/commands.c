/* The commands. Each returns an exit code; errors are printed where they
 * happen. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/commands.h"
#include "core/b64.h"

#define PLAIN_MAX (16 * 1024 - 48)

static int need_inbox(const struct identity *id)
{
	if (id->server[0] == '\0') {
		cli_err("this identity has no inbox yet: run 'sealdrop register --server URL'");
		return EX_USAGE_;
	}
	return EX_OK_;
}

/* Load the identity and, when want_keys, unlock it. */
static int open_identity(const struct cli_opts *o, struct identity *id, struct secret_keys *sk,
                         int want_keys)
{
	char *pass;
	int rc = identity_load(o->identity, id);

	if (rc != EX_OK_ || !want_keys)
		return rc;
	pass = passphrase_get(o->pass_file, 0);
	if (pass == NULL) {
		identity_free(id);
		return EX_USAGE_;
	}
	rc = identity_unlock(id, pass, sk);
	passphrase_free(pass);
	if (rc != EX_OK_)
		identity_free(id);
	return rc;
}

int cmd_init(const struct cli_opts *o, int argc, char **argv)
{
	int force = argc > 1 && strcmp(argv[1], "--force") == 0;
	char *pass;
	int rc;

	if (argc > 1 + force) {
		cli_err("usage: sealdrop init [--force]");
		return EX_USAGE_;
	}
	pass = passphrase_get(o->pass_file, 1);
	if (pass == NULL)
		return EX_USAGE_;
	rc = identity_create(o->identity, pass, force);
	passphrase_free(pass);
	if (rc == EX_OK_)
		printf("identity written to %s\n", o->identity);
	return rc;
}

int cmd_register(const struct cli_opts *o, int argc, char **argv)
{
	const char *server = NULL, *name = NULL;
	char url[600], pk[SD_B64_LEN(32) + 1], box[SD_B64_LEN(32) + 1], link[900];
	struct identity id;
	struct http_reply r;
	json_object *body, *v;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			server = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else {
			cli_err("usage: sealdrop register --server URL [--name NAME]");
			return EX_USAGE_;
		}
	}
	if (server == NULL ||
	    (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)) {
		cli_err("usage: sealdrop register --server URL [--name NAME]");
		return EX_USAGE_;
	}
	if ((rc = open_identity(o, &id, NULL, 0)) != EX_OK_)
		return rc;
	snprintf(url, sizeof url, "%.500s", server);
	while (strlen(url) > 0 && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	sd_b64_encode(id.public_key, 32, pk);
	sd_b64_encode(id.box_public, 32, box);
	body = json_object_new_object();
	json_object_object_add(body, "public_key", json_object_new_string(pk));
	json_object_object_add(body, "box_public_key", json_object_new_string(box));
	json_object_object_add(body, "key_type", json_object_new_string("ed25519"));
	if (name != NULL)
		json_object_object_add(body, "display_name", json_object_new_string(name));
	{
		char reg[640];
		snprintf(reg, sizeof reg, "%s/register", url);
		rc = http_json("POST", reg, body, NULL, &r);
	}
	json_object_put(body);
	if (rc != EX_OK_)
		goto out;
	if ((rc = api_status("register", &r)) == EX_OK_) {
		if (r.json == NULL || !json_object_object_get_ex(r.json, "link_token", &v)) {
			cli_err("register: the server's answer has no link token");
			rc = EX_SERVER_;
		} else {
			rc = identity_set_inbox(o->identity, &id, url, json_object_get_string(v),
			                        name);
			if (rc == EX_OK_) {
				identity_link(&id, link, sizeof link);
				printf("%s\n", link);
			}
		}
	}
	http_reply_free(&r);
out:
	identity_free(&id);
	return rc;
}

int cmd_link(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	char link[900];
	int rc;

	(void)argv;
	if (argc != 1) {
		cli_err("usage: sealdrop link");
		return EX_USAGE_;
	}
	if ((rc = open_identity(o, &id, NULL, 0)) != EX_OK_)
		return rc;
	if ((rc = need_inbox(&id)) == EX_OK_) {
		identity_link(&id, link, sizeof link);
		printf("%s\n", link);
	}
	identity_free(&id);
	return rc;
}

/* The message to send: the argument, or stdin for "-" or no argument. */
static char *read_message(int argc, char **argv, size_t *len)
{
	char *buf = malloc(PLAIN_MAX + 2);
	size_t n = 0, got;

	if (buf == NULL)
		return NULL;
	if (argc >= 3 && strcmp(argv[2], "-") != 0) {
		n = strlen(argv[2]);
		if (n > PLAIN_MAX)
			n = PLAIN_MAX + 1;
		else
			memcpy(buf, argv[2], n);
	} else {
		while ((got = fread(buf + n, 1, PLAIN_MAX + 1 - n, stdin)) > 0 && n <= PLAIN_MAX)
			n += got;
	}
	if (n > PLAIN_MAX) {
		cli_err("the message is longer than %d bytes", PLAIN_MAX);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int cmd_send(const struct cli_opts *o, int argc, char **argv)
{
	struct link_parts lp;
	struct http_reply r;
	char url[800], ct_b64[SD_B64_LEN(PLAIN_MAX + 48) + 1];
	unsigned char served[32], *ct = NULL;
	const char *s;
	json_object *v, *body;
	size_t len = 0, n;
	char *msg = NULL;
	int rc;

	(void)o;
	if (argc < 2 || argc > 3) {
		cli_err("usage: sealdrop send LINK [TEXT|-]");
		return EX_USAGE_;
	}
	if ((rc = link_parse(argv[1], &lp)) != EX_OK_)
		return rc;
	snprintf(url, sizeof url, "%s/key/%s", lp.server, lp.token);
	if ((rc = http_json("GET", url, NULL, NULL, &r)) != EX_OK_)
		return rc;
	if ((rc = api_status("key", &r)) != EX_OK_)
		goto out;
	if (r.json == NULL || !json_object_object_get_ex(r.json, "box_public_key", &v) ||
	    (s = json_object_get_string(v)) == NULL ||
	    sd_b64_decode(s, strlen(s), served, sizeof served, &n) != 0 || n != 32) {
		cli_err("key: the server's answer has no usable key");
		rc = EX_SERVER_;
		goto out;
	}
	if (lp.has_key && sodium_memcmp(served, lp.key, 32) != 0) {
		cli_err("the server serves a different key than the link names: not sending");
		rc = EX_DATA_;
		goto out;
	}
	if ((msg = read_message(argc, argv, &len)) == NULL) {
		rc = EX_USAGE_;
		goto out;
	}
	ct = malloc(len + crypto_box_SEALBYTES);
	if (ct == NULL ||
	    crypto_box_seal(ct, (unsigned char *)msg, len, lp.has_key ? lp.key : served) != 0) {
		cli_err("cannot seal the message");
		rc = EX_DATA_;
		goto out;
	}
	sd_b64_encode(ct, len + crypto_box_SEALBYTES, ct_b64);
	http_reply_free(&r);
	body = json_object_new_object();
	json_object_object_add(body, "link_token", json_object_new_string(lp.token));
	json_object_object_add(body, "encrypted_message", json_object_new_string(ct_b64));
	snprintf(url, sizeof url, "%s/send", lp.server);
	rc = http_json("POST", url, body, NULL, &r);
	json_object_put(body);
	if (rc != EX_OK_)
		goto out;
	if ((rc = api_status("send", &r)) == EX_OK_ && json_object_object_get_ex(r.json, "id", &v))
		printf("sent (id %lld)\n", (long long)json_object_get_int64(v));
out:
	if (msg != NULL) {
		sodium_memzero(msg, len);
		free(msg);
	}
	free(ct);
	http_reply_free(&r);
	return rc;
}

/* ---- reading --------------------------------------------------------- */

struct reader {
	const struct identity *id;
	const struct secret_keys *sk;
	int json;
	int watch;     /* show each message once only */
	int bad;       /* messages that did not decrypt */
	int printed;   /* for --json commas */
	int64_t *seen; /* watch: ids already shown */
	size_t nseen, capseen;
	int64_t *ids; /* ack --all: collected ids */
	size_t nids, capids;
};

static int already_seen(struct reader *rd, int64_t id)
{
	for (size_t i = 0; i < rd->nseen; i++)
		if (rd->seen[i] == id)
			return 1;
	if (rd->nseen == rd->capseen) {
		size_t cap = rd->capseen ? rd->capseen * 2 : 64;
		int64_t *p = realloc(rd->seen, cap * sizeof *p);
		if (p == NULL)
			return 0;
		rd->seen = p;
		rd->capseen = cap;
	}
	rd->seen[rd->nseen++] = id;
	return 0;
}

static void show(struct reader *rd, json_object *m)
{
	json_object *v;
	const char *ct = "", *when = "";
	int64_t id = 0;
	int seen = 0;
	unsigned char *raw = NULL, *plain = NULL;
	size_t n = 0;

	if (json_object_object_get_ex(m, "id", &v))
		id = json_object_get_int64(v);
	if (json_object_object_get_ex(m, "encrypted_message", &v))
		ct = json_object_get_string(v);
	if (json_object_object_get_ex(m, "created_at", &v))
		when = json_object_get_string(v);
	if (json_object_object_get_ex(m, "seen", &v))
		seen = json_object_get_boolean(v);
	if (rd->watch && already_seen(rd, id))
		return;
	raw = malloc(strlen(ct) + 3);
	if (raw != NULL && sd_b64_decode(ct, strlen(ct), raw, strlen(ct) + 3, &n) == 0 &&
	    n >= crypto_box_SEALBYTES && (plain = malloc(n - crypto_box_SEALBYTES + 1)) != NULL &&
	    crypto_box_seal_open(plain, raw, n, rd->id->box_public, rd->sk->box_sk) == 0) {
		size_t plen = n - crypto_box_SEALBYTES;
		if (rd->json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_int64(id));
			json_object_object_add(o, "created_at", json_object_new_string(when));
			json_object_object_add(o, "seen", json_object_new_boolean(seen));
			json_object_object_add(
			    o, "text", json_object_new_string_len((char *)plain, (int)plen));
			printf("%s%s", rd->printed++ ? ",\n" : "",
			       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else {
			printf("--- #%lld %s%s\n", (long long)id, when, seen ? " (seen)" : "");
			fwrite(plain, 1, plen, stdout);
			printf("\n");
		}
		sodium_memzero(plain, plen);
	} else {
		rd->bad++;
		if (rd->json)
			printf("%s{\"id\":%lld,\"error\":\"cannot decrypt\"}",
			       rd->printed++ ? ",\n" : "", (long long)id);
		else
			printf("--- #%lld %s: cannot decrypt\n", (long long)id, when);
	}
	fflush(stdout);
	free(raw);
	free(plain);
}

static void collect_id(struct reader *rd, json_object *m)
{
	json_object *v;

	if (!json_object_object_get_ex(m, "id", &v))
		return;
	if (rd->nids == rd->capids) {
		size_t cap = rd->capids ? rd->capids * 2 : 256;
		int64_t *p = realloc(rd->ids, cap * sizeof *p);
		if (p == NULL)
			return;
		rd->ids = p;
		rd->capids = cap;
	}
	rd->ids[rd->nids++] = json_object_get_int64(v);
}

/* Unlock the identity for reading; reader_close undoes it. */
static int reader_open(const struct cli_opts *o, struct identity *id, struct secret_keys *sk,
                       struct reader *rd)
{
	int rc = open_identity(o, id, sk, 1);

	if (rc != EX_OK_)
		return rc;
	if ((rc = need_inbox(id)) != EX_OK_) {
		sodium_memzero(sk, sizeof *sk);
		identity_free(id);
		return rc;
	}
	memset(rd, 0, sizeof *rd);
	rd->id = id;
	rd->sk = sk;
	return EX_OK_;
}

static void reader_close(struct identity *id, struct secret_keys *sk, struct reader *rd)
{
	free(rd->seen);
	free(rd->ids);
	sodium_memzero(sk, sizeof *sk);
	identity_free(id);
}

/* Fetch every page (a signed challenge each) and hand each message to fn. */
static int fetch_pages(struct reader *rd, int include_seen,
                       void (*fn)(struct reader *, json_object *))
{
	char url[600];
	int64_t before = 0;
	int rc = EX_OK_;

	snprintf(url, sizeof url, "%s/fetch", rd->id->server);
	for (;;) {
		json_object *body = json_object_new_object(), *data, *more, *cursor;
		struct http_reply r;

		json_object_object_add(body, "link_token",
		                       json_object_new_string(rd->id->link_token));
		json_object_object_add(body, "include_seen", json_object_new_boolean(include_seen));
		json_object_object_add(body, "limit", json_object_new_int(200));
		if (before > 0)
			json_object_object_add(body, "before_id", json_object_new_int64(before));
		if ((rc = api_sign_into(rd->id, rd->sk, body)) != EX_OK_ ||
		    (rc = http_json("POST", url, body, NULL, &r)) != EX_OK_) {
			json_object_put(body);
			return rc;
		}
		json_object_put(body);
		if ((rc = api_status("fetch", &r)) != EX_OK_) {
			http_reply_free(&r);
			return rc;
		}
		if (r.json != NULL && json_object_object_get_ex(r.json, "data", &data) &&
		    json_object_is_type(data, json_type_array))
			for (size_t i = 0; i < json_object_array_length(data); i++)
				fn(rd, json_object_array_get_idx(data, i));
		before = 0;
		if (r.json != NULL && json_object_object_get_ex(r.json, "has_more", &more) &&
		    json_object_get_boolean(more) &&
		    json_object_object_get_ex(r.json, "next_cursor", &cursor))
			before = json_object_get_int64(cursor);
		http_reply_free(&r);
		if (before <= 0)
			return EX_OK_;
	}
}

int cmd_fetch(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	struct secret_keys sk;
	struct reader rd;
	int all = 0, json = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else {
			cli_err("usage: sealdrop fetch [--all] [--json]");
			return EX_USAGE_;
		}
	}
	if ((rc = reader_open(o, &id, &sk, &rd)) != EX_OK_)
		return rc;
	rd.json = json;
	if (json)
		printf("[");
	rc = fetch_pages(&rd, all, show);
	if (json)
		printf("]\n");
	if (rc == EX_OK_ && rd.bad > 0) {
		cli_err("%d message(s) could not be decrypted", rd.bad);
		rc = EX_DATA_;
	}
	reader_close(&id, &sk, &rd);
	return rc;
}

static volatile sig_atomic_t watching = 1;

static void stop_watch(int sig)
{
	(void)sig;
	watching = 0;
}

int cmd_watch(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	struct secret_keys sk;
	struct reader rd;
	long interval = 15;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			char *end;
			interval = strtol(argv[++i], &end, 10);
			if (*end != '\0' || interval < 1 || interval > 86400) {
				cli_err("--interval wants 1..86400 seconds");
				return EX_USAGE_;
			}
		} else {
			cli_err("usage: sealdrop watch [--interval SECONDS]");
			return EX_USAGE_;
		}
	}
	if ((rc = reader_open(o, &id, &sk, &rd)) != EX_OK_)
		return rc;
	rd.watch = 1;
	signal(SIGINT, stop_watch);
	signal(SIGTERM, stop_watch);
	while (watching) {
		rc = fetch_pages(&rd, 0, show);
		if (rc == EX_AUTH_ || rc == EX_USAGE_)
			break;
		for (long s = 0; s < interval && watching; s++)
			sleep(1);
	}
	if (!watching)
		rc = EX_OK_;
	reader_close(&id, &sk, &rd);
	return rc;
}

/* ---- acknowledging ---------------------------------------------------- */

static int parse_ids(int argc, char **argv, int first, int64_t **ids, size_t *n)
{
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	for (int i = first; i < argc; i++) {
		char *s = argv[i], *end;

		while (*s) {
			long long v;

			if (*s == ',' || *s == ' ') {
				s++;
				continue;
			}
			v = strtoll(s, &end, 10);
			if (end == s || v < 1 || (*end && *end != ',' && *end != ' ')) {
				cli_err("message ids are positive integers, e.g. 12,13");
				free(*ids);
				return EX_USAGE_;
			}
			if (*n == cap) {
				int64_t *p;
				cap = cap ? cap * 2 : 16;
				p = realloc(*ids, cap * sizeof *p);
				if (p == NULL) {
					free(*ids);
					return EX_USAGE_;
				}
				*ids = p;
			}
			(*ids)[(*n)++] = v;
			s = end;
		}
	}
	return EX_OK_;
}

int cmd_ack(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	struct secret_keys sk;
	struct reader rd;
	int all = 0, del = 0, rc, first = argc;
	int64_t *ids = NULL, total = 0;
	size_t n = 0;
	char url[600];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(argv[i], "--delete") == 0)
			del = 1;
		else if (argv[i][0] == '-') {
			cli_err("usage: sealdrop ack IDS|--all [--delete]");
			return EX_USAGE_;
		} else if (first == argc)
			first = i;
	}
	if (!all) {
		char *rest[64];
		int k = 0;
		for (int i = first; i < argc && k < 64; i++)
			if (argv[i][0] != '-')
				rest[k++] = argv[i];
		if ((rc = parse_ids(k, rest, 0, &ids, &n)) != EX_OK_)
			return rc;
		if (n == 0) {
			cli_err("usage: sealdrop ack IDS|--all [--delete]");
			return EX_USAGE_;
		}
	}
	if ((rc = reader_open(o, &id, &sk, &rd)) != EX_OK_) {
		free(ids);
		return rc;
	}
	if (all) {
		if ((rc = fetch_pages(&rd, del, collect_id)) != EX_OK_)
			goto out;
		ids = rd.ids;
		n = rd.nids;
		rd.ids = NULL; /* freed below as ids */
	}
	snprintf(url, sizeof url, "%s/ack", id.server);
	for (size_t off = 0; off < n; off += 1000) {
		json_object *body = json_object_new_object(), *arr = json_object_new_array(), *v;
		struct http_reply r;

		for (size_t i = off; i < n && i < off + 1000; i++)
			json_object_array_add(arr, json_object_new_int64(ids[i]));
		json_object_object_add(body, "link_token", json_object_new_string(id.link_token));
		json_object_object_add(body, "message_ids", arr);
		json_object_object_add(body, "delete", json_object_new_boolean(del));
		if ((rc = api_sign_into(&id, &sk, body)) != EX_OK_ ||
		    (rc = http_json("POST", url, body, NULL, &r)) != EX_OK_) {
			json_object_put(body);
			goto out;
		}
		json_object_put(body);
		rc = api_status("ack", &r);
		if (rc == EX_OK_ && json_object_object_get_ex(r.json, "count", &v))
			total += json_object_get_int64(v);
		http_reply_free(&r);
		if (rc != EX_OK_)
			goto out;
	}
	printf("%lld message(s) %s\n", (long long)total, del ? "deleted" : "marked as seen");
out:
	free(ids);
	reader_close(&id, &sk, &rd);
	return rc;
}

/* ---- account ---------------------------------------------------------- */

static int signed_call(const struct cli_opts *o, const char *path, struct identity *id,
                       struct http_reply *r)
{
	struct secret_keys sk;
	json_object *body;
	char url[600];
	int rc;

	if ((rc = open_identity(o, id, &sk, 1)) != EX_OK_)
		return rc;
	if ((rc = need_inbox(id)) != EX_OK_)
		goto out;
	body = json_object_new_object();
	json_object_object_add(body, "link_token", json_object_new_string(id->link_token));
	snprintf(url, sizeof url, "%s%s", id->server, path);
	if ((rc = api_sign_into(id, &sk, body)) == EX_OK_ &&
	    (rc = http_json("POST", url, body, NULL, r)) == EX_OK_) {
		rc = api_status(path + 1, r);
		if (rc != EX_OK_)
			http_reply_free(r);
	}
	json_object_put(body);
out:
	sodium_memzero(&sk, sizeof sk);
	if (rc != EX_OK_)
		identity_free(id);
	return rc;
}

int cmd_rotate_token(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	struct http_reply r;
	json_object *v;
	int rc;

	(void)argv;
	if (argc != 1) {
		cli_err("usage: sealdrop rotate-token");
		return EX_USAGE_;
	}
	if ((rc = signed_call(o, "/rotate_token", &id, &r)) != EX_OK_)
		return rc;
	if (json_object_object_get_ex(r.json, "fetch_token", &v))
		printf("%s\n", json_object_get_string(v));
	http_reply_free(&r);
	identity_free(&id);
	return EX_OK_;
}

int cmd_unregister(const struct cli_opts *o, int argc, char **argv)
{
	struct identity id;
	struct http_reply r;
	int rc;

	(void)argv;
	if (argc != 1) {
		cli_err("usage: sealdrop unregister");
		return EX_USAGE_;
	}
	if ((rc = signed_call(o, "/unregister", &id, &r)) != EX_OK_)
		return rc;
	http_reply_free(&r);
	rc = identity_set_inbox(o->identity, &id, NULL, NULL, NULL);
	if (rc == EX_OK_)
		printf("inbox erased\n");
	identity_free(&id);
	return rc;
}

static int copy_cmd(const struct cli_opts *o, int argc, char **argv, int export)
{
	int force = argc == 3 && strcmp(argv[2], "--force") == 0;
	char *pass;
	int rc;

	if (argc != 2 + force) {
		cli_err("usage: sealdrop %s FILE [--force]", export ? "export" : "import");
		return EX_USAGE_;
	}
	pass = passphrase_get(o->pass_file, 0);
	if (pass == NULL)
		return EX_USAGE_;
	rc = export ? identity_copy(o->identity, argv[1], pass, force)
	            : identity_copy(argv[1], o->identity, pass, force);
	passphrase_free(pass);
	if (rc == EX_OK_)
		printf("%s\n", export ? argv[1] : o->identity);
	return rc;
}

int cmd_export(const struct cli_opts *o, int argc, char **argv)
{
	return copy_cmd(o, argc, argv, 1);
}

int cmd_import(const struct cli_opts *o, int argc, char **argv)
{
	return copy_cmd(o, argc, argv, 0);
}
