/* Opening and printing the messages /fetch returns. */
#ifndef SD_CLIENT_MESSAGE_H
#define SD_CLIENT_MESSAGE_H

#include <json-c/json.h>
#include <stdint.h>

#include "client/session.h"

enum message_format {
	MESSAGE_TEXT,       /* a header line, then the text (control characters as '?') */
	MESSAGE_JSON_ARRAY, /* one JSON array of objects (fetch --json) */
	MESSAGE_JSON_LINES, /* one JSON object per line (watch --json) */
};

struct message_out {
	enum message_format format;
	int printed; /* messages printed so far */
	int failed;  /* messages that did not decrypt */
};

/* Start and end the output ("[" and "]" for MESSAGE_JSON_ARRAY). */
void message_out_begin(struct message_out *o, enum message_format format);
void message_out_end(struct message_out *o);

/* Open one message of a /fetch reply with the session's keys and print it:
 * an envelope's text (docs/RECEIPTS.md), any other plaintext as it is, and
 * the thread the server labels it with. Returns 1 when it was opened, 0
 * when it could not be or is a malformed envelope (printed as such and
 * counted in o->failed). *id is its id, 0 when the server gave none. */
int message_show(struct message_out *o, const struct session *s, json_object *m, int64_t *id);

/* How much of a message's first line 'reply' shows, in characters. */
#define MESSAGE_GIST_CHARS 60
#define MESSAGE_GIST_MAX   (MESSAGE_GIST_CHARS * 4 + 1) /* UTF-8 bytes and NUL */

/* The reply key of message m's envelope (decrypted with the session's
 * keys) into pk, and the first line of its text, cut to
 * MESSAGE_GIST_CHARS characters, into gist (MESSAGE_GIST_MAX bytes,
 * NUL-terminated, unescaped: the caller escapes it to show it). Returns 0,
 * or -1 when it does not open or has no key. */
int message_reply_key(const struct session *s, json_object *m,
                      unsigned char pk[crypto_box_PUBLICKEYBYTES], char gist[MESSAGE_GIST_MAX]);

#endif
