/* receipt and answer: the sender's side of a receipt (docs/RECEIPTS.md).
 * The receipt link BASE/r#R.K is all the sender keeps: auth, the reply key
 * pair and so everything else is derived from R; K pins the inbox's key
 * (the old form BASE/r#R has none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/api.h"
#include "client/b64.h"
#include "client/commands.h"
#include "client/envelope.h"
#include "client/jsonv.h"
#include "client/link.h"
#include "client/reply.h"
#include "client/text.h"

struct receipt {
	char server[IDENTITY_SERVER_MAX + 1];
	unsigned char r[RECEIPT_BYTES];
	struct receipt_keys keys;
	char auth[B64_URL_SIZE(RECEIPT_BYTES)];
	unsigned char inbox_key[crypto_box_PUBLICKEYBYTES]; /* K, when has_key */
	int has_key;
};

static void receipt_wipe(struct receipt *rc)
{
	sodium_memzero(rc, sizeof *rc);
}

/* R, or R.K: 43 base64url characters each. */
static int receipt_fragment_take(const char *frag, struct receipt *out)
{
	char r_text[RECEIPT_B64_LEN + 1];
	size_t n, len = strlen(frag);

	if (len != RECEIPT_B64_LEN &&
	    (len != 2 * RECEIPT_B64_LEN + 1 || frag[RECEIPT_B64_LEN] != '.'))
		return -1;
	memcpy(r_text, frag, RECEIPT_B64_LEN);
	r_text[RECEIPT_B64_LEN] = '\0';
	if (b64_url_decode(r_text, out->r, sizeof out->r, &n) != 0 || n != RECEIPT_BYTES) {
		sodium_memzero(r_text, sizeof r_text);
		return -1;
	}
	sodium_memzero(r_text, sizeof r_text);
	if (len == RECEIPT_B64_LEN)
		return 0;
	if (b64_url_decode(frag + RECEIPT_B64_LEN + 1, out->inbox_key, sizeof out->inbox_key, &n) !=
	        0 ||
	    n != sizeof out->inbox_key)
		return -1;
	out->has_key = 1;
	return 0;
}

/* "BASE/r#R.K" or "BASE/r#R": the server before the last "/r#". */
static int receipt_parse(const char *arg, struct receipt *out)
{
	const char *mark = NULL, *p = arg;
	char base[IDENTITY_SERVER_MAX + 1];

	memset(out, 0, sizeof *out);
	while ((p = strstr(p, "/r#")) != NULL)
		mark = p++;
	if (mark == NULL || (size_t)(mark - arg) > IDENTITY_SERVER_MAX ||
	    receipt_fragment_take(mark + 3, out) != 0) {
		sodium_memzero(out, sizeof *out);
		cli_err("not a receipt (BASE/r#SECRET.KEY, as 'sealdrop send' printed it)");
		return CLI_EUSAGE;
	}
	memcpy(base, arg, (size_t)(mark - arg));
	base[mark - arg] = '\0';
	if (link_server_normalize(base, out->server, sizeof out->server) != 0) {
		cli_err("the receipt's server is not an http:// or https:// URL");
		return CLI_EUSAGE;
	}
	if (receipt_derive(out->r, &out->keys) != 0) {
		cli_err("cannot derive the receipt's keys");
		return CLI_EINTERNAL;
	}
	b64_url_encode(out->keys.auth, sizeof out->keys.auth, out->auth, sizeof out->auth);
	return CLI_OK;
}

/* Look the receipt up: the checked answer into *v (borrowing from *r). With
 * a link, the answer must be about its inbox. */
static int receipt_lookup(const struct receipt *rc, const struct link_parts *link,
                          struct http_reply *r, struct receipt_reply *v)
{
	int code;

	if ((code = api_receipt_post(rc->server, rc->auth, r)) != CLI_OK)
		return code;
	if (reply_receipt_take(r->json, v) != 0) {
		http_reply_free(r);
		return CLI_ESERVER;
	}
	if (link != NULL && strcmp(v->link_token, link->token) != 0) {
		cli_err("receipt: the server answered about another inbox than the link's");
		http_reply_free(r);
		return CLI_ESERVER;
	}
	return CLI_OK;
}

/* Open a reply: sealed to our reply key, an envelope without a key. The
 * text points into *plain (the caller wipes and frees it); -1 when it
 * does not open or is not such an envelope. */
static int receipt_reply_open(const struct receipt *rc, json_object *m, unsigned char **plain,
                              size_t *plen, const unsigned char **text, size_t *len)
{
	static unsigned char raw[ENVELOPE_SEALED_MAX];
	const unsigned char *key;
	size_t n;

	*plain = NULL;
	*plen = 0;
	/* reply_receipt_take saw it decode to a bucket. */
	if (b64_std_decode(jsonv_str_get(m, "encrypted_reply"), raw, sizeof raw, &n) != 0 ||
	    n < crypto_box_SEALBYTES || (*plain = malloc(n - crypto_box_SEALBYTES)) == NULL)
		return -1;
	*plen = n - crypto_box_SEALBYTES;
	if (crypto_box_seal_open(*plain, raw, n, rc->keys.reply_pk, rc->keys.reply_sk) != 0 ||
	    envelope_open(*plain, *plen, text, len, &key) != ENVELOPE_OPENED || key != NULL) {
		sodium_memzero(*plain, *plen);
		free(*plain);
		*plain = NULL;
		return -1;
	}
	return 0;
}

/* A time of the answer (unix seconds, reply_time_valid) in UTC. */
static void receipt_time_print(json_object *t)
{
	time_t when = (time_t)json_object_get_int64(t);
	char buf[32];
	struct tm tm;

	if (gmtime_r(&when, &tm) != NULL &&
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		fputs(buf, stdout);
	else
		printf("%lld", (long long)when);
}

static json_object *receipt_member(json_object *o, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, name, &v);
	return v;
}

/* Show the receipt: text, or with json one object. Returns how many
 * replies did not open. */
static int receipt_show(const struct receipt *rc, const struct receipt_reply *v, int json)
{
	json_object *out = json ? json_object_new_object() : NULL, *list = NULL, *m, *o;
	const unsigned char *text;
	unsigned char *plain;
	size_t plen, len;
	int unreadable = 0;

	if (json) {
		json_object_object_add(out, "link_token", json_object_new_string(v->link_token));
		json_object_object_add(out, "thread_id", json_object_new_int64(v->thread_id));
		json_object_object_add(out, "status", json_object_new_string(v->status));
		json_object_object_add(out, "status_released_at", json_object_get(v->released_at));
		list = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(v->messages); i++) {
			m = json_object_array_get_idx(v->messages, i);
			o = json_object_new_object();
			json_object_object_add(o, "id", json_object_get(receipt_member(m, "id")));
			json_object_object_add(o, "status",
			                       json_object_get(receipt_member(m, "status")));
			json_object_object_add(o, "created_at",
			                       json_object_get(receipt_member(m, "created_at")));
			json_object_array_add(list, o);
		}
		json_object_object_add(out, "messages", list);
		list = json_object_new_array();
		json_object_object_add(out, "replies", list);
	} else {
		printf("thread #%lld: %s (as of ", (long long)v->thread_id, v->status);
		receipt_time_print(v->released_at);
		fputs(")\n", stdout);
		for (size_t i = 0; i < json_object_array_length(v->messages); i++) {
			m = json_object_array_get_idx(v->messages, i);
			printf("message #%s: %s, sent ",
			       json_object_get_string(receipt_member(m, "id")),
			       jsonv_str_get(m, "status"));
			receipt_time_print(receipt_member(m, "created_at"));
			fputc('\n', stdout);
		}
	}
	for (size_t i = 0; i < json_object_array_length(v->replies); i++) {
		int ok;

		m = json_object_array_get_idx(v->replies, i);
		ok = receipt_reply_open(rc, m, &plain, &plen, &text, &len) == 0;
		unreadable += !ok;
		if (json) {
			o = json_object_new_object();
			json_object_object_add(o, "id", json_object_get(receipt_member(m, "id")));
			json_object_object_add(o, "created_at",
			                       json_object_get(receipt_member(m, "created_at")));
			if (ok)
				json_object_object_add(
				    o, "text",
				    json_object_new_string_len((const char *)text, (int)len));
			else
				json_object_object_add(o, "error",
				                       json_object_new_string("unreadable"));
			json_object_array_add(list, o);
		} else {
			printf("--- reply #%s ", json_object_get_string(receipt_member(m, "id")));
			receipt_time_print(receipt_member(m, "created_at"));
			if (!ok) {
				fputs(": unreadable\n", stdout);
			} else {
				fputc('\n', stdout);
				text_body_write(stdout, text, len);
				if (len == 0 || text[len - 1] != '\n')
					fputc('\n', stdout);
			}
		}
		if (plain != NULL) {
			sodium_memzero(plain, plen);
			free(plain);
		}
	}
	if (json) {
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
		                                             JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
	}
	fflush(stdout);
	return unreadable;
}

int cmd_receipt(const struct cli_opts *o, int argc, char **argv)
{
	struct http_reply r = {0, NULL, 0};
	struct receipt_reply v;
	struct link_parts lp;
	struct receipt rc;
	const char *arg = NULL;
	int json = 0, has_link = 0, code, bad;

	(void)o;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--link") == 0 && i + 1 < argc) {
			if ((code = link_parse(argv[++i], &lp)) != CLI_OK)
				return code;
			has_link = 1;
		} else if (argv[i][0] != '-' && arg == NULL) {
			arg = argv[i];
		} else {
			return cli_usage_err(argv[0]);
		}
	}
	if (arg == NULL)
		return cli_usage_err(argv[0]);
	if ((code = receipt_parse(arg, &rc)) != CLI_OK)
		goto out;
	if ((code = receipt_lookup(&rc, has_link ? &lp : NULL, &r, &v)) != CLI_OK)
		goto out;
	if ((bad = receipt_show(&rc, &v, json)) > 0) {
		cli_err("%d repl%s could not be opened", bad, bad == 1 ? "y" : "ies");
		code = CLI_EDATA;
	}
	http_reply_free(&r);
out:
	receipt_wipe(&rc);
	return code;
}

int cmd_answer(const struct cli_opts *o, int argc, char **argv)
{
	unsigned char served[crypto_box_PUBLICKEYBYTES], *msg = NULL, *sealed = NULL;
	const char *pos[2] = {NULL, NULL};
	struct http_reply r = {0, NULL, 0};
	struct receipt_reply v;
	struct link_parts lp;
	struct receipt rc;
	char token[IDENTITY_TOKEN_MAX + 1];
	unsigned caps = 0;
	size_t len = 0, n = 0;
	int64_t id = 0;
	int npos = 0, has_link = 0, code;

	(void)o;
	memset(&rc, 0, sizeof rc);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc && npos < 2) {
			pos[npos++] = argv[++i];
		} else if (strcmp(argv[i], "--link") == 0 && i + 1 < argc) {
			if ((code = link_parse(argv[++i], &lp)) != CLI_OK)
				return code;
			has_link = 1;
		} else if ((argv[i][0] == '-' && strcmp(argv[i], "-") != 0) || npos == 2) {
			return cli_usage_err(argv[0]);
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos == 0)
		return cli_usage_err(argv[0]);
	if ((code = receipt_parse(pos[0], &rc)) != CLI_OK)
		goto out;
	if ((code = send_message_read(pos[1], &msg, &len)) != CLI_OK)
		goto out;
	if (len == 0) {
		cli_err("the message is empty; nothing sent");
		code = CLI_EUSAGE;
		goto out;
	}
	/* The inbox comes from the receipt; its key from the server, checked
	 * against the link's when one is given. */
	if ((code = receipt_lookup(&rc, has_link ? &lp : NULL, &r, &v)) != CLI_OK)
		goto out;
	snprintf(token, sizeof token, "%s", v.link_token);
	http_reply_free(&r);
	if ((code = api_key_get(rc.server, token, served, &caps)) != CLI_OK)
		goto out;
	if (has_link && lp.has_key && sodium_memcmp(served, lp.key, sizeof served) != 0) {
		cli_err("the server serves a different key than the link names: not sending");
		code = CLI_EDATA;
		goto out;
	}
	/* The key the first message was sealed to: a server that serves its
	 * own now would read the answer and its reply key. */
	if (rc.has_key && sodium_memcmp(served, rc.inbox_key, sizeof served) != 0) {
		cli_err("the server serves a different key than the receipt names: not sending");
		code = CLI_EDATA;
		goto out;
	}
	if (!rc.has_key)
		cli_err("warning: this receipt does not pin the inbox's key (BASE/r#R, without "
		        ".KEY): sealing to the key the server serves");
	/* The same reply key: the owner's replies reach this receipt. */
	if ((code = send_seal(msg, len, (caps & API_CAP_ENVELOPE) != 0, rc.keys.reply_pk,
	                      rc.has_key ? rc.inbox_key : served, &sealed, &n)) != CLI_OK)
		goto out;
	if ((code = api_answer_post(rc.server, rc.auth, sealed, n, &id)) == CLI_OK)
		printf("sent (id %lld)\n", (long long)id);
out:
	send_message_free(msg);
	free(sealed);
	receipt_wipe(&rc);
	return code;
}
