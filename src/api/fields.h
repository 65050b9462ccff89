/* The fields of a request body, declared per endpoint (kcgi's kvalid): a
 * handler names its fields in a static const table (name, type, bounds,
 * and the error to answer) and gets back a filled C struct, or nothing
 * after one error reply. fields.c is the one place that walks json-c
 * objects. Fields are read in table order and the first bad one is
 * answered, so a table lists what may fail before the credentials, which
 * never fail here: a bad field never costs a single-use challenge. */
#ifndef SD_API_FIELDS_H
#define SD_API_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/b64.h"
#include "core/jsonin.h"

/* What each type writes at `off` (a member of at least that size). */
enum api_ftype {
	API_LINK,       /* char[SD_LINK_TOKEN_MAX + 1]: link_ + base64url */
	API_STRING,     /* char[max + 1]: min..max bytes, no NUL, check(s, n) */
	API_KEY,        /* unsigned char[max]: base64 of exactly max bytes, check(k, max) */
	API_BLOB,       /* char[SD_B64_LEN(max) + 1]: base64 of min..max bytes, kept as
	                   padded standard base64; the byte count is a size_t at len_off */
	API_RAW,        /* char[max + 1]: any JSON value, its text as sent (sd_field_raw) */
	API_BOOL,       /* int */
	API_INT,        /* int64_t in min..max */
	API_ENUM,       /* int: the index of the value in choices */
	API_IDS,        /* int64_t[max]: at most max ids (1..INT64_MAX - 1), sorted and
	                   distinct; their count is a size_t at len_off */
	API_FLAGS,      /* int64_t: an array of at most max names (strings of 1..32 bytes);
	                   each name in choices sets bit 1 << its index, others are ignored
	                   (a newer client's names mean nothing here yet) */
	API_CREDENTIAL, /* struct api_cred: never refused here (see below) */
};

/* Missing or null is refused; otherwise either reads as the default ("",
 * zeros, dflt). */
#define API_REQUIRED   0x1u
/* PyCrypt's leniency, never a 400: API_INT clamps to min..max, takes a
 * string of digits as its number and anything else as dflt; API_ENUM takes
 * any other value as dflt; API_LINK takes a string that is not of link
 * shape as "" (it names no inbox), though a non-string is still refused. */
#define API_LENIENT    0x2u
/* API_ENUM: choices match in any case. */
#define API_CASELESS   0x4u
/* With API_PRESENT: a JSON null sets the present int to API_GIVEN_NULL
 * (a field whose null means something, e.g. "url": null clears). */
#define API_NULLABLE   0x8u
#define API_GIVEN_NULL 2

struct api_field {
	const char *name;
	enum api_ftype type;
	unsigned flags;
	int64_t min, max; /* bytes (STRING, KEY, BLOB, RAW), value (INT), count (IDS) */
	int64_t dflt;     /* BOOL, INT, ENUM when absent */
	size_t off;       /* where the value goes (API_AT) ... */
	size_t size;      /* ... and how large that member is */
	size_t len_off;   /* BLOB, IDS: a size_t (API_LEN) */
	size_t present_off;
	int has_present;            /* (API_PRESENT) an int set to 1 when the field is given */
	const char *const *choices; /* ENUM: NULL-terminated */
	const char *unless;         /* not read (default) when this other field is given */
	int (*check)(const void *v, size_t n); /* STRING, KEY: 1 when acceptable */
	const char *code, *msg;                /* the 400 answer */
	const char *big_code, *big_msg;        /* BLOB, RAW: the 413 for over max */
};

#define API_AT(st, member)      .off = offsetof(st, member), .size = sizeof(((st *)0)->member)
#define API_LEN(st, member)     .len_off = offsetof(st, member)
#define API_PRESENT(st, member) .present_off = offsetof(st, member), .has_present = 1

/* A limit in a message, so the text cannot drift from the constant:
 * "at most " API_STR(SD_ACK_MAX_IDS) " ids". */
#define API_STR(x)              API_STR_(x)
#define API_STR_(x)             #x

/* The link_token row of most endpoints. */
#define API_LINK_TOKEN(st, member)                                                                 \
	{                                                                                          \
		.name = "link_token", .type = API_LINK, .flags = API_REQUIRED, API_AT(st, member), \
		.code = "invalid_link_token",                                                      \
		.msg = "link_token must be the link token of an inbox"                             \
	}

/* A credential field as sent (challenge, challenge_signature and their
 * from_ forms). PyCrypt answers a malformed credential 401, not 400, so the
 * table only records it and auth.c decides. */
#define API_CRED_MAX 128
struct api_cred {
	int given;  /* in the body and not null */
	int usable; /* a string of 1..max bytes without NUL: text holds it */
	char text[API_CRED_MAX + 1];
	size_t len;
};

/* Parse body[0..len) (NUL-terminated at len) once and fill out from the n
 * rows of tab. SD_OK; SD_EINVAL when the body or a field is refused, with
 * err saying why (err->too_large: 413); SD_ENOMEM. */
SD_MUST_CHECK enum sd_err api_fields_read(const char *body, size_t len, const struct api_field *tab,
                                          size_t n, void *out, struct sd_verr *err);

/* The same over the request's body: 0, or -1 after the 400/413 (or 503)
 * reply. */
SD_MUST_CHECK int api_fields_or_reply(struct sd_ctx *ctx, const struct api_field *tab, size_t n,
                                      void *out);

#endif
