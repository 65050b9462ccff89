# The command-line client (docs/CLI.md). Self-contained: libcurl, libsodium
# and json-c only, not libsealdrop.a; of the server it takes only the limits
# header src/proto/limits.h (#defines) and the write loop src/core/io.c.
bin_PROGRAMS += sealdrop
sealdrop_SOURCES = \
	src/client/main.c src/client/cli.c src/client/cli.h src/client/commands.h \
	src/client/cmd_identity.c src/client/cmd_inbox.c src/client/cmd_send.c \
	src/client/cmd_read.c src/client/cmd_ack.c src/client/cmd_receipt.c src/client/cmd_reply.c \
	src/client/cmd_webhook.c \
	src/client/events.c src/client/events.h \
	src/client/session.c src/client/session.h \
	src/client/identity.c src/client/identity.h \
	src/client/passphrase.c src/client/passphrase.h \
	src/client/api.c src/client/api.h \
	src/client/reply.c src/client/reply.h \
	src/client/http.c src/client/http.h \
	src/client/message.c src/client/message.h \
	src/client/envelope.c src/client/envelope.h \
	src/client/link.c src/client/link.h \
	src/client/ids.c src/client/ids.h \
	src/client/jsonv.c src/client/jsonv.h \
	src/client/file.c src/client/file.h \
	src/client/text.c src/client/text.h \
	src/client/b64.c src/client/b64.h \
	src/core/io.c src/core/io.h
sealdrop_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
sealdrop_LDADD = $(CURL_LIBS) $(SODIUM_LIBS) $(JSONC_LIBS)
dist_man_MANS += src/client/sealdrop.1
