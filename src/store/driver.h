/* The per-backend driver under store.c. A driver knows connections, the SQL
 * text of each named statement (sql_<backend>.c), binding, transactions and
 * which of its errors mean what; it knows nothing of inboxes or messages.
 * Every store operation is written once, in store.c, on top of this. */
#ifndef SD_DRIVER_H
#define SD_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/errors.h"
#include "store/statements.h"

/* A statement parameter. Text need not be NUL-terminated (len counts). */
enum sd_arg_type { SD_ARG_NULL, SD_ARG_I64, SD_ARG_TEXT };

struct sd_arg {
	enum sd_arg_type type;
	int64_t i64;
	const char *text;
	size_t len;
};

#define SD_ARGS_MAX 12
#define SD_COLS_MAX 12

/* One result row: every column as text (integers in decimal), NUL-
 * terminated; v[i] == NULL is SQL NULL. Valid only during the callback. */
struct sd_row {
	int ncols;
	const char *v[SD_COLS_MAX];
	size_t len[SD_COLS_MAX];
};

/* Called for each row; a non-zero return stops the rows (exec still
 * returns SD_OK). It must not run another statement on the connection. */
typedef int (*sd_row_cb)(void *ctx, const struct sd_row *r);

struct sd_exec_result {
	int64_t changes; /* rows matched by UPDATE, removed by DELETE, added by
	                    INSERT; 0 for a SELECT */
	int64_t last_id; /* AUTO_INCREMENT / rowid: meaningful only after INSERT */
};

struct sd_conn; /* a backend connection, owned by one thread */

/* One unit of writing, run by the driver inside a transaction. It may be
 * run more than once (retried after a lost conflict), so it must set its
 * outputs afresh each time. It uses only the connection it is handed (on
 * SQLite, the writer thread's) and never calls write() itself. */
typedef enum sd_err (*sd_write_fn)(struct sd_conn *c, void *arg);

struct sd_driver {
	const char *name;                      /* "sqlite", "mysql" */
	const char *const *sql;                /* [SQ__MAX]: this backend's text */
	const struct sd_migration *migrations; /* ends with {0, NULL, NULL} */
	/* 1 where link_token compares without regard to ASCII case (MySQL's
	 * _ci collations, as PyCrypt created the tables): a link token in
	 * another case names the same inbox. 0: compared exactly (SQLite). */
	int links_fold_case;
	/* 1 where SQ_CLIENT_RESERVE's last_id is the inbox's has_webhook, so a
	 * send to an inbox without a webhook skips the outbox statement, a
	 * round trip (MySQL). 0: a send always runs it (SQLite, in process,
	 * where that cheap statement costs less than an UPDATE ... RETURNING). */
	int reserve_reports_webhook;

	/* Open a connection for dsn (the part after "sqlite:" for SQLite, the
	 * whole mysql:// URL otherwise). err never holds a password. */
	enum sd_err (*open)(const char *dsn, const struct sd_config *cfg, struct sd_conn **out,
	                    char *err, size_t errlen);
	void (*close)(struct sd_conn *c);

	/* Prepare (cached per connection), bind args[0..nargs), run; rows go to
	 * cb (may be NULL); res (may be NULL) gets changes and last id.
	 * Errors: SD_ECONFLICT a unique key was violated; SD_ERETRY a
	 * deadlock, lock wait or busy database (the transaction did nothing);
	 * SD_ENOMEM; SD_EINVAL a bug of ours (unknown statement, wrong
	 * number of arguments; logged); SD_EDB anything else (logged; a lost
	 * connection is dropped and reopened by the next call). */
	enum sd_err (*exec)(struct sd_conn *c, enum sd_stmt q, const struct sd_arg *args, int nargs,
	                    sd_row_cb cb, void *ctx, struct sd_exec_result *res);

	/* Run fn as one transaction and return its result: SD_OK only once
	 * committed and durable. A non-OK result from fn rolls back. How is
	 * the driver's business: SQLite batches the writes of all threads into
	 * one commit (group commit) and answers SD_ERETRY when the database
	 * stayed busy past its timeout; MySQL runs BEGIN/fn/COMMIT and runs the
	 * whole of it again after SD_ERETRY (also at COMMIT: a Galera
	 * certification failure, after which nothing was applied), a few
	 * times with random pauses, before returning SD_ERETRY. */
	enum sd_err (*write)(struct sd_conn *c, sd_write_fn fn, void *arg);

	/* Where a lone statement is a durable transaction of its own (MySQL's
	 * autocommit): run fn, which runs exactly one statement, so, without
	 * write()'s BEGIN and COMMIT round trips, retried like write(). NULL
	 * elsewhere (SQLite: every write goes through the writer thread). */
	enum sd_err (*write_lone)(struct sd_conn *c, sd_write_fn fn, void *arg);

	/* Run one statement of a migration (DDL or DML, no parameters).
	 * SD_ECONFLICT when it adds a column or index that already exists, so
	 * the runner can treat it as done. */
	enum sd_err (*script)(struct sd_conn *c, const char *sql, size_t len);

	/* An advisory lock shared by every process on this database, on every
	 * node of a cluster: SD_OK when held, SD_ELIMIT when another holder
	 * kept it for wait_s seconds. Taking a lock held already renews it.
	 * MySQL: a lease row that expires a minute after a holder that died
	 * (GET_LOCK would be local to one Galera node). SQLite's transactions
	 * already serialise writers: a no-op there. */
	enum sd_err (*lock)(struct sd_conn *c, const char *name, int wait_s);
	void (*unlock)(struct sd_conn *c, const char *name);
};

struct sd_migration {
	int version;
	const char *name;
	const char *sql; /* statements separated by ";\n" */
};

/* Generated from sql/<backend>/NNN_name.sql. */
extern const struct sd_migration sd_migrations_sqlite[];
extern const struct sd_migration sd_migrations_mysql[];

/* sql_sqlite.c, sql_mysql.c */
extern const char *const sd_sql_sqlite[SQ__MAX];
extern const char *const sd_sql_mysql[SQ__MAX];

/* driver_sqlite.c, driver_mysql.c */
extern const struct sd_driver sd_driver_sqlite;
extern const struct sd_driver sd_driver_mysql;

/* Argument constructors. */
static inline struct sd_arg sd_arg_i64(int64_t v)
{
	return (struct sd_arg){.type = SD_ARG_I64, .i64 = v};
}

/* NULL text binds SQL NULL. */
struct sd_arg sd_arg_text(const char *s);
struct sd_arg sd_arg_textn(const char *s, size_t n);

/* Column i of r as an integer (0 for NULL or garbage). */
int64_t sd_row_i64(const struct sd_row *r, int i);

#endif
