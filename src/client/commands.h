/* The commands. Each gets its own argv (argv[0] is the command's name, the
 * global options already taken out) and returns an exit code; errors are
 * printed where they are found. */
#ifndef SD_CLIENT_COMMANDS_H
#define SD_CLIENT_COMMANDS_H

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

/* cmd_read.c */
int cmd_fetch(const struct cli_opts *o, int argc, char **argv);
int cmd_watch(const struct cli_opts *o, int argc, char **argv);

/* cmd_ack.c */
int cmd_ack(const struct cli_opts *o, int argc, char **argv);

/* cmd_webhook.c */
int cmd_webhook(const struct cli_opts *o, int argc, char **argv);

#endif
