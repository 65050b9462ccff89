# The command-line client (docs/CLI.md).
bin_PROGRAMS += sealdrop
sealdrop_SOURCES = src/client/main.c src/client/commands.c src/client/commands.h src/client/cli.h \
	src/client/identity.c src/client/passphrase.c src/client/http.c src/client/api.c src/client/link.c
sealdrop_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
sealdrop_LDADD = libsealdrop.a $(CURL_LIBS) $(SODIUM_LIBS) $(JSONC_LIBS)
dist_man_MANS += src/client/sealdrop.1
