# cmocka unit tests; tests/unit/run executes every unit_* binary.
if HAVE_CMOCKA
UNIT_TESTS = unit_buf unit_crypto unit_jsonin unit_fields unit_config unit_router unit_store \
	unit_leases unit_metrics unit_envelope unit_events unit_outbound
check_PROGRAMS += $(UNIT_TESTS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = $(SD_LIBS) $(CMOCKA_LIBS)
unit_crypto_SOURCES = tests/unit/test_crypto.c
unit_crypto_CFLAGS = $(UNIT_CFLAGS)
unit_crypto_LDADD = $(UNIT_LDADD)
unit_jsonin_SOURCES = tests/unit/test_jsonin.c
unit_jsonin_CFLAGS = $(UNIT_CFLAGS)
unit_jsonin_LDADD = $(UNIT_LDADD)
unit_fields_SOURCES = tests/unit/test_fields.c
unit_fields_CFLAGS = $(UNIT_CFLAGS)
unit_fields_LDADD = $(UNIT_LDADD)
unit_config_SOURCES = tests/unit/test_config.c
unit_config_CFLAGS = $(UNIT_CFLAGS)
unit_config_LDADD = $(UNIT_LDADD)
unit_router_SOURCES = tests/unit/test_router.c
unit_router_CFLAGS = $(UNIT_CFLAGS)
unit_router_LDADD = $(UNIT_LDADD)
unit_metrics_SOURCES = tests/unit/test_metrics.c
unit_metrics_CFLAGS = $(UNIT_CFLAGS)
unit_metrics_LDADD = $(UNIT_LDADD)
unit_store_SOURCES = tests/unit/test_store_contract.c
unit_store_CFLAGS = $(UNIT_CFLAGS)
unit_store_LDADD = $(UNIT_LDADD)
unit_events_SOURCES = tests/unit/test_events.c src/server/events_key.c src/server/events_key.h
unit_events_CFLAGS = $(UNIT_CFLAGS)
unit_events_LDADD = $(UNIT_LDADD)
unit_leases_SOURCES = tests/unit/test_leases.c
unit_leases_CFLAGS = $(UNIT_CFLAGS)
unit_leases_LDADD = $(UNIT_LDADD)
# The CLI's envelope code, built from its sources (the client is not in
# libsealdrop.a), against the reference vectors.
unit_envelope_SOURCES = tests/unit/test_envelope.c src/client/envelope.c src/client/text.c \
	src/client/b64.c
unit_envelope_CFLAGS = $(UNIT_CFLAGS) \
	-DRECEIPT_VECTORS='"$(abs_top_srcdir)/tests/api/vectors/receipts.json"'
unit_envelope_LDADD = $(SODIUM_LIBS) $(JSONC_LIBS) $(CMOCKA_LIBS)
unit_outbound_SOURCES = tests/unit/test_outbound.c
unit_outbound_CFLAGS = $(UNIT_CFLAGS)
unit_outbound_LDADD = $(UNIT_LDADD)
TESTS += $(UNIT_TESTS)
endif
# Fault injection: only in a build configured with --enable-fault-injection.
if HAVE_CMOCKA
if FAULT_INJECTION
check_PROGRAMS += unit_faults
TESTS += unit_faults
unit_faults_SOURCES = tests/unit/test_faults.c
unit_faults_CFLAGS = $(UNIT_CFLAGS)
unit_faults_LDADD = $(UNIT_LDADD)
endif
endif
EXTRA_DIST += tests/unit/run
if HAVE_CMOCKA
unit_buf_SOURCES = tests/unit/test_buf.c
unit_buf_CFLAGS = $(UNIT_CFLAGS)
unit_buf_LDADD = $(UNIT_LDADD)
endif
