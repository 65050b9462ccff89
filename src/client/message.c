/* Messages. The plaintext goes to standard output only, and is wiped from
 * our buffers once printed. In text form, control characters are shown as
 * '?': the sender chose those bytes, and the recipient's terminal must not
 * run their escape sequences. --json carries the exact text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/b64.h"
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

static void message_json_print(struct message_out *o, int64_t id, const char *when, int seen,
                               json_object *meta, const unsigned char *plain, size_t n)
{
	json_object *j = json_object_new_object();
	char *enc;

	json_object_object_add(j, "id", json_object_new_int64(id));
	json_object_object_add(j, "created_at", json_object_new_string(when));
	json_object_object_add(j, "seen", json_object_new_boolean(seen));
	if (plain == NULL) {
		json_object_object_add(j, "error", json_object_new_string("cannot decrypt"));
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

static void message_text_print(int64_t id, const char *when, int seen, const unsigned char *plain,
                               size_t n)
{
	printf("--- #%lld ", (long long)id);
	text_safe_write(stdout, (const unsigned char *)when, strlen(when), 0);
	if (plain == NULL) {
		fputs(": cannot decrypt\n", stdout);
		return;
	}
	fputs(seen ? " (seen)\n" : "\n", stdout);
	text_body_write(stdout, plain, n);
	if (n == 0 || plain[n - 1] != '\n')
		fputc('\n', stdout);
}

int message_show(struct message_out *o, const struct session *s, json_object *m, int64_t *id)
{
	const char *ct = jsonv_str_get(m, "encrypted_message");
	const char *when = jsonv_str_get(m, "created_at");
	json_object *meta = NULL;
	unsigned char *plain = NULL;
	size_t n = 0;
	int seen = jsonv_bool_get(m, "seen", 0);

	*id = 0;
	(void)jsonv_int_get(m, "id", 1, INT64_MAX, id);
	if (m != NULL)
		json_object_object_get_ex(m, "metadata", &meta);
	if (*id == 0 || ct == NULL || message_open(s, ct, &plain, &n) != 0)
		o->failed++;
	if (when == NULL)
		when = "";
	if (o->format == MESSAGE_TEXT)
		message_text_print(*id, when, seen, plain, n);
	else
		message_json_print(o, *id, when, seen, meta, plain, n);
	o->printed++;
	fflush(stdout);
	if (plain == NULL)
		return 0;
	sodium_memzero(plain, n);
	free(plain);
	return 1;
}
