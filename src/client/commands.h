#ifndef SD_CLI_COMMANDS_H
#define SD_CLI_COMMANDS_H

struct cli_opts {
	const char *identity;
	const char *pass_file;
};

/* Each takes the command's own argv (argv[0] is the command name). */
int cmd_init(const struct cli_opts *o, int argc, char **argv);
int cmd_register(const struct cli_opts *o, int argc, char **argv);
int cmd_link(const struct cli_opts *o, int argc, char **argv);
int cmd_send(const struct cli_opts *o, int argc, char **argv);
int cmd_fetch(const struct cli_opts *o, int argc, char **argv);
int cmd_ack(const struct cli_opts *o, int argc, char **argv);
int cmd_watch(const struct cli_opts *o, int argc, char **argv);
int cmd_rotate_token(const struct cli_opts *o, int argc, char **argv);
int cmd_unregister(const struct cli_opts *o, int argc, char **argv);
int cmd_export(const struct cli_opts *o, int argc, char **argv);
int cmd_import(const struct cli_opts *o, int argc, char **argv);

#endif
