/* The commands. Each gets its own argv (argv[0] is the command's name, the
 * global options already taken out) and returns an exit code; errors are
 * printed where they are found. */
#ifndef SD_CLIENT_COMMANDS_H
#define SD_CLIENT_COMMANDS_H

#include <sodium.h>
#include <stddef.h>

#include "client/cli.h"

/* cmd_identity.c */
int cmd_init(const struct cli_opts *o, int argc, char **argv);
int cmd_export(const struct cli_opts *o, int argc, char **argv);
int cmd_import(const struct cli_opts *o, int argc, char **argv);

/* cmd_inbox.c */
int cmd_register(const struct cli_opts *o, int argc, char **argv);
int cmd_link(const struct cli_opts *o, int argc, char **argv);
int cmd_rotate_token(const struct cli_opts *o, int argc, char **argv);
int cmd_unregister(const struct cli_opts *o, int argc, char **argv);

/* cmd_send.c */
int cmd_send(const struct cli_opts *o, int argc, char **argv);

/* The message: the argument, or standard input for "-" or none (at most
 * SD_MSG_MAX_BYTES - 48 bytes) into a new buffer, for send_message_free. */
int send_message_read(const char *arg, unsigned char **msg, size_t *len);

/* Wipe and free what send_message_read gave (NULL is fine). */
void send_message_free(unsigned char *msg);

/* Seal msg[0..len) to key: as an envelope (UTF-8 text only, padded,
 * carrying reply_pk when not NULL) when envelope, else as it is. The new
 * box goes to *sealed (the caller frees) and its size to *n. */
int send_seal(const unsigned char *msg, size_t len, int envelope, const unsigned char *reply_pk,
              const unsigned char key[crypto_box_PUBLICKEYBYTES], unsigned char **sealed,
              size_t *n);

/* cmd_receipt.c: the sender's side of a receipt */
int cmd_receipt(const struct cli_opts *o, int argc, char **argv);
int cmd_answer(const struct cli_opts *o, int argc, char **argv);

/* cmd_reply.c: the owner's reply to a message with a receipt */
int cmd_reply(const struct cli_opts *o, int argc, char **argv);

/* cmd_read.c */
int cmd_fetch(const struct cli_opts *o, int argc, char **argv);
int cmd_watch(const struct cli_opts *o, int argc, char **argv);

/* cmd_ack.c */
int cmd_ack(const struct cli_opts *o, int argc, char **argv);

/* cmd_webhook.c */
int cmd_webhook(const struct cli_opts *o, int argc, char **argv);

#endif
