# The command-line client (docs/CLI.md).
bin_PROGRAMS += sealdrop
sealdrop_SOURCES = src/cli/main.c src/cli/commands.c src/cli/commands.h src/cli/cli.h \
	src/cli/identity.c src/cli/passphrase.c src/cli/http.c src/cli/api.c src/cli/link.c
sealdrop_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
sealdrop_LDADD = libsealdrop.a $(CURL_LIBS) $(SODIUM_LIBS) $(JSONC_LIBS)
dist_man_MANS += src/cli/sealdrop.1
