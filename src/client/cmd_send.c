/* send: seal a message to an inbox as an anonymous sender. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/api.h"
#include "client/b64.h"
#include "client/commands.h"
#include "client/envelope.h"
#include "client/file.h"
#include "client/link.h"
#include "client/text.h"
#include "proto/limits.h"

/* The server takes sealed boxes of at most SD_MSG_MAX_BYTES; sealing adds
 * crypto_box_SEALBYTES to the message. */
#define SEND_PLAIN_MAX   (SD_MSG_MAX_BYTES - crypto_box_SEALBYTES)
/* "BASE/r#R.K" and its NUL. */
#define SEND_RECEIPT_MAX (IDENTITY_SERVER_MAX + 4 + RECEIPT_B64_LEN + 1 + RECEIPT_B64_LEN + 1)
_Static_assert(SD_MSG_MIN_BYTES == crypto_box_SEALBYTES, "the server's minimum is an empty box");

void send_message_free(unsigned char *msg)
{
	if (msg == NULL)
		return;
	sodium_memzero(msg, SEND_PLAIN_MAX + 1);
	free(msg);
}

int send_message_read(const char *arg, unsigned char **msg, size_t *len)
{
	size_t n = arg != NULL && strcmp(arg, "-") != 0 ? strlen(arg) : 0;

	*len = 0;
	if ((*msg = malloc(SEND_PLAIN_MAX + 1)) == NULL) {
		cli_err("out of memory");
		return CLI_EINTERNAL;
	}
	if (n > 0) {
		if (n <= SEND_PLAIN_MAX)
			memcpy(*msg, arg, n);
	} else {
		if (isatty(STDIN_FILENO))
			fputs("Type the message, then Ctrl-D on a line of its own:\n", stderr);
		n = fread(*msg, 1, SEND_PLAIN_MAX + 1, stdin);
		if (ferror(stdin)) {
			cli_err("cannot read the message from standard input");
			return CLI_EIO;
		}
	}
	if (n > SEND_PLAIN_MAX) {
		cli_err("the message is longer than %d bytes", SEND_PLAIN_MAX);
		return CLI_EUSAGE;
	}
	*len = n;
	return CLI_OK;
}

/* What send makes of the text for an inbox: the plain text sealed as it
 * is, or (envelope-v1) an envelope with a fresh receipt's reply key. */
struct outgoing {
	unsigned char *sealed;
	size_t n;
	int receipt; /* a receipt goes with it */
	unsigned char r[RECEIPT_BYTES];
	struct receipt_keys keys;
};

static void outgoing_wipe(struct outgoing *out)
{
	free(out->sealed);
	sodium_memzero(out, sizeof *out);
}

int send_seal(const unsigned char *msg, size_t len, int envelope, const unsigned char *reply_pk,
              const unsigned char key[crypto_box_PUBLICKEYBYTES], unsigned char **sealed, size_t *n)
{
	unsigned char *plain = NULL;
	size_t plen = len;
	int rc = CLI_EDATA;

	*sealed = NULL;
	*n = 0;
	if (envelope) {
		if (!text_utf8_valid(msg, len)) {
			cli_err("the message is not UTF-8 text, and an envelope carries text only");
			return CLI_EUSAGE;
		}
		if (envelope_build(msg, len, reply_pk, &plain, &plen) != 0) {
			cli_err("the message is longer than the %d bytes an envelope carries",
			        ENVELOPE_TEXT_MAX(reply_pk != NULL));
			return CLI_EUSAGE;
		}
	}
	if ((*sealed = malloc(plen + crypto_box_SEALBYTES)) == NULL) {
		cli_err("out of memory");
		rc = CLI_EINTERNAL;
		goto out;
	}
	if (crypto_box_seal(*sealed, plain != NULL ? plain : msg, plen, key) != 0) {
		cli_err("cannot seal the message to this key");
		free(*sealed);
		*sealed = NULL;
		goto out;
	}
	*n = plen + crypto_box_SEALBYTES;
	rc = CLI_OK;
out:
	if (plain != NULL) {
		sodium_memzero(plain, plen);
		free(plain);
	}
	return rc;
}

/* "BASE/r#R.K" into out: what the sender keeps. K, the inbox key the
 * message was sealed to, lets 'answer' refuse a server that serves
 * another key later (docs/RECEIPTS.md). */
static int send_receipt_format(const char *server, const unsigned char r[RECEIPT_BYTES],
                               const unsigned char key[crypto_box_PUBLICKEYBYTES], char *out,
                               size_t cap)
{
	char enc[B64_URL_SIZE(RECEIPT_BYTES)], kenc[B64_URL_SIZE(crypto_box_PUBLICKEYBYTES)];
	int n;

	b64_url_encode(r, RECEIPT_BYTES, enc, sizeof enc);
	b64_url_encode(key, crypto_box_PUBLICKEYBYTES, kenc, sizeof kenc);
	n = snprintf(out, cap, "%s/r#%s.%s", server, enc, kenc);
	sodium_memzero(enc, sizeof enc);
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* The receipt once the send is over (sent is its exit code): shown or
 * left in file. A 4xx stored nothing, so its file goes; any other failure
 * may have stored the message, and then the receipt works. */
static void send_receipt_settle(int sent, const char *receipt, const char *file)
{
	long status = api_last_status();

	if (sent == CLI_OK && file != NULL) {
		printf("receipt saved to %s\n", file);
	} else if (sent == CLI_OK) {
		printf("receipt: %s\n", receipt);
	} else if (status >= 400 && status < 500) {
		if (file != NULL)
			unlink(file);
	} else if (file != NULL) {
		cli_err("the message may have been stored: its receipt is kept in %s", file);
	} else {
		printf("receipt: %s\n", receipt);
		cli_err("the message may have been stored: the receipt above works if it was");
	}
}

int cmd_send(const struct cli_opts *o, int argc, char **argv)
{
	unsigned char served[crypto_box_PUBLICKEYBYTES], *msg = NULL;
	const char *pos[2] = {NULL, NULL}, *receipt_file = NULL;
	char receipt_id[B64_URL_SIZE(RECEIPT_BYTES)], receipt[SEND_RECEIPT_MAX];
	struct outgoing out;
	struct link_parts lp;
	unsigned caps = 0;
	size_t len = 0;
	int64_t id = 0;
	int n = 0, rc;

	(void)o;
	memset(&out, 0, sizeof out);
	receipt[0] = '\0';
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc && n < 2) {
			pos[n++] = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--receipt-file") == 0 && i + 1 < argc) {
			receipt_file = argv[++i];
			continue;
		}
		if ((argv[i][0] == '-' && strcmp(argv[i], "-") != 0) || n == 2)
			return cli_usage_err(argv[0]);
		pos[n++] = argv[i];
	}
	if (n == 0)
		return cli_usage_err(argv[0]);
	if ((rc = link_parse(pos[0], &lp)) != CLI_OK)
		return rc;
	/* A receipt is never written over another one. */
	if (receipt_file != NULL && (rc = file_existing_refuse(receipt_file, NULL)) != CLI_OK)
		return rc;
	if ((rc = send_message_read(pos[1], &msg, &len)) != CLI_OK)
		goto out;
	if (len == 0) {
		cli_err("the message is empty; nothing sent");
		rc = CLI_EUSAGE;
		goto out;
	}
	if ((rc = api_key_get(lp.server, lp.token, served, &caps)) != CLI_OK)
		goto out;
	if (lp.has_key && sodium_memcmp(served, lp.key, sizeof served) != 0) {
		cli_err("the server serves a different key than the link names: not sending");
		rc = CLI_EDATA;
		goto out;
	}
	/* An inbox whose owner opens envelopes gets one, padded, with a
	 * fresh receipt; any other the plain text as before, no receipt. */
	if (caps & API_CAP_ENVELOPE) {
		out.receipt = 1;
		randombytes_buf(out.r, sizeof out.r);
		if (receipt_derive(out.r, &out.keys) != 0) {
			cli_err("cannot derive the receipt's keys");
			rc = CLI_EINTERNAL;
			goto out;
		}
		b64_url_encode(out.keys.id, sizeof out.keys.id, receipt_id, sizeof receipt_id);
		if (send_receipt_format(lp.server, out.r, served, receipt, sizeof receipt) != 0) {
			cli_err("the receipt link does not fit in %d bytes", SEND_RECEIPT_MAX);
			rc = CLI_EINTERNAL;
			goto out;
		}
	} else if (receipt_file != NULL) {
		cli_err("this inbox takes no envelopes, so a message to it has no receipt; "
		        "nothing sent");
		rc = CLI_EUSAGE;
		goto out;
	}
	if ((rc = send_seal(msg, len, out.receipt, out.receipt ? out.keys.reply_pk : NULL,
	                    lp.has_key ? lp.key : served, &out.sealed, &out.n)) != CLI_OK)
		goto out;
	/* R is known before the message goes: kept first, no outcome of the
	 * send can lose it; a receipt that cannot be kept sends nothing. */
	if (receipt_file != NULL && (rc = file_private_write(receipt_file, receipt, 1)) != CLI_OK)
		goto out;
	rc = api_message_post(lp.server, lp.token, out.sealed, out.n,
	                      out.receipt ? receipt_id : NULL, &id);
	if (rc == CLI_OK)
		printf("sent (id %lld)\n", (long long)id);
	if (out.receipt)
		send_receipt_settle(rc, receipt, receipt_file);
	else if (rc == CLI_OK)
		cli_err(
		    "note: this inbox does not take envelopes: sent unpadded, without a receipt");
out:
	sodium_memzero(receipt, sizeof receipt);
	send_message_free(msg);
	outgoing_wipe(&out);
	return rc;
}
