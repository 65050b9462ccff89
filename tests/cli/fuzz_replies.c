/* libFuzzer: the command-line client's handling of what a server answers
 * and a sender writes, without a network (tests/cli/test_fuzz_replies.py
 * builds and runs it). The first byte picks what the rest is fed to:
 *   0  a /fetch page (ascending or descending): reply_page_take, then
 *      message_show on every message
 *      (text, JSON array, JSON lines), with a fixed identity's keys
 *   1  a purpose challenge reply: reply_challenge_take
 *   2  /fetch newest and /send replies: reply_newest_take, reply_sent_id_take
 *   3  a message body: text_body_write, whose output must be UTF-8 with no
 *      control character but newline and tab, no invisible format character
 *      and no line that starts with "---", also behind zero-width ones
 *   4  a link and a server URL: link_parse, link_origin
 * except that a first byte of 0xF0..0xF7 feeds a POST /receipt answer to
 * reply_receipt_take, and 0xF8..0xFF a plaintext to envelope_open.
 * Besides the sanitizers, each target checks what its function promises. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/b64.h"
#include "client/envelope.h"
#include "client/jsonv.h"
#include "client/link.h"
#include "client/message.h"
#include "client/reply.h"
#include "client/text.h"

#define ORIGIN "http://127.0.0.1:8080"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct session fuzz_session;

/* One identity for every run: seed 0x42 x 32 (the test seals its corpus
 * messages to it). Standard output goes nowhere. */
static void fuzz_init(void)
{
	static int done;
	unsigned char seed[crypto_sign_SEEDBYTES];

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0 || freopen("/dev/null", "w", stdout) == NULL)
		abort();
	memset(seed, 0x42, sizeof seed);
	fuzz_session.keys = sodium_malloc(sizeof *fuzz_session.keys);
	if (fuzz_session.keys == NULL)
		abort();
	crypto_sign_seed_keypair(fuzz_session.id.sign_pk, fuzz_session.keys->sign_sk, seed);
	if (crypto_sign_ed25519_pk_to_curve25519(fuzz_session.id.box_pk, fuzz_session.id.sign_pk) !=
	        0 ||
	    crypto_sign_ed25519_sk_to_curve25519(fuzz_session.keys->box_sk,
	                                         fuzz_session.keys->sign_sk) != 0)
		abort();
	snprintf(fuzz_session.origin, sizeof fuzz_session.origin, "%s", ORIGIN);
}

static void fuzz_page(json_object *o, int64_t after)
{
	static const enum message_format formats[] = {MESSAGE_TEXT, MESSAGE_JSON_ARRAY,
	                                              MESSAGE_JSON_LINES};
	json_object *list;
	int64_t next, id;
	int desc = after % 2, more = jsonv_bool_get(o, "has_more", 0);

	if (reply_page_take(o, desc, after, &list, &next) != 0) {
		if (list != NULL || next != 0)
			abort();
		return;
	}
	/* A cursor taken moves on: up when ascending, down when descending. */
	if (list == NULL || (!more && next != 0) || (more && !desc && next <= after) ||
	    (more && desc && (next < 1 || (after > 0 && next >= after))))
		abort();
	for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
		struct message_out out;

		message_out_begin(&out, formats[f]);
		for (size_t i = 0; i < json_object_array_length(list); i++)
			(void)message_show(&out, &fuzz_session, json_object_array_get_idx(list, i),
			                   &id);
		message_out_end(&out);
	}
}

static void fuzz_challenge(json_object *o)
{
	unsigned char raw[REPLY_CHALLENGE_BYTES];
	const char *c = reply_challenge_take(o, "delete", ORIGIN);

	if (c != NULL && (b64_std_decode_exact(c, raw, sizeof raw) != 0 ||
	                  strcmp(jsonv_str_get(o, "origin"), ORIGIN) != 0 ||
	                  strcmp(jsonv_str_get(o, "purpose"), "delete") != 0))
		abort();
}

static void fuzz_ids(json_object *o)
{
	int64_t id;

	if (reply_newest_take(o, &id) == 0 ? id < 0 || id == INT64_MAX : id != 0)
		abort();
	if (reply_sent_id_take(o, &id) == 0 ? id < 1 || id == INT64_MAX : id != 0)
		abort();
}

/* Invisible in a terminal, so never shown: format characters, separators,
 * fillers (the promise of text.h; listed here on their own). */
static int fuzz_hidden(uint32_t c)
{
	return c == 0xAD || c == 0x61C || c == 0x115F || c == 0x1160 || c == 0x200B ||
	       c == 0x200E || c == 0x200F || (c >= 0x2028 && c <= 0x202E) ||
	       (c >= 0x2060 && c <= 0x206F) || c == 0x3164 || c == 0xFEFF || c == 0xFFA0 ||
	       (c >= 0xE0000 && c <= 0xE007F);
}

/* Drawn with no width: may stand at a line's start, but not in front of ---. */
static int fuzz_zero_width(uint32_t c)
{
	return c == 0x200C || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) ||
	       (c >= 0x300 && c <= 0x36F);
}

/* The code point at t[0..n) of output that must be UTF-8, and its length. */
static size_t fuzz_utf8(const unsigned char *t, size_t n, uint32_t *c)
{
	size_t len = t[0] < 0x80 ? 1 : t[0] < 0xE0 ? 2 : t[0] < 0xF0 ? 3 : 4;

	if (len > n || (t[0] >= 0x80 && t[0] < 0xC2) || t[0] > 0xF4)
		abort();
	*c = len == 1 ? t[0] : (uint32_t)(t[0] & (0x7F >> len));
	for (size_t i = 1; i < len; i++) {
		if ((t[i] & 0xC0) != 0x80)
			abort();
		*c = (*c << 6) | (t[i] & 0x3F);
	}
	return len;
}

static void fuzz_body(const uint8_t *p, size_t n)
{
	char *text = NULL;
	size_t len = 0, k;
	int start = 1; /* at a line's start, nothing visible yet */
	uint32_t c;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	text_body_write(f, p, n);
	if (fclose(f) != 0)
		abort();
	for (size_t i = 0; i < len; i += k) {
		k = fuzz_utf8((const unsigned char *)text + i, len - i, &c);
		if ((c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7F && c <= 0x9F) ||
		    fuzz_hidden(c))
			abort();
		if (start && len - i >= 3 && memcmp(text + i, "---", 3) == 0)
			abort();
		start = c == '\n' || (start && fuzz_zero_width(c));
	}
	free(text);
}

/* Taken: every field there and checked, the lists within their bounds;
 * refused: nothing left pointing into the reply. */
static void fuzz_receipt(json_object *o)
{
	struct receipt_reply v;

	if (reply_receipt_take(o, &v) != 0) {
		if (v.link_token != NULL || v.status != NULL || v.messages != NULL ||
		    v.replies != NULL || v.thread_id != 0)
			abort();
		return;
	}
	if (!link_token_valid(v.link_token) || v.thread_id < 1 || !reply_status_valid(v.status) ||
	    !reply_time_valid(v.released_at) ||
	    json_object_array_length(v.messages) > REPLY_RECEIPT_MESSAGES_MAX ||
	    json_object_array_length(v.replies) > REPLY_RECEIPT_REPLIES_MAX)
		abort();
}

/* Opened: the text lies inside the plaintext, is UTF-8, and everything
 * after it is zero. */
static void fuzz_envelope(const uint8_t *p, size_t n)
{
	const unsigned char *text, *key;
	size_t len;

	switch (envelope_open(p, n, &text, &len, &key)) {
	case ENVELOPE_OPENED:
		if (text < p || text + len > p + n || !text_utf8_valid(text, len) ||
		    (key != NULL && key != p + ENVELOPE_HEAD))
			abort();
		for (const unsigned char *z = text + len; z < p + n; z++)
			if (*z != 0)
				abort();
		break;
	case ENVELOPE_NOT_ONE:
		if (n > 0 && p[0] == ENVELOPE_VERSION)
			abort();
		break;
	default:
		if (text != NULL || key != NULL)
			abort();
	}
}

static void fuzz_link(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1), origin[LINK_ORIGIN_MAX];
	struct link_parts lp;

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	if (strlen(s) == n) {
		(void)link_parse(s, &lp);
		if (link_origin(s, origin, sizeof origin) == 0) {
			if (strncmp(origin, "http://", 7) != 0 &&
			    strncmp(origin, "https://", 8) != 0)
				abort();
			for (const char *c = origin; *c != '\0'; c++)
				if (*c >= 'A' && *c <= 'Z')
					abort();
			if (strchr(origin + 8, '/') != NULL)
				abort();
		}
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o;

	fuzz_init();
	if (size < 1 || size > 1 << 20)
		return 0;
	if (data[0] >= 0xF8) {
		fuzz_envelope(data + 1, size - 1);
		return 0;
	}
	if (data[0] >= 0xF0) {
		if ((o = jsonv_object_parse((const char *)data + 1, size - 1)) != NULL)
			fuzz_receipt(o);
		json_object_put(o);
		return 0;
	}
	switch (data[0] % 5) {
	case 0:
	case 1:
	case 2:
		if ((o = jsonv_object_parse((const char *)data + 1, size - 1)) == NULL)
			return 0;
		if (data[0] % 5 == 0)
			fuzz_page(o, data[0] / 5);
		else if (data[0] % 5 == 1)
			fuzz_challenge(o);
		else
			fuzz_ids(o);
		json_object_put(o);
		break;
	case 3:
		fuzz_body(data + 1, size - 1);
		break;
	default:
		fuzz_link(data + 1, size - 1);
		break;
	}
	return 0;
}
