/* Messages. The plaintext goes to standard output only, and is wiped from
 * our buffers once printed. In text form, control characters are shown as
 * '?': the sender chose those bytes, and the recipient's terminal must not
 * run their escape sequences. --json carries the exact text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/b64.h"
#include "client/envelope.h"
#include "client/jsonv.h"
#include "client/message.h"
#include "client/text.h"

void message_out_begin(struct message_out *o, enum message_format format)
{
	memset(o, 0, sizeof *o);
	o->format = format;
	if (format == MESSAGE_JSON_ARRAY)
		fputs("[", stdout);
}

void message_out_end(struct message_out *o)
{
	if (o->format == MESSAGE_JSON_ARRAY)
		fputs(o->printed ? "\n]\n" : "]\n", stdout);
	fflush(stdout);
}

/* Decrypt the base64 sealed box ct into a new buffer (*plain, *n). */
static int message_open(const struct session *s, const char *ct, unsigned char **plain, size_t *n)
{
	size_t cap = strlen(ct) / 4 * 3 + 3, got = 0;
	unsigned char *raw = malloc(cap), *out = NULL;
	int rc = -1;

	*plain = NULL;
	*n = 0;
	if (raw == NULL || b64_std_decode(ct, raw, cap, &got) != 0 || got < crypto_box_SEALBYTES)
		goto out;
	if ((out = malloc(got - crypto_box_SEALBYTES + 1)) == NULL)
		goto out;
	if (crypto_box_seal_open(out, raw, got, s->id.box_pk, s->keys->box_sk) != 0)
		goto out;
	*n = got - crypto_box_SEALBYTES;
	out[*n] = '\0';
	*plain = out;
	out = NULL;
	rc = 0;
out:
	free(raw);
	free(out);
	return rc;
}

/* What a message is, besides its text: its thread (docs/RECEIPTS.md) as
 * the server labels it, and what its envelope says. */
struct message_view {
	int64_t id;
	const char *when;
	int seen;
	int64_t thread_id; /* 0: not in a thread */
	int64_t replies;   /* replies the owner stored under the thread */
	int reply_key;     /* the envelope carries a reply key */
	const char *error; /* why it is not shown, or NULL */
};

static void message_json_print(struct message_out *o, const struct message_view *v,
                               json_object *meta, const unsigned char *plain, size_t n)
{
	json_object *j = json_object_new_object();
	char *enc;

	json_object_object_add(j, "id", json_object_new_int64(v->id));
	json_object_object_add(j, "created_at", json_object_new_string(v->when));
	json_object_object_add(j, "seen", json_object_new_boolean(v->seen));
	if (v->thread_id > 0) {
		json_object_object_add(j, "thread_id", json_object_new_int64(v->thread_id));
		json_object_object_add(j, "replies", json_object_new_int64(v->replies));
	}
	json_object_object_add(j, "reply_key", json_object_new_boolean(v->reply_key));
	if (v->error != NULL) {
		json_object_object_add(j, "error", json_object_new_string(v->error));
	} else if (text_utf8_valid(plain, n)) {
		json_object_object_add(j, "text",
		                       json_object_new_string_len((const char *)plain, (int)n));
	} else if ((enc = malloc(B64_STD_SIZE(n))) != NULL) {
		/* Not text: the exact bytes, base64. */
		b64_std_encode(plain, n, enc, B64_STD_SIZE(n));
		json_object_object_add(j, "data_base64", json_object_new_string(enc));
		sodium_memzero(enc, strlen(enc));
		free(enc);
	}
	if (meta != NULL && json_object_is_type(meta, json_type_object))
		json_object_object_add(j, "metadata", json_object_get(meta));
	if (o->format == MESSAGE_JSON_ARRAY)
		fputs(o->printed ? ",\n" : "\n", stdout);
	fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                            JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	if (o->format == MESSAGE_JSON_LINES)
		fputc('\n', stdout);
	json_object_put(j);
}

static void message_text_print(const struct message_view *v, const unsigned char *plain, size_t n)
{
	printf("--- #%lld ", (long long)v->id);
	text_safe_write(stdout, (const unsigned char *)v->when, strlen(v->when), 0);
	if (v->thread_id > 0)
		printf(" [thread #%lld, %lld repl%s]", (long long)v->thread_id,
		       (long long)v->replies, v->replies == 1 ? "y" : "ies");
	if (v->error != NULL) {
		printf(": %s\n", v->error);
		return;
	}
	if (v->reply_key)
		fputs(" (can reply)", stdout);
	fputs(v->seen ? " (seen)\n" : "\n", stdout);
	text_body_write(stdout, plain, n);
	if (n == 0 || plain[n - 1] != '\n')
		fputc('\n', stdout);
}

/* The text to show of a decrypted plaintext: an envelope's text (never its
 * padding), a plaintext that is not one (a client that does not know the
 * envelope) as it is. -1 for a malformed envelope: shown as unreadable. */
static int message_text_take(const unsigned char *plain, size_t n, const unsigned char **text,
                             size_t *len, int *reply_key)
{
	const unsigned char *key;

	*reply_key = 0;
	switch (envelope_open(plain, n, text, len, &key)) {
	case ENVELOPE_OPENED:
		*reply_key = key != NULL;
		return 0;
	case ENVELOPE_NOT_ONE:
		*text = plain;
		*len = n;
		return 0;
	default:
		return -1;
	}
}

/* The first line of text[0..n) (UTF-8), at most MESSAGE_GIST_CHARS
 * characters of it, into gist. */
static void message_gist_take(const unsigned char *text, size_t n, char gist[MESSAGE_GIST_MAX])
{
	size_t end = 0, chars = 0;

	while (end < n && text[end] != '\n') {
		/* A lead byte starts a character; continuation bytes follow it. */
		if ((text[end] & 0xc0) != 0x80 && chars++ == MESSAGE_GIST_CHARS)
			break;
		end++;
	}
	memcpy(gist, text, end);
	gist[end] = '\0';
}

int message_reply_key(const struct session *s, json_object *m,
                      unsigned char pk[crypto_box_PUBLICKEYBYTES], char gist[MESSAGE_GIST_MAX])
{
	const char *ct = jsonv_str_get(m, "encrypted_message");
	const unsigned char *text, *key = NULL;
	unsigned char *plain = NULL;
	size_t n = 0, len;
	int rc = -1;

	if (ct == NULL || message_open(s, ct, &plain, &n) != 0)
		return -1;
	gist[0] = '\0';
	if (envelope_open(plain, n, &text, &len, &key) == ENVELOPE_OPENED && key != NULL) {
		memcpy(pk, key, crypto_box_PUBLICKEYBYTES);
		message_gist_take(text, len, gist);
		rc = 0;
	}
	sodium_memzero(plain, n);
	free(plain);
	return rc;
}

int message_show(struct message_out *o, const struct session *s, json_object *m, int64_t *id)
{
	const char *ct = jsonv_str_get(m, "encrypted_message");
	struct message_view v = {
	    0, jsonv_str_get(m, "created_at"), jsonv_bool_get(m, "seen", 0), 0, 0, 0, NULL};
	const unsigned char *text = NULL;
	json_object *meta = NULL;
	unsigned char *plain = NULL;
	size_t n = 0, len = 0;

	*id = 0;
	(void)jsonv_int_get(m, "id", 1, INT64_MAX, id);
	v.id = *id;
	/* The thread labels; mistyped ones count as absent. */
	if (jsonv_int_get(m, "thread_id", 1, INT64_MAX - 1, &v.thread_id) == 0)
		(void)jsonv_int_get(m, "replies", 0, INT64_MAX - 1, &v.replies);
	if (m != NULL)
		json_object_object_get_ex(m, "metadata", &meta);
	if (*id == 0 || ct == NULL || message_open(s, ct, &plain, &n) != 0)
		v.error = "cannot decrypt";
	else if (message_text_take(plain, n, &text, &len, &v.reply_key) != 0)
		v.error = "unreadable (a malformed envelope)";
	if (v.error != NULL)
		o->failed++;
	if (v.when == NULL)
		v.when = "";
	if (o->format == MESSAGE_TEXT)
		message_text_print(&v, text, len);
	else
		message_json_print(o, &v, meta, text, len);
	o->printed++;
	fflush(stdout);
	if (plain != NULL) {
		sodium_memzero(plain, n);
		free(plain);
	}
	return v.error == NULL;
}
