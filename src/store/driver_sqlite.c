/* The embedded default: SQLite in WAL mode, one connection per thread,
 * every statement prepared once per connection and reset after use, and
 * every write of the process funnelled through one writer thread per
 * database file (group commit, below). */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "store/driver.h"

/* Transaction control, prepared like the named statements. One savepoint
 * name suffices: the writer never nests jobs. */
enum tx_stmt {
	TX_BEGIN,
	TX_COMMIT,
	TX_ROLLBACK,
	TX_SAVEPOINT,
	TX_ROLLBACK_TO,
	TX_RELEASE,
	TX__MAX
};

static const char *const tx_sql[TX__MAX] = {
    [TX_BEGIN] = "BEGIN IMMEDIATE",       [TX_COMMIT] = "COMMIT",
    [TX_ROLLBACK] = "ROLLBACK",           [TX_SAVEPOINT] = "SAVEPOINT job",
    [TX_ROLLBACK_TO] = "ROLLBACK TO job", [TX_RELEASE] = "RELEASE job",
};

struct sq_writer;

struct sd_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQ__MAX];
	sqlite3_stmt *tx[TX__MAX];
	struct sq_writer *writer; /* NULL: this connection writes for itself */
};

/* ---- errors ---------------------------------------------------------- */

/* What an SQLite failure means to the store. Only a unique or primary key
 * is a conflict: any other constraint failing is a bug in our SQL. */
static enum sd_err err_of(sqlite3 *db, int rc)
{
	int ext = sqlite3_extended_errcode(db);

	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
		           ? SD_ECONFLICT
		           : SD_EDB;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SD_ERETRY;
	case SQLITE_NOMEM:
		return SD_ENOMEM;
	default:
		return SD_EDB;
	}
}

/* Map a failure and log the unexpected ones, naming the statement by its
 * SQL text: never by a bound value, which can be a token. */
static enum sd_err db_fail(struct sd_conn *c, int rc, const char *sql)
{
	enum sd_err e = err_of(c->db, rc);

	if (e == SD_EDB)
		sd_log_error("sqlite: %.80s: %s", sql, sqlite3_errmsg(c->db));
	return e;
}

static enum sd_err stmt_fail(struct sd_conn *c, int rc, enum sd_stmt q)
{
	enum sd_err e = err_of(c->db, rc);

	if (e == SD_EDB)
		sd_log_error("sqlite: statement %d (%.60s): %s", (int)q, sd_sql_sqlite[q],
		             sqlite3_errmsg(c->db));
	return e;
}

/* ---- transactions ---------------------------------------------------- */

static enum sd_err tx_step(struct sd_conn *c, enum tx_stmt t)
{
	sqlite3_stmt *st = c->tx[t];
	int rc = SQLITE_OK;
	enum sd_err e = SD_OK;

	if (st == NULL) {
		rc = sqlite3_prepare_v3(c->db, tx_sql[t], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		c->tx[t] = st;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		e = db_fail(c, rc, tx_sql[t]);
	if (st != NULL)
		sqlite3_reset(st);
	return e;
}

static int tx_open(struct sd_conn *c)
{
	return !sqlite3_get_autocommit(c->db);
}

/* SQLite itself rolls back on some errors (I/O, full disk, out of memory):
 * only roll back what is still open. */
static void tx_rollback(struct sd_conn *c)
{
	if (tx_open(c))
		(void)tx_step(c, TX_ROLLBACK);
}

/* ---- statements ------------------------------------------------------ */

static enum sd_err stmt_prepare(struct sd_conn *c, enum sd_stmt q)
{
	sqlite3_stmt *st = NULL;
	int rc =
	    sqlite3_prepare_v3(c->db, sd_sql_sqlite[q], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);

	if (rc != SQLITE_OK)
		return stmt_fail(c, rc, q);
	/* struct sd_row has room for SD_COLS_MAX columns: a wider statement is
	 * a bug of sql_sqlite.c, caught on its first use. */
	if (st == NULL || sqlite3_column_count(st) > SD_COLS_MAX) {
		sd_log_error("sqlite: statement %d is empty or has more than %d columns", (int)q,
		             SD_COLS_MAX);
		sqlite3_finalize(st);
		return SD_EINVAL;
	}
	c->stmt[q] = st;
	return SD_OK;
}

/* The statement for q, prepared on first use. */
static enum sd_err stmt_get(struct sd_conn *c, enum sd_stmt q, sqlite3_stmt **out)
{
	enum sd_err e;

	*out = NULL;
	if ((unsigned)q >= SQ__MAX || sd_sql_sqlite[q] == NULL) {
		sd_log_error("sqlite: no statement %d", (int)q);
		return SD_EINVAL;
	}
	if (c->stmt[q] == NULL && (e = stmt_prepare(c, q)) != SD_OK)
		return e;
	/* Still running: a row callback ran it again (driver.h forbids it).
	 * Resetting it here would pull the rows from under the caller. */
	if (sqlite3_stmt_busy(c->stmt[q])) {
		sd_log_error("sqlite: statement %d run from its own row callback", (int)q);
		return SD_EINVAL;
	}
	*out = c->stmt[q];
	return SD_OK;
}

/* SQLITE_STATIC: the caller's args outlive exec, and the bindings are
 * cleared before it returns. */
static int bind_one(sqlite3_stmt *st, int i, const struct sd_arg *a)
{
	if (a->type == SD_ARG_I64)
		return sqlite3_bind_int64(st, i, a->i64);
	if (a->type == SD_ARG_TEXT && a->text != NULL)
		return sqlite3_bind_text64(st, i, a->text, a->len, SQLITE_STATIC, SQLITE_UTF8);
	return sqlite3_bind_null(st, i);
}

static enum sd_err bind_args(struct sd_conn *c, enum sd_stmt q, sqlite3_stmt *st,
                             const struct sd_arg *args, int nargs)
{
	int rc;

	/* The tables and store.c must agree on every parameter: a count that
	 * differs is a bug, never something to run half-bound. */
	if (nargs != sqlite3_bind_parameter_count(st)) {
		sd_log_error("sqlite: statement %d takes %d parameters, got %d", (int)q,
		             sqlite3_bind_parameter_count(st), nargs);
		return SD_EINVAL;
	}
	for (int i = 0; i < nargs; i++)
		if ((rc = bind_one(st, i + 1, &args[i])) != SQLITE_OK)
			return stmt_fail(c, rc, q);
	return SD_OK;
}

/* Every column as text; sqlite3_column_text is NULL both for SQL NULL and
 * when converting ran out of memory, so the type tells them apart. */
static enum sd_err row_fill(sqlite3_stmt *st, struct sd_row *r)
{
	r->ncols = sqlite3_column_count(st);
	for (int i = 0; i < r->ncols; i++) {
		r->v[i] = NULL;
		r->len[i] = 0;
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			continue;
		r->v[i] = (const char *)sqlite3_column_text(st, i);
		if (r->v[i] == NULL)
			return SD_ENOMEM;
		r->len[i] = (size_t)sqlite3_column_bytes(st, i);
	}
	return SD_OK;
}

/* Step to the end (or until cb says stop), handing each row to cb. */
static enum sd_err run_rows(struct sd_conn *c, enum sd_stmt q, sqlite3_stmt *st, sd_row_cb cb,
                            void *ctx)
{
	struct sd_row r;
	enum sd_err e;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb == NULL)
			continue;
		if ((e = row_fill(st, &r)) != SD_OK)
			return e;
		if (cb(ctx, &r) != 0)
			return SD_OK;
	}
	return rc == SQLITE_DONE ? SD_OK : stmt_fail(c, rc, q);
}

static enum sd_err sq_exec(struct sd_conn *c, enum sd_stmt q, const struct sd_arg *args, int nargs,
                           sd_row_cb cb, void *ctx, struct sd_exec_result *res)
{
	sqlite3_stmt *st;
	enum sd_err e = stmt_get(c, q, &st);

	if (e == SD_OK)
		e = bind_args(c, q, st, args, nargs);
	if (e == SD_OK)
		e = run_rows(c, q, st, cb, ctx);
	if (st == NULL)
		return e;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	/* Read after the reset: a statement stopped early has its changes
	 * counted only once it is finished. sqlite3_changes keeps the last
	 * INSERT/UPDATE/DELETE's count, so a SELECT reports 0 itself. */
	if (e == SD_OK && res != NULL) {
		res->changes = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes(c->db);
		res->last_id = sqlite3_last_insert_rowid(c->db);
	}
	return e;
}

/* One migration statement. The SQL is ours (no secrets), so the error is
 * logged as SQLite wrote it. */
static enum sd_err sq_script(struct sd_conn *c, const char *sql, size_t len)
{
	char *text = malloc(len + 1), *msg = NULL;
	enum sd_err e = SD_OK;
	int rc;

	if (text == NULL)
		return SD_ENOMEM;
	memcpy(text, sql, len);
	text[len] = '\0';
	rc = sqlite3_exec(c->db, text, NULL, NULL, &msg);
	free(text);
	if (rc == SQLITE_OK)
		return SD_OK;
	/* A column or index added by hand (or by an interrupted run whose
	 * DDL outlived its bookkeeping): the runner counts it as done. */
	if (msg != NULL && (strstr(msg, "duplicate column name") || strstr(msg, "already exists")))
		e = SD_ECONFLICT;
	else if ((e = err_of(c->db, rc)) == SD_EDB)
		sd_log_error("sqlite: migration statement: %s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return e;
}

/* ---- group commit -----------------------------------------------------
 *
 * With synchronous=FULL every commit costs an fsync, and SQLite commits one
 * connection at a time: N worker threads writing separately would wait for
 * N fsyncs in a row. Instead every write of a process goes to one writer
 * thread per database, which runs all jobs that are waiting in a single
 * transaction (each job in its own savepoint, so one failing job undoes
 * only itself) and commits once. Jobs that arrive during a commit wait
 * together for the next one. A worker is answered only after the commit,
 * so a 201 still means "on disk". Reads stay on the worker's own
 * connection (WAL lets them run beside the writer). */

struct wjob {
	sd_write_fn fn;
	void *arg;
	enum sd_err rc; /* SD_OK until run */
	int done;
	pthread_cond_t done_cv; /* its worker alone waits here */
	struct wjob *next;
};

struct sq_writer {
	pthread_mutex_t mu;
	pthread_cond_t work;
	struct wjob *head, *tail;
	int stopping;
	int refs;
	char path[PATH_MAX];
	struct sd_conn *conn;
	pthread_t tid;
	struct sq_writer *next;
};

static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_writer *writers;

/* Every job still counted as a success (run or not) gets e instead. */
static void batch_fail(struct wjob *batch, enum sd_err e)
{
	for (struct wjob *j = batch; j != NULL; j = j->next)
		if (j->rc == SD_OK)
			j->rc = e;
}

static int batch_any_ok(const struct wjob *batch)
{
	for (const struct wjob *j = batch; j != NULL; j = j->next)
		if (j->rc == SD_OK)
			return 1;
	return 0;
}

/* One job in its own savepoint. Returns 0 when the transaction can no
 * longer be trusted: a savepoint statement failed, or SQLite rolled the
 * whole transaction back under the job (an I/O error, a full disk). */
static int job_run(struct sd_conn *w, struct wjob *j)
{
	if (tx_step(w, TX_SAVEPOINT) != SD_OK) {
		j->rc = SD_EDB;
		return 0;
	}
	j->rc = j->fn(w, j->arg);
	if (j->rc != SD_OK && tx_step(w, TX_ROLLBACK_TO) != SD_OK)
		return 0;
	if (tx_step(w, TX_RELEASE) != SD_OK) {
		if (j->rc == SD_OK)
			j->rc = SD_EDB;
		return 0;
	}
	return tx_open(w);
}

/* Run a batch in one transaction and commit it once. Each job's rc is set;
 * SD_OK only if the commit succeeded. */
static void batch_run(struct sd_conn *w, struct wjob *batch)
{
	enum sd_err e = tx_step(w, TX_BEGIN);

	if (e != SD_OK) {
		batch_fail(batch, e); /* SD_ERETRY: another process kept the lock */
		return;
	}
	for (struct wjob *j = batch; j != NULL; j = j->next)
		if (!job_run(w, j)) {
			/* What ran before may be gone: nothing of this batch
			 * can be reported as stored. */
			sd_log_error("sqlite: write transaction aborted");
			tx_rollback(w);
			batch_fail(batch, SD_EDB);
			return;
		}
	if (!batch_any_ok(batch)) {
		tx_rollback(w);
		return;
	}
	if (tx_step(w, TX_COMMIT) != SD_OK) {
		sd_log_error("sqlite: commit failed, the batch is undone");
		tx_rollback(w);
		batch_fail(batch, SD_EDB);
	}
}

static void *writer_main(void *arg)
{
	struct sq_writer *wr = arg;

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		struct wjob *batch, *j, *next;
		int64_t jobs;

		while (wr->head == NULL && !wr->stopping)
			pthread_cond_wait(&wr->work, &wr->mu);
		if (wr->head == NULL)
			break;
		batch = wr->head;
		wr->head = wr->tail = NULL;
		pthread_mutex_unlock(&wr->mu);
		batch_run(wr->conn, batch);
		pthread_mutex_lock(&wr->mu);
		/* A job lives on its worker's stack: read next before done.
		 * Waking each worker on its own condition wakes only the
		 * workers of this batch, not every thread with a job queued. */
		for (j = batch, jobs = 0; j != NULL; j = next, jobs++) {
			next = j->next;
			j->done = 1;
			pthread_cond_signal(&j->done_cv);
		}
		sd_metrics_commit_batch(jobs);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

/* Queue a job for the writer and wait for its commit. */
static enum sd_err writer_submit(struct sq_writer *wr, sd_write_fn fn, void *arg)
{
	struct wjob j = {.fn = fn, .arg = arg, .rc = SD_OK, .done_cv = PTHREAD_COND_INITIALIZER};

	/* From a job (on the writer thread) this would wait for itself. */
	if (pthread_equal(pthread_self(), wr->tid)) {
		sd_log_error("sqlite: write() called from inside a write job");
		return SD_EINVAL;
	}
	pthread_mutex_lock(&wr->mu);
	if (wr->tail != NULL)
		wr->tail->next = &j;
	else
		wr->head = &j;
	wr->tail = &j;
	pthread_cond_signal(&wr->work);
	while (!j.done)
		pthread_cond_wait(&j.done_cv, &wr->mu);
	pthread_mutex_unlock(&wr->mu);
	pthread_cond_destroy(&j.done_cv);
	return j.rc;
}

/* No writer (an in-memory database is private to its connection): a
 * transaction of this connection. */
static enum sd_err write_here(struct sd_conn *c, sd_write_fn fn, void *arg)
{
	enum sd_err e = tx_step(c, TX_BEGIN);

	if (e != SD_OK)
		return e;
	e = fn(c, arg);
	if (e == SD_OK && !tx_open(c)) {
		sd_log_error("sqlite: write transaction aborted");
		e = SD_EDB;
	}
	if (e == SD_OK && tx_step(c, TX_COMMIT) != SD_OK) {
		sd_log_error("sqlite: commit failed");
		e = SD_EDB;
	}
	if (e != SD_OK)
		tx_rollback(c);
	return e;
}

static enum sd_err sq_write(struct sd_conn *c, sd_write_fn fn, void *arg)
{
	if (c->writer == NULL)
		return write_here(c, fn, arg);
	return writer_submit(c->writer, fn, arg);
}

/* ---- connections ----------------------------------------------------- */

static int in_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0 || strncmp(path, "file::memory:", 13) == 0 ||
	       strstr(path, "mode=memory") != NULL;
}

#define CACHE_KIB 512 /* each connection's page cache cap */

static void conn_free(struct sd_conn *c)
{
	for (int i = 0; i < SQ__MAX; i++)
		sqlite3_finalize(c->stmt[i]);
	for (int i = 0; i < TX__MAX; i++)
		sqlite3_finalize(c->tx[i]);
	sqlite3_close(c->db);
	free(c);
}

/* WAL lets readers run beside the writer; FULL makes every commit durable
 * (with NORMAL a power cut can undo the last commits); trusted_schema=OFF
 * keeps a tampered schema from calling functions with side effects.
 * cache_size: the writer's connection fills its page cache with every new
 * page it writes and keeps it to the cap (SQLite's 2 MB by default, the
 * largest single block of the server's memory). The pages every write
 * reuses (each tree's inner pages and last leaves) fit in CACHE_KIB; any
 * other page is read again from the OS's page cache, a pread. A worker's
 * read connection holds far less, whatever the cap (bench/run: /send and
 * /fetch unchanged). */
static enum sd_err conn_setup(struct sd_conn *c, const char *path, const struct sd_config *cfg,
                              char *err, size_t errlen)
{
	char pragmas[320];

	sqlite3_busy_timeout(c->db, 5000);
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF; "
	         "PRAGMA trusted_schema=OFF; PRAGMA cache_size=-%d;",
	         cfg && !cfg->sqlite_sync_full ? "NORMAL" : "FULL", CACHE_KIB);
	if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up SQLite database %s: %s", path,
		         sqlite3_errmsg(c->db));
		return SD_EDB;
	}
	return SD_OK;
}

/* A connection of its own, without a writer. URI names are always parsed,
 * however SQLite was built, so in_memory() and SQLite agree. */
static enum sd_err conn_open(const char *path, const struct sd_config *cfg, struct sd_conn **out,
                             char *err, size_t errlen)
{
	struct sd_conn *c = calloc(1, sizeof *c);
	int flags =
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return SD_ENOMEM;
	}
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open SQLite database %s: %s", path,
		         c->db ? sqlite3_errmsg(c->db) : "out of memory");
		conn_free(c);
		return SD_EDB;
	}
	if (conn_setup(c, path, cfg, err, errlen) != SD_OK) {
		conn_free(c);
		return SD_EDB;
	}
	*out = c;
	return SD_OK;
}

static struct sq_writer *writer_find(const char *real)
{
	for (struct sq_writer *wr = writers; wr != NULL; wr = wr->next)
		if (strcmp(wr->path, real) == 0)
			return wr;
	return NULL;
}

/* A new writer with its own connection and thread; writers_mu is held. */
static struct sq_writer *writer_start(const char *path, const char *real,
                                      const struct sd_config *cfg, char *err, size_t errlen)
{
	struct sq_writer *wr = calloc(1, sizeof *wr);

	if (wr == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (conn_open(path, cfg, &wr->conn, err, errlen) != SD_OK) {
		free(wr);
		return NULL;
	}
	snprintf(wr->path, sizeof wr->path, "%s", real);
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->work, NULL);
	wr->refs = 1;
	if (pthread_create(&wr->tid, NULL, writer_main, wr) != 0) {
		snprintf(err, errlen, "cannot start the SQLite writer thread");
		conn_free(wr->conn);
		pthread_mutex_destroy(&wr->mu);
		pthread_cond_destroy(&wr->work);
		free(wr);
		return NULL;
	}
	wr->next = writers;
	writers = wr;
	return wr;
}

/* The process's writer for this database file, started on first use. The
 * file exists by now (the caller opened it), so realpath names it the same
 * way however it was spelt. */
static struct sq_writer *writer_acquire(const char *path, const struct sd_config *cfg, char *err,
                                        size_t errlen)
{
	struct sq_writer *wr;
	char real[PATH_MAX];

	if (realpath(path, real) == NULL)
		snprintf(real, sizeof real, "%s", path);
	pthread_mutex_lock(&writers_mu);
	if ((wr = writer_find(real)) != NULL)
		wr->refs++;
	else
		wr = writer_start(path, real, cfg, err, errlen);
	pthread_mutex_unlock(&writers_mu);
	return wr;
}

static void writer_release(struct sq_writer *wr)
{
	struct sq_writer **pp;

	pthread_mutex_lock(&writers_mu);
	if (--wr->refs > 0) {
		pthread_mutex_unlock(&writers_mu);
		return;
	}
	for (pp = &writers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == wr) {
			*pp = wr->next;
			break;
		}
	pthread_mutex_unlock(&writers_mu);
	pthread_mutex_lock(&wr->mu);
	wr->stopping = 1;
	pthread_cond_signal(&wr->work);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->tid, NULL);
	conn_free(wr->conn);
	pthread_mutex_destroy(&wr->mu);
	pthread_cond_destroy(&wr->work);
	free(wr);
}

static void sq_close(struct sd_conn *c)
{
	if (c == NULL)
		return;
	if (c->writer != NULL)
		writer_release(c->writer);
	conn_free(c);
}

static enum sd_err sq_open(const char *dsn, const struct sd_config *cfg, struct sd_conn **out,
                           char *err, size_t errlen)
{
	struct sd_conn *c;
	enum sd_err e = conn_open(dsn, cfg, &c, err, errlen);

	*out = NULL;
	if (e != SD_OK)
		return e;
	if (!in_memory(dsn) && (c->writer = writer_acquire(dsn, cfg, err, errlen)) == NULL) {
		conn_free(c);
		return SD_EDB;
	}
	*out = c;
	return SD_OK;
}

/* SQLite's write transactions already serialise every writer of the file
 * (and of this process, the writer thread): nothing to lock. */
static enum sd_err sq_lock(struct sd_conn *c, const char *name, int wait_s)
{
	(void)c;
	(void)name;
	(void)wait_s;
	return SD_OK;
}

static void sq_unlock(struct sd_conn *c, const char *name)
{
	(void)c;
	(void)name;
}

const struct sd_driver sd_driver_sqlite = {
    .name = "sqlite",
    .sql = sd_sql_sqlite,
    .migrations = sd_migrations_sqlite,
    .links_fold_case = 0,
    .reserve_reports_webhook = 0,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .write = sq_write,
    .script = sq_script,
    .lock = sq_lock,
    .unlock = sq_unlock,
};
